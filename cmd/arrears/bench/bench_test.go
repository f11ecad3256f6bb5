package bench

import (
	"bytes"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/workload"
)

// TestChildConfig: a child reads, from the file the bench writes, the
// stack's private names and simulated time on the base config's services,
// whatever ARREARS_* variables the bench itself runs with.
func TestChildConfig(t *testing.T) {
	base := config.Defaults()
	base.Kafka.Brokers, base.Redis.Password = []string{"k9:9092"}, "pw"
	base.Processor.TickInterval = 5
	s := newStack(base, Options{Workload: workload.Options{Partitions: 4}, WorkDir: t.TempDir()}, "benchX")
	path := filepath.Join(s.o.WorkDir, "child.yaml")
	secrets, err := s.cfg.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := append(config.ChildEnv([]string{"ARREARS_KAFKA_TOPICS_EVENTS=ar.events", "ARREARS_REDIS_PREFIX=arrears", "PATH=/bin"}), secrets...)
	got, err := config.Read(path, env)
	if err != nil {
		t.Fatal(err)
	}
	k := got.Kafka
	if k.Topics.Events != "benchX.events" || k.Topics.Accepted != "benchX.accepted" || k.Topics.DLQ != "benchX.dlq" || k.Partitions != 4 {
		t.Errorf("kafka section: %+v", k)
	}
	if k.Brokers[0] != "k9:9092" || got.Redis.Password != "pw" {
		t.Errorf("base services lost: brokers %v, redis password set %v", k.Brokers, got.Redis.Password != "")
	}
	if got.Redis.Prefix != "benchX" || got.ClickHouse.Database != "benchX" || got.Processor.GroupID != "benchX" || got.Sink.GroupID != "benchX-sink" {
		t.Errorf("private names: redis %q clickhouse %q groups %q %q", got.Redis.Prefix, got.ClickHouse.Database, got.Processor.GroupID, got.Sink.GroupID)
	}
	if got.Processor.Time != processor.TimeSimulated || got.Processor.TickInterval != 0 {
		t.Errorf("processor time %q, tick interval %s: want simulated, no ticker", got.Processor.Time, got.Processor.TickInterval)
	}
}

// TestLoopStatsFromMetrics: the processor's histograms, as a registry
// exposes them, give per-transaction averages.
func TestLoopStatsFromMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := func(name string) prometheus.Histogram {
		c := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: name})
		reg.MustRegister(c)
		return c
	}
	records, batch, commit, store := h("arrears_processor_batch_records"), h("arrears_processor_batch_seconds"),
		h("arrears_processor_commit_seconds"), h("arrears_processor_store_apply_seconds")
	for _, n := range []float64{100, 300} {
		records.Observe(n)
	}
	batch.Observe(0.2)
	batch.Observe(0.4)
	commit.Observe(0.1)
	commit.Observe(0.1)
	for range 4 {
		store.Observe(0.01)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, f := range fams {
		if _, err := expfmt.MetricFamilyToText(&buf, f); err != nil {
			t.Fatal(err)
		}
	}
	parsed, err := parseMetrics(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := loopStatsOf(parsed)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if got == nil || got.Batches != 2 || !near(got.RecordsPerTxn, 200) || !near(got.BatchMs, 300) || !near(got.CommitMs, 100) || !near(got.StoreMs, 10) {
		t.Errorf("loop stats = %+v, want 2 transactions, 200 records, 300 ms, commit 100 ms, store 10 ms", got)
	}
	if loopStatsOf(nil) != nil {
		t.Error("no metrics gave loop stats")
	}
	if _, err := parseMetrics(strings.NewReader("arrears_processor_batch_seconds_count{ 1\n")); err == nil {
		t.Error("malformed exposition accepted")
	}
}

func TestSlowestAndLatency(t *testing.T) {
	r := &Result{EventsPerSec: 50, Ceilings: map[string]float64{"kafka_consume": 1000, "redis_state_writes": 200, "clickhouse_insert": 400}}
	r.slowest()
	if r.Bottleneck != "redis_state_writes" || r.CeilingEventsPerSec != 200 || r.Ratio != 0.25 {
		t.Errorf("slowest: %s %v ratio %v", r.Bottleneck, r.CeilingEventsPerSec, r.Ratio)
	}
	r.setLatency([]float64{5, 1, 3, 2, 4})
	if r.LatencySamples != 5 || *r.P50Ms != 3 || *r.P99Ms != 5 || *r.MaxMs != 5 {
		t.Errorf("latency: %d samples, p50 %v p99 %v max %v", r.LatencySamples, *r.P50Ms, *r.P99Ms, *r.MaxMs)
	}
	var none Result
	none.setLatency(nil)
	if none.P50Ms != nil {
		t.Error("no samples gave a p50")
	}
	var table bytes.Buffer
	if err := none.WriteTable(&table); err != nil || !strings.Contains(table.String(), "n/a") {
		t.Errorf("table without latency: %v\n%s", err, table.String())
	}
}

func TestOptionsValidate(t *testing.T) {
	w := workload.Options{Accounts: 1, Months: 1, Partitions: 1, TickEvery: time.Hour}
	if err := (Options{Workload: w, ProfileSeconds: 1}).Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []func(o *Options){
		func(o *Options) { o.Workload.Accounts = 0 },
		func(o *Options) { o.Workload.Partitions = 0 },
		func(o *Options) { o.Workload.TickEvery = 0 },
		func(o *Options) { o.LatencyEvents = -1 },
		func(o *Options) { o.ProfileSeconds = 0 },
	}
	for i, f := range bad {
		o := Options{Workload: w, ProfileSeconds: 1}
		f(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, o)
		}
	}
}
