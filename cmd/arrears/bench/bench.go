package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/workload"
	"github.com/arrears/arrears/schemas"
)

// benchOptions are `arrears bench`'s flags.
type benchOptions struct {
	Accounts   int
	Months     int
	Seed       uint64
	Partitions int
	// LatencyEvents caps the events replayed at half rate for the latency
	// phase (0: the whole workload).
	LatencyEvents int
	JSON          string
	Keep          bool
	// Bin is the arrears binary started as `run` and `sink` (default: this one).
	Bin     string
	Config  string
	WorkDir string
	// Profile, when set, is where the throughput phase saves CPU profiles
	// of run and sink (ProfileSeconds from the first produce) and run's heap
	// at the end of the phase.
	Profile        string
	ProfileSeconds int
}

// benchResult is what `arrears bench` prints and writes as JSON.
type benchResult struct {
	Accounts   int `json:"accounts"`
	Months     int `json:"months"`
	Partitions int `json:"partitions"`
	Events     int `json:"events"`
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
	LatencyRate    float64  `json:"latency_rate_events_per_sec"`
	LatencyEvents  int      `json:"latency_events"`
	LatencySamples int      `json:"latency_samples"`
	P50Ms          *float64 `json:"p50_ms"`
	P99Ms          *float64 `json:"p99_ms"`
	MaxMs          *float64 `json:"max_ms"`

	RedisBytesPerAccount float64 `json:"redis_bytes_per_account"`
	RedisAccounts        int64   `json:"redis_accounts"`
	RSSMB                float64 `json:"rss_mb"`
	SinkRSSMB            float64 `json:"sink_rss_mb"`
	StateWrites          int     `json:"state_writes"`
	ClickHouseRows       int     `json:"clickhouse_rows"`
	// Seconds are the phases' wall times.
	Seconds map[string]float64 `json:"seconds"`
	// Loop is the processor's own account of its batches in the
	// throughput phase.
	Loop *loopStats `json:"processor_loop,omitempty"`
}

// loopStats are averages over the processor's transactions.
type loopStats struct {
	Batches       int     `json:"transactions"`
	RecordsPerTxn float64 `json:"records_per_transaction"`
	BatchMs       float64 `json:"batch_ms"`
	CommitMs      float64 `json:"commit_ms"`
	StoreMs       float64 `json:"store_call_ms"`
}

