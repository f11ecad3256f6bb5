package bench

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is what `arrears bench` prints and writes as JSON.
type Result struct {
	Accounts   int `json:"accounts"`
	Months     int `json:"months"`
	Partitions int `json:"partitions"`
	Events     int `json:"events"`
	// PaymentsTopic: payments went to their own input topic, read first
	// (--payments-topic).
	PaymentsTopic bool `json:"payments_topic,omitempty"`
	// EventsPerSec: events / (first produce -> processor caught up and the
	// sink caught up, i.e. the last output committed and the last row in
	// ClickHouse).
	EventsPerSec float64 `json:"events_per_sec"`
	// ProcessorEventsPerSec stops the clock when the processor caught up.
	ProcessorEventsPerSec float64 `json:"processor_events_per_sec"`
	ProduceEventsPerSec   float64 `json:"produce_events_per_sec"`
	// Ceilings are the parts' own rates on the same data in the same run,
	// as input events per second.
	Ceilings            map[string]float64 `json:"ceilings_events_per_sec"`
	CeilingEventsPerSec float64            `json:"ceiling_events_per_sec"`
	Bottleneck          string             `json:"bottleneck"`
	Ratio               float64            `json:"ratio"`
	// The latency phase replays the workload at half of EventsPerSec and
	// times each payment to the dunning action decided on it.
	LatencyRate   float64 `json:"latency_rate_events_per_sec"`
	LatencyEvents int     `json:"latency_events"`
	Latency
	// BillRun is the --bill-run phase (nil without it).
	BillRun *BillRun `json:"bill_run,omitempty"`

	RedisBytesPerAccount float64 `json:"redis_bytes_per_account"`
	RedisAccounts        int64   `json:"redis_accounts"`
	RSSMB                float64 `json:"rss_mb"`
	SinkRSSMB            float64 `json:"sink_rss_mb"`
	StateWrites          int     `json:"state_writes"`
	// ClickHouseRows are the rows in the throughput phase's database after
	// it (every table but schema_migrations); SinkRows those the sink
	// counted inserting (arrears_sink_rows_inserted_total).
	ClickHouseRows int     `json:"clickhouse_rows"`
	RowsPerEvent   float64 `json:"rows_per_event"`
	SinkRows       int     `json:"sink_rows"`

	// Cost over the throughput phase: the children's CPU (utime + stime
	// from /proc) and heap objects allocated (go_memstats_mallocs_total),
	// per input event (per row for the sink); the pure core's from its
	// replay of the same events in the bench's own process.
	ProcessorCPUUsPerEvent  float64 `json:"processor_cpu_us_per_event"`
	ProcessorAllocsPerEvent float64 `json:"processor_allocs_per_event"`
	CoreCPUUsPerEvent       float64 `json:"core_cpu_us_per_event"`
	CoreAllocsPerEvent      float64 `json:"core_allocs_per_event"`
	CoreEvents              int     `json:"core_events"`
	CoreRejects             int     `json:"core_rejects"`
	SinkCPUUsPerRow         float64 `json:"sink_cpu_us_per_row"`
	SinkAllocsPerRow        float64 `json:"sink_allocs_per_row"`
	// ProcessorVsCoreCPU = processor / core CPU per event (the shell's
	// overhead; target <= 2); SinkRowVsCoreCPU = sink CPU per row / core
	// CPU per event (target <= 0.5).
	ProcessorVsCoreCPU float64 `json:"processor_vs_core_cpu"`
	SinkRowVsCoreCPU   float64 `json:"sink_row_vs_core_cpu"`
	// Seconds are the phases' wall times.
	Seconds map[string]float64 `json:"seconds"`
	// Loop is the processor's own account of its batches in the
	// throughput phase.
	Loop *LoopStats `json:"processor_loop,omitempty"`
}

// LoopStats are averages over the processor's transactions, from its
// histograms.
type LoopStats struct {
	Batches       int     `json:"transactions"`
	RecordsPerTxn float64 `json:"records_per_transaction"`
	BatchMs       float64 `json:"batch_ms"`
	CommitMs      float64 `json:"commit_ms"`
	StoreMs       float64 `json:"store_call_ms"`
}

// slowest sets the ceiling, the bottleneck and the ratio from Ceilings.
func (r *Result) slowest() {
	r.CeilingEventsPerSec = math.Inf(1)
	for _, n := range slices.Sorted(maps.Keys(r.Ceilings)) {
		if v := r.Ceilings[n]; v < r.CeilingEventsPerSec {
			r.CeilingEventsPerSec, r.Bottleneck = v, n
		}
	}
	r.Ratio = r.EventsPerSec / r.CeilingEventsPerSec
}

