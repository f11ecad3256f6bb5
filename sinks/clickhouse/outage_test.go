package chsink

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
)

// privateClickHouse is a ClickHouse server of this test's own (same
// package, own ports and data directory), so stopping it disturbs no other
// test running in parallel against the shared one.
const privateTCP, privateHTTP = "19131", "18131"

// clickhouseCtl runs deploy/local/clickhouse.sh stop|start on the private server.
func clickhouseCtl(t *testing.T, dir, op string) {
	t.Helper()
	cmd := exec.Command("bash", "../../deploy/local/clickhouse.sh", op)
	cmd.Env = append(os.Environ(), "ARREARS_STATE_DIR="+dir,
		"ARREARS_CLICKHOUSE_PORT="+privateTCP, "ARREARS_CLICKHOUSE_HTTP_PORT="+privateHTTP)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse.sh %s: %v\n%s", op, err, out)
	}
}

// outageLength is how long TestSinkClickHouseOutage keeps ClickHouse down:
// 5 s in CI, ARREARS_TEST_CH_OUTAGE (e.g. 60s) for the full-length check.
func outageLength(t *testing.T) time.Duration {
	v := os.Getenv("ARREARS_TEST_CH_OUTAGE")
	if v == "" {
		return 5 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("ARREARS_TEST_CH_OUTAGE: %v", err)
	}
	return d
}

// TestSinkClickHouseOutage stops a private ClickHouse server for a few
// seconds while records keep arriving: the sink must pause, hold its
// position with at most one batch in memory, and drain everything once the
// server is back, without losing or duplicating rows.
func TestSinkClickHouseOutage(t *testing.T) {
	testkit.Integration(t, "kafka", "clickhouse")
	dir := t.TempDir()
	clickhouseCtl(t, dir, "start")
	t.Cleanup(func() { clickhouseCtl(t, dir, "stop") })
	h := newHarnessAt(t, "127.0.0.1:"+privateTCP)
	h.cfg.StallTimeout = 2 * time.Second
	w1 := h.buildWorkload("o1", 100)
	h.produceTx(w1.records, false)
	stop := h.start()
	defer func() {
		if stop != nil {
			_ = stop()
		}
	}()
	h.waitFor(w1.want, 60*time.Second)

	down := time.Now()
	clickhouseCtl(t, dir, "stop")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			clickhouseCtl(t, dir, "start")
		}
	})
	w2 := h.buildWorkload("o2", 300)
	h.produceTx(w2.records, false)

	// The sink notices, retries and pauses fetching; its buffer stays bounded.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && (value(h.m.Paused) != 1 || value(h.m.Retries.WithLabelValues("events")) < 2) {
		time.Sleep(100 * time.Millisecond)
	}
	if value(h.m.Paused) != 1 {
		t.Errorf("sink did not pause fetching during the outage")
	}
	if got := value(h.m.BufferedRows); got > float64(h.cfg.BatchRows)+2 {
		t.Errorf("buffered %v rows during the outage, more than batch_rows %d", got, h.cfg.BatchRows)
	}
	// Records wait with no commit: past stall_timeout the sink says so
	// (/readyz turns unready on it).
	for deadline := time.Now().Add(h.cfg.StallTimeout + 5*time.Second); time.Now().Before(deadline) && !h.s.Stalled(); {
		time.Sleep(100 * time.Millisecond)
	}
	if !h.s.Stalled() || stalledGauge(t, h) != 1 {
		t.Errorf("sink not stalled %s into the outage (gauge %v)", time.Since(down).Round(time.Second), stalledGauge(t, h))
	}
	if d := time.Since(down); d < outageLength(t) {
		time.Sleep(outageLength(t) - d)
	}
	clickhouseCtl(t, dir, "start")
	restarted = true
	t.Logf("ClickHouse was down for %s; %v insert retries", time.Since(down).Round(time.Second), value(h.m.Retries.WithLabelValues("events")))

	want := map[string]uint64{}
	for tb, n := range w1.want {
		want[tb] += n
	}
	for tb, n := range w2.want {
		want[tb] += n
	}
	h.waitFor(want, 120*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	stop = nil
	if value(h.m.Paused) != 0 {
		t.Errorf("sink still paused after draining")
	}
	if h.s.Stalled() {
		t.Errorf("sink still stalled after draining")
	}
	if got, want := value(h.m.DeadLettered.WithLabelValues(h.kcfg.Topics.Actions, "reject")), float64(w1.rejected+w2.rejected); got != want {
		t.Errorf("%v rows dead-lettered as rejected, want the workload's %v: an outage must be retried, never dead-lettered", got, want)
	}
}

// stalledGauge reads arrears_sink_stalled from the running sink's registry.
func stalledGauge(t *testing.T, h *harness) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "arrears_sink_stalled" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("arrears_sink_stalled not registered")
	return -1
}
