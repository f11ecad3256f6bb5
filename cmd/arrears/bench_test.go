package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arrears/arrears/cmd/arrears/bench"
	"github.com/arrears/arrears/processor/testkit"
)

// TestMain lets the test binary stand in for the arrears binary: bench
// starts its `run` and `sink` children from os.Executable(), which under
// `go test` is this binary, marked by bench.ChildMarker.
func TestMain(m *testing.M) {
	if os.Getenv(bench.ChildMarker) == "1" {
		os.Exit(runMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestBenchSmall runs `arrears bench --json` on a small workload against the
// real stack and checks the JSON it writes: every field the benchmark
// promises, with values that can only come from a run that worked.
func TestBenchSmall(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	// the children run from this package's directory
	t.Setenv("ARREARS_CORE_POLICY_DIR", "../../deploy/policies")
	t.Setenv("ARREARS_CORE_SCORECARD", "../../deploy/risk/scorecard.yaml")
	t.Setenv("ARREARS_KAFKA_BROKERS", testkit.KafkaAddr)
	t.Setenv("ARREARS_REDIS_ADDRS", testkit.RedisAddr)
	t.Setenv("ARREARS_CLICKHOUSE_ADDRS", testkit.ClickHouseAddr)
	out := filepath.Join(t.TempDir(), "bench.json")
	// --payments-topic: the latency and bill-run phases' payments come on
	// their own topic, read first; their samples show they were decided
	args := []string{"--accounts", "1500", "--months", "3", "--partitions", "4", "--bill-run", "--payments-topic", "--json", out, "--dir", t.TempDir()}
	if err := cmdBench(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("bench JSON: %v\n%s", err, b)
	}
	num := func(k string) float64 {
		v, ok := got[k].(float64)
		if !ok {
			t.Errorf("%s = %v (%T), want a number", k, got[k], got[k])
		}
		return v
	}
	for _, k := range []string{"events_per_sec", "ceiling_events_per_sec", "ratio", "p50_ms", "p99_ms", "redis_bytes_per_account", "rss_mb",
		"sink_rss_mb", "processor_events_per_sec", "latency_rate_events_per_sec",
		"processor_cpu_us_per_event", "core_cpu_us_per_event", "sink_cpu_us_per_row", "rows_per_event",
		"processor_allocs_per_event", "core_allocs_per_event", "sink_allocs_per_row", "processor_vs_core_cpu", "sink_row_vs_core_cpu"} {
		if v := num(k); !(v > 0) {
			t.Errorf("%s = %v, want > 0", k, v)
		}
	}
	if num("events") < 10000 || num("latency_samples") < 1 || num("state_writes") < 1 || num("clickhouse_rows") < num("events")/2 {
		t.Errorf("counts: %s", b)
	}
	if p50, p99 := num("p50_ms"), num("p99_ms"); p50 > p99 {
		t.Errorf("p50 %v > p99 %v", p50, p99)
	}
	checkCost(t, num)
	ceil := got["ceilings_events_per_sec"].(map[string]any)
	for _, k := range []string{"kafka_consume", "redis_state_writes", "clickhouse_insert", "core"} {
		if v, _ := ceil[k].(float64); !(v > 0) {
			t.Errorf("ceiling %s = %v", k, ceil[k])
		}
	}
	if bn, _ := got["bottleneck"].(string); ceil[bn] != got["ceiling_events_per_sec"] {
		t.Errorf("bottleneck %q is not the slowest ceiling: %s", bn, b)
	}
	if r := num("ratio"); r != num("events_per_sec")/num("ceiling_events_per_sec") {
		t.Errorf("ratio %v != events_per_sec / ceiling", r)
	}
	// an end-to-end rate above the processor's alone would be a clock error
	if num("events_per_sec") > num("processor_events_per_sec") {
		t.Errorf("end to end faster than the processor alone: %s", b)
	}
	checkBillRun(t, got["bill_run"], num("accounts"))
	if got["payments_topic"] != true {
		t.Errorf("payments_topic = %v, want true", got["payments_topic"])
	}
	t.Logf("%s", strings.TrimSpace(string(b)))
}

// checkCost: the cost fields agree with each other and with the counts
// (the pure core replayed exactly the events the processor took).
func checkCost(t *testing.T, num func(string) float64) {
	t.Helper()
	if num("core_events") != num("events") {
		t.Errorf("core replayed %v events, the processor took %v", num("core_events"), num("events"))
	}
	if r, want := num("rows_per_event"), num("clickhouse_rows")/num("events"); r != want {
		t.Errorf("rows_per_event %v != clickhouse_rows / events %v", r, want)
	}
	if r, want := num("processor_vs_core_cpu"), num("processor_cpu_us_per_event")/num("core_cpu_us_per_event"); r != want {
		t.Errorf("processor_vs_core_cpu %v != processor / core CPU per event %v", r, want)
	}
	if r, want := num("sink_row_vs_core_cpu"), num("sink_cpu_us_per_row")/num("core_cpu_us_per_event"); r != want {
		t.Errorf("sink_row_vs_core_cpu %v != sink CPU per row / core CPU per event %v", r, want)
	}
	// the facts alone are a row for most events
	if sr := num("sink_rows"); sr < num("events")/2 || num("clickhouse_rows") < num("events")/2 {
		t.Errorf("sink inserted %v rows, ClickHouse holds %v, events %v", sr, num("clickhouse_rows"), num("events"))
	}
}

// checkBillRun: the bill run invoiced every account at once beside a
// stream of events, and its burst is part of its phase.
func checkBillRun(t *testing.T, v any, accounts float64) {
	t.Helper()
	br, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("bill_run = %v, want an object", v)
	}
	f := func(m map[string]any, k string) float64 { x, _ := m[k].(float64); return x }
	burst, _ := br["burst"].(map[string]any)
	if f(br, "invoices") != accounts || f(br, "stream_events") < 1 || !(f(br, "burst_seconds") > 0) || !(f(br, "seconds") >= f(br, "burst_seconds")) {
		t.Errorf("bill run: %v", br)
	}
	if f(burst, "latency_samples") > f(br, "latency_samples") || f(br, "latency_samples") < 1 {
		t.Errorf("bill run samples: %v in the burst of %v in the phase", f(burst, "latency_samples"), f(br, "latency_samples"))
	}
}

// TestBenchFlags: bad sizes are refused before anything runs.
func TestBenchFlags(t *testing.T) {
	err := cmdBench(context.Background(), []string{"--accounts", "0"})
	if err == nil || !strings.Contains(err.Error(), "--accounts") {
		t.Fatalf("err = %v, want a complaint about --accounts", err)
	}
	if err := cmdBench(context.Background(), []string{"--nope"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}
