package processor_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
)

// stoppingStore stops its instance's run at the first committed batch
// that applied input, the moment between the commit and the store write,
// and then writes the batch with the context it was given.
type stoppingStore struct {
	processor.Store
	stop context.CancelFunc
	once sync.Once
	done chan struct{}
	err  error
	put  map[string][]byte
	part int32
}

func (s *stoppingStore) Apply(ctx context.Context, p int32, epoch int64, b *processor.Batch) error {
	first := false
	if len(b.Applied) > 0 && len(b.Put) > 0 {
		s.once.Do(func() { first = true; s.stop() })
	}
	err := s.Store.Apply(ctx, p, epoch, b)
	if first {
		s.err, s.put, s.part = err, b.Put, p
		close(s.done)
	}
	return err
}

// TestStopAfterCommitWritesStore: a stop (the run's context cancelled)
// that lands after a transaction committed and before its store write
// lets the write finish: the next owner finds a store as current as the
// changelog. Before, the write failed with the cancelled context and the
// store stayed a batch behind until the next owner restored it (in CI
// this made TestGroupsAcrossPartitions read account states older than the
// group aggregates built from the changelog).
func TestStopAfterCommitWritesStore(t *testing.T) {
	h := newHarness(t, 2)
	h.env = policyEnv(t)
	h.produceAll(h.workload(3, 300, 20, 0))
	var s *stoppingStore
	h.storeFor = func(st processor.Store, stop context.CancelFunc) processor.Store {
		s = &stoppingStore{Store: st, stop: stop, done: make(chan struct{})}
		return s
	}
	stop := h.start("a")
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatal("no committed batch reached the store in 60 s")
	}
	stop()
	if s.err != nil {
		t.Fatalf("the store write after the commit failed once the run was stopped: %v", s.err)
	}
	stored := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	for acct, want := range s.put {
		if got := stored[acct]; got != string(want) {
			t.Errorf("account %s of partition %d: the store holds %d bytes, the committed batch %d", acct, s.part, len(got), len(want))
		}
	}
}