// Latency is payment -> action latency over a phase's samples.
type Latency struct {
	LatencySamples int      `json:"latency_samples"`
	P50Ms          *float64 `json:"p50_ms"`
	P99Ms          *float64 `json:"p99_ms"`
	MaxMs          *float64 `json:"max_ms"`
}

// setLatency sets the latency figures from the samples (ms).
func (r *Latency) setLatency(ms []float64) {
	r.LatencySamples = len(ms)
	if len(ms) == 0 {
		return
	}
	slices.Sort(ms)
	p50, p99, mx := quantile(ms, 0.50), quantile(ms, 0.99), ms[len(ms)-1]
	r.P50Ms, r.P99Ms, r.MaxMs = &p50, &p99, &mx
}

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// WriteTable writes the result as a table.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	f0 := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	ms := func(v *float64) string {
		if v == nil {
			return "n/a (no payment decided an action)"
		}
		return fmt.Sprintf("%.1f", *v)
	}
	row("workload", fmt.Sprintf("%d events, %d accounts, %d months, %d partitions", r.Events, r.Accounts, r.Months, r.Partitions))
	if r.PaymentsTopic {
		row("payments", "on their own input topic, read first")
	}
	row("end to end (events/s)", f0(r.EventsPerSec))
	row("processor only (events/s)", f0(r.ProcessorEventsPerSec))
	row("produce (events/s)", f0(r.ProduceEventsPerSec))
	for _, n := range slices.Sorted(maps.Keys(r.Ceilings)) {
		row("ceiling "+strings.ReplaceAll(n, "_", " ")+" (events/s)", f0(r.Ceilings[n]))
	}
	row("slowest part", fmt.Sprintf("%s, %.0f events/s", r.Bottleneck, r.CeilingEventsPerSec))
	row("ratio to the slowest part", fmt.Sprintf("%.2f", r.Ratio))
	row("latency load (events/s)", f0(r.LatencyRate))
	row("payment -> action samples", fmt.Sprint(r.LatencySamples))
	row("payment -> action p50 (ms)", ms(r.P50Ms))
	row("payment -> action p99 (ms)", ms(r.P99Ms))
	if l := r.Loop; l != nil {
		row("processor transactions", fmt.Sprintf("%d, %.0f records each, %.1f ms each (commit %.1f ms, Redis call %.1f ms)",
			l.Batches, l.RecordsPerTxn, l.BatchMs, l.CommitMs, l.StoreMs))
	}
	row("Redis bytes per account", fmt.Sprintf("%.0f (%d accounts)", r.RedisBytesPerAccount, r.RedisAccounts))
	if b := r.BillRun; b != nil {
		row("bill run", fmt.Sprintf("%d invoices at one instant beside %d events at %.0f events/s; burst in flight %.1f s",
			b.Invoices, b.StreamEvents, b.Rate, b.BurstSeconds))
		row("bill run payment -> action", fmt.Sprintf("during the burst p50 %s p99 %s ms (%d samples); whole phase p50 %s p99 %s ms (%d)",
			ms(b.Burst.P50Ms), ms(b.Burst.P99Ms), b.Burst.LatencySamples, ms(b.P50Ms), ms(b.P99Ms), b.LatencySamples))
	}
	row("processor peak RSS (MB)", fmt.Sprintf("%.0f", r.RSSMB))
	row("sink peak RSS (MB)", fmt.Sprintf("%.0f", r.SinkRSSMB))
	row("ClickHouse rows per event", fmt.Sprintf("%.2f (%d rows)", r.RowsPerEvent, r.ClickHouseRows))
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeCost(w)
}

// writeCost writes the cost table: CPU and allocations per unit of work
// and the ratios the targets are set in.
func (r *Result) writeCost(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nthroughput phase cost\tCPU us\tallocs\tper\t\n")
	for _, c := range []struct {
		name        string
		cpu, allocs float64
		per         string
	}{
		{"processor", r.ProcessorCPUUsPerEvent, r.ProcessorAllocsPerEvent, "event"},
		{"pure core", r.CoreCPUUsPerEvent, r.CoreAllocsPerEvent, "event"},
		{"sink", r.SinkCPUUsPerRow, r.SinkAllocsPerRow, "row"},
	} {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%s\t\n", c.name, c.cpu, c.allocs, c.per)
	}
	fmt.Fprintf(tw, "processor / core CPU\t%.2f\t(target <= 2)\t\t\n", r.ProcessorVsCoreCPU)
	fmt.Fprintf(tw, "sink row / core CPU\t%.2f\t(target <= 0.5)\t\t\n", r.SinkRowVsCoreCPU)
	return tw.Flush()
}
