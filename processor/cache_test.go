package processor_test

import (
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
)

// TestSmallCache runs a book of 800 accounts through partitions that keep
// at most 8 decoded accounts each, in polls of 120 records: nearly every
// event evicts, reloads and decodes into a state an eviction emptied
// (partition.newState). The
// outcome equals the reference run's: states, actions, risk events, GL.
func TestSmallCache(t *testing.T) {
	h := newHarness(t, 6)
	h.env = fullEnv(t)
	h.poll = 120
	h.tune = func(c *processor.Config) {
		c.Time = processor.TimeSimulated
		c.CacheAccounts = 8
	}
	recs := h.workload(3, 20000, 800, 0)
	stop := h.start("a")
	h.produceAll(recs)
	h.produceAll(h.ticks(t0.Add(200 * 24 * time.Hour)))
	h.waitCaughtUp(h.group, 90*time.Second)
	stop()
	if ref := h.matchesReference(t); len(ref.actions) == 0 {
		t.Fatal("a book without actions tests little")
	}
}
