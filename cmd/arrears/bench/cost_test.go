package bench

import (
	"bytes"
	"os"
	"regexp"
	"testing"
	"time"
)

// TestProcCPU: /proc/<pid>/stat's CPU of this process agrees with
// getrusage to within its 10 ms ticks after burning some CPU.
func TestProcCPU(t *testing.T) {
	start := processCPU()
	x := 0
	for processCPU()-start < 200*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	got, err := procCPU(os.Getpid())
	after := processCPU()
	if err != nil {
		t.Fatal(err)
	}
	if got < start+150*time.Millisecond || got > after+20*time.Millisecond {
		t.Errorf("/proc CPU %s, getrusage %s before the burn and %s after (sum %d)", got, start, after, x)
	}
	if _, err := procCPU(-1); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

// TestSetCost: the cost fields are the quotients of what was measured and
// the ratios the quotients of the fields; the core ceiling joins the
// others.
func TestSetCost(t *testing.T) {
	r := &Result{Events: 1000, Ceilings: map[string]float64{"clickhouse_insert": 5000}}
	proc := usage{cpu: 40 * time.Millisecond, allocs: 90000}
	sink := usage{cpu: 8 * time.Millisecond, allocs: 16000, rows: 4000}
	r.setCost(proc, sink, 4200, coreCost{events: 1000, cpu: 10 * time.Millisecond, wall: 100 * time.Millisecond, allocs: 25000})
	want := map[string][2]float64{
		"processor_cpu_us_per_event": {r.ProcessorCPUUsPerEvent, 40},
		"processor_allocs_per_event": {r.ProcessorAllocsPerEvent, 90},
		"core_cpu_us_per_event":      {r.CoreCPUUsPerEvent, 10},
		"core_allocs_per_event":      {r.CoreAllocsPerEvent, 25},
		"sink_cpu_us_per_row":        {r.SinkCPUUsPerRow, 2},
		"sink_allocs_per_row":        {r.SinkAllocsPerRow, 4},
		"rows_per_event":             {r.RowsPerEvent, 4.2},
		"processor_vs_core_cpu":      {r.ProcessorVsCoreCPU, 4},
		"sink_row_vs_core_cpu":       {r.SinkRowVsCoreCPU, 0.2},
		"core ceiling":               {r.Ceilings["core"], 10000},
	}
	for k, v := range want {
		if d := v[0] - v[1]; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", k, v[0], v[1])
		}
	}
	if r.SinkRows != 4000 || r.ClickHouseRows != 4200 || r.CoreEvents != 1000 {
		t.Errorf("counts: sink rows %d, ClickHouse rows %d, core events %d", r.SinkRows, r.ClickHouseRows, r.CoreEvents)
	}
	r.slowest()
	if r.Bottleneck != "clickhouse_insert" {
		t.Errorf("bottleneck %s, want clickhouse_insert (the core's 10000 events/s is faster)", r.Bottleneck)
	}
	var out bytes.Buffer
	if err := r.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`processor / core CPU +4\.00 `, `sink row / core CPU +0\.20 `, `pure core +10\.0 +25\.0 +event`, `rows per event +4\.20 `} {
		if !regexp.MustCompile(s).MatchString(out.String()) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
}
