package processor_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
)

// fakeKafka points the harness at an in-process kfake cluster holding the
// harness's topics, for fault injection. Redis stays the real one.
func fakeKafka(t *testing.T, h *harness) *kfake.Cluster {
	t.Helper()
	topics := append(h.kcfg.Topics.Inputs(), h.kcfg.Topics.Outputs()...)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(h.kcfg.Partitions), topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h.kcfg.Brokers = c.ListenAddrs()
	return c
}

// failingCodec fails every EncodeAction with a non-transient error for a
// window of wall time starting at the first call.
type failingCodec struct {
	processor.Codec
	window time.Duration
	mu     sync.Mutex
	first  time.Time
	failed int
}

func (c *failingCodec) EncodeAction(ctx context.Context, topic string, a *event.DunningAction) ([]byte, error) {
	c.mu.Lock()
	if c.first.IsZero() {
		c.first = time.Now()
	}
	fail := time.Since(c.first) < c.window
	if fail {
		c.failed++
	}
	c.mu.Unlock()
	if fail {
		return nil, errors.New("injected encode failure")
	}
	return c.Codec.EncodeAction(ctx, topic, a)
}

// TestEncodeFailureBacksOff: a transaction aborted because an output would
// not encode is retried after a growing backoff and counted; the input is
// neither lost nor dead-lettered, and every action is emitted once.
func TestEncodeFailureBacksOff(t *testing.T) {
	h := newHarness(t, 2)
	fakeKafka(t, h)
	h.env = policyEnv(t)
	recs := h.workload(5, 600, 40, 0)
	h.produceAll(recs)
	ref := h.referenceRun()

	reg := prometheus.NewRegistry()
	h.reg = reg
	codec := &failingCodec{Codec: h.codec, window: 1500 * time.Millisecond}
	h.codecFor = func() processor.Codec { return codec }
	stop := h.start("a")
	h.waitCaughtUp(h.group, 90*time.Second)
	stop()

	if codec.failed == 0 {
		t.Fatal("no encode failure was injected")
	}
	// Backoff 100, 200, 400, 800 ms: a 1.5 s window holds 3 to 5 failed
	// transactions; retrying hot would abort hundreds.
	aborted := counter(t, reg, "arrears_processor_transactions_aborted_total")
	if aborted < 3 || aborted > 6 {
		t.Errorf("aborted transactions counted %v in a 1.5 s failure window, want 3..6 (backoff)", aborted)
	}
	if n := counter(t, reg, "arrears_processor_batch_failures_total"); n != aborted {
		t.Errorf("batch failures counted %v, want %v (one per aborted transaction)", n, aborted)
	}
	compareActions(t, h.actionIDs(), ref.actions)
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
}

// TestEndErrorRestartsSession: the broker answers the first commit's
// EndTxn with PRODUCER_FENCED, an error franz-go says not to retry. The
// processor closes the session, starts a new one from the committed
// offsets and ends with the same actions and states as an undisturbed run.
func TestEndErrorRestartsSession(t *testing.T) {
	h := newHarness(t, 2)
	c := fakeKafka(t, h)
	h.env = policyEnv(t)
	recs := h.workload(6, 600, 40, 0)
	h.produceAll(recs)
	ref := h.referenceRun()

	var injected atomic.Int32
	c.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.EndTxnRequest)
		if !r.Commit || r.TransactionalID != h.group+"-a" || injected.Load() > 0 {
			c.KeepControl()
			return nil, nil, false
		}
		injected.Add(1)
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.ProducerFenced.Code
		return resp, nil, true
	})
	reg := prometheus.NewRegistry()
	h.reg = reg
	stop := h.start("a")
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	if injected.Load() != 1 {
		t.Fatalf("EndTxn error injected %d times, want 1", injected.Load())
	}
	if n := counter(t, reg, "arrears_processor_session_restarts_total"); n < 1 {
		t.Errorf("session restarts counted %v, want >= 1", n)
	}
	compareActions(t, h.actionIDs(), ref.actions)
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
}

// counter is the value of a registered counter.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	v, ok := counterValue(t, reg, name, "", "")
	if !ok {
		t.Fatalf("metric %s not registered", name)
	}
	return v
}
