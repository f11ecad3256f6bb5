package chsink

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// TestSinkRegistryOutage: the schema registry answers 503 while
// Confluent-framed records wait, and the sink has never seen their schema
// ids. The sink retries (retries_total{decode}), lands nothing, dead-letters
// nothing and says it is stalled; once the registry is back everything
// lands and the only dead letters are those of the workload's bad records.
// The same classifier (errors.go) decides as for ClickHouse and Kafka.
func TestSinkRegistryOutage(t *testing.T) {
	fake := srfake.New()
	defer fake.Close()
	var down atomic.Bool
	fake.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if down.Load() {
			http.Error(w, "registry down", http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	h := newHarness(t)
	h.cfg.StallTimeout = 2 * time.Second
	var err error
	if h.codec, err = schemas.New(schemas.Config{RegistryURL: fake.URL()}); err != nil {
		t.Fatal(err)
	}
	if h.sinkCodec, err = schemas.New(schemas.Config{RegistryURL: fake.URL(), RegistryTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	w := h.buildWorkload("r1", 100) // registers the schemas: records are Confluent-framed
	down.Store(true)
	h.produceTx(w.records, false)
	stop := h.start()
	defer func() {
		if stop != nil {
			_ = stop()
		}
	}()
	deadline := time.Now().Add(h.cfg.StallTimeout + 10*time.Second)
	for time.Now().Before(deadline) && (!h.s.Stalled() || value(h.m.Retries.WithLabelValues("decode")) < 2) {
		time.Sleep(100 * time.Millisecond)
	}
	if !h.s.Stalled() || value(h.m.Retries.WithLabelValues("decode")) < 2 {
		t.Errorf("registry down: stalled %v after %v decode retries", h.s.Stalled(), value(h.m.Retries.WithLabelValues("decode")))
	}
	final, _ := h.counts()
	for tb, n := range final {
		if n != 0 {
			t.Errorf("registry down: %s holds %d rows", tb, n)
		}
	}
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 2*time.Second) {
		if d, err := h.codec.DecodeDeadLetter(t.Context(), r.Value); err != nil || d.ErrorClass == "sink" {
			t.Errorf("registry down: sink dead letter %+v (%v)", d, err)
		}
	}

	down.Store(false)
	h.waitFor(w.want, 90*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	stop = nil
	var fromSink int
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 3*time.Second) {
		d, err := h.codec.DecodeDeadLetter(t.Context(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.ErrorClass == "sink" {
			fromSink++
			if strings.Contains(d.Reason, "registry") {
				t.Errorf("dead-lettered for the registry: %s", d.Reason)
			}
		}
	}
	if fromSink != w.garbage+w.rejected {
		t.Errorf("%d sink dead letters, want the workload's %d", fromSink, w.garbage+w.rejected)
	}
}