// cmdBench: `arrears bench [--accounts N] [--months M] [--json FILE]` runs a
// generated workload through the real stack and measures it against the
// ceilings of its parts; see docs/bench.md.
func cmdBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := benchOptions{}
	fs.IntVar(&o.Accounts, "accounts", 100000, "accounts in the generated book")
	fs.IntVar(&o.Months, "months", 3, "simulated months")
	fs.Uint64Var(&o.Seed, "seed", 7, "workload seed")
	fs.IntVar(&o.Partitions, "partitions", 12, "partitions of the bench topics")
	fs.IntVar(&o.LatencyEvents, "latency-events", 0, "events replayed at half rate for the latency phase (0: all)")
	fs.StringVar(&o.JSON, "json", "", "also write the result as JSON to FILE")
	fs.BoolVar(&o.Keep, "keep", false, "keep the bench topics, Redis keys and ClickHouse databases")
	fs.StringVar(&o.Bin, "bin", "", "arrears binary to start as run and sink (default: this one)")
	fs.StringVar(&o.WorkDir, "dir", "", "directory for the children's logs (default: a temporary one)")
	fs.StringVar(&o.Profile, "profile", "", "save CPU profiles of run and sink and run's heap from the throughput phase in DIR")
	fs.IntVar(&o.ProfileSeconds, "profile-seconds", 15, "length of the CPU profiles")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if f := fs.Lookup("config"); f != nil {
		o.Config = f.Value.String()
	}
	res, err := runBench(ctx, cfg, o, os.Stderr)
	if err != nil {
		return err
	}
	printBench(os.Stdout, res)
	if o.JSON != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		if err := writeOut(o.JSON, append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// runBench is the whole benchmark: generate, throughput phase, ceilings,
// latency phase, cleanup. Progress goes to logw.
func runBench(ctx context.Context, cfg config.Config, o benchOptions, logw io.Writer) (*benchResult, error) {
	if o.Accounts < 1 || o.Months < 1 || o.Partitions < 1 {
		return nil, fmt.Errorf("--accounts, --months and --partitions must be >= 1")
	}
	if len(cfg.Kafka.Topics.ExtraInputs) > 0 {
		return nil, fmt.Errorf("bench runs on its own topics: unset kafka.topics.extra_inputs")
	}
	if o.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Bin = exe
	}
	if o.WorkDir == "" {
		d, err := os.MkdirTemp("", "arrears-bench-")
		if err != nil {
			return nil, err
		}
		o.WorkDir = d
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(logw, "[%s] bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	res := &benchResult{Accounts: o.Accounts, Months: o.Months, Partitions: o.Partitions, Seconds: map[string]float64{},
		Ceilings: map[string]float64{}}
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}

	// the workload, encoded once, in memory
	t := time.Now()
	recs, pays, err := benchWorkload(ctx, codec, cfg.Kafka.Topics.Events, o)
	if err != nil {
		return nil, err
	}
	res.Events = len(recs)
	res.Seconds["generate"] = time.Since(t).Seconds()
	say("generated %d events for %d accounts over %d months in %s", len(recs), o.Accounts, o.Months, time.Since(t).Round(time.Millisecond))

	id := fmt.Sprintf("bench%d", time.Now().UnixMilli())
	a := newBenchStack(cfg, o, id+"a")
	var stacks []*benchStack
	defer func() {
		if o.Keep {
			return
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, s := range stacks {
			if err := s.cleanup(cctx); err != nil {
				say("cleanup %s: %v", s.id, err)
			}
		}
	}()

	// 1. throughput: the processor and the sink running, the workload produced as fast as Kafka takes it
	stacks = append(stacks, a)
	say("throughput phase on topics %s.* (logs in %s)", a.id, o.WorkDir)
	if err := a.phaseThroughput(ctx, recs, res); err != nil {
		return nil, err
	}
	say("%.0f events/s end to end (%.0f events/s to the processor's last commit)", res.EventsPerSec, res.ProcessorEventsPerSec)

	// 2. the parts' ceilings on the same data
	if err := a.ceilings(ctx, codec, res, say); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(res.Ceilings))
	for n := range res.Ceilings {
		names = append(names, n)
	}
	sort.Strings(names)
	res.CeilingEventsPerSec = math.Inf(1)
	for _, n := range names {
		if v := res.Ceilings[n]; v < res.CeilingEventsPerSec {
			res.CeilingEventsPerSec, res.Bottleneck = v, n
		}
	}
	res.Ratio = res.EventsPerSec / res.CeilingEventsPerSec

	// 3. latency at half load, on fresh topics and state
	b := newBenchStack(cfg, o, id+"b")
	stacks = append(stacks, b)
	n := len(recs)
	if o.LatencyEvents > 0 && o.LatencyEvents < n {
		n = o.LatencyEvents
	}
	res.LatencyRate = res.EventsPerSec / 2
	res.LatencyEvents = n
	say("latency phase: %d events at %.0f events/s on topics %s.*", n, res.LatencyRate, b.id)
	lat, err := b.phaseLatency(ctx, codec, recs[:n], pays, int(res.LatencyRate))
	if err != nil {
		return nil, err
	}
	res.Seconds["latency"] = lat.seconds
	res.LatencySamples = len(lat.ms)
	if len(lat.ms) > 0 {
		slices.Sort(lat.ms)
		p50, p99, mx := quantile(lat.ms, 0.50), quantile(lat.ms, 0.99), lat.ms[len(lat.ms)-1]
		res.P50Ms, res.P99Ms, res.MaxMs = &p50, &p99, &mx
	}
	return res, nil
}

// payKey identifies a payment by account and event time (ms): a dunning
// action decided on the payment carries the same account and, as its time,
// the partition clock the payment set.
type payKey struct {
	account string
	ms      int64
}

// benchWorkload generates and encodes the workload; pays maps each
// PaymentReceived to its record index.
func benchWorkload(ctx context.Context, codec *schemas.Codec, topic string, o benchOptions) ([]*kgo.Record, map[payKey]int, error) {
	g := workload.New(workload.Options{Seed: o.Seed, Accounts: o.Accounts, Months: o.Months,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Partitions: o.Partitions, TickEvery: time.Hour})
	var recs []*kgo.Record
	pays := map[payKey]int{}
	for ev, ok := g.Next(); ok; ev, ok = g.Next() {
		rec, err := eventRecord(ctx, codec, topic, ev, false)
		if err != nil {
			return nil, nil, err
		}
		if ev.Body.Kind() == event.KindPaymentReceived {
			pays[payKey{ev.Account, ev.Time.UnixMilli()}] = len(recs)
		}
		recs = append(recs, rec)
	}
	return recs, pays, nil
}

// quantile of sorted values (nearest rank).
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// printBench writes the result as a table.
func printBench(w io.Writer, r *benchResult) {
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
	row("end to end (events/s)", f0(r.EventsPerSec))
	row("processor only (events/s)", f0(r.ProcessorEventsPerSec))
	row("produce (events/s)", f0(r.ProduceEventsPerSec))
	names := make([]string, 0, len(r.Ceilings))
	for n := range r.Ceilings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
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
	row("processor peak RSS (MB)", fmt.Sprintf("%.0f", r.RSSMB))
	row("sink peak RSS (MB)", fmt.Sprintf("%.0f", r.SinkRSSMB))
	_ = tw.Flush()
}
