package processor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
)

// TestStatusSourceOffset: every status record names the input that produced
// it. An account's event gives its own offset; a wake-up fired by a later
// record's time (the 2099 event moving the clock) gives that record's; no
// two status records of one account share the analytics key (account,
// status_time second, source_partition, source_offset).
func TestStatusSourceOffset(t *testing.T) {
	h := newHarness(t, 1)
	h.env = policyEnv(t)
	recs := clockScenario(h)
	h.produceAll(recs)
	stop := h.start("a")
	defer stop()
	h.waitCaughtUp(h.group, 60*time.Second)

	offsetOf := map[string]int64{} // input event id -> offset
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Events, len(recs), 30*time.Second) {
		ev, err := h.codec.DecodeEvent(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		offsetOf[ev.ID] = r.Offset
	}
	seen := map[string]bool{}
	var acc1, acc2 []int64
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 3*time.Second) {
		s, err := h.codec.DecodeStatus(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%s/%d/%d/%d", s.Account, s.Time.Unix(), s.SourcePartition, s.SourceOffset)
		if seen[key] {
			t.Errorf("two status records share the key %s", key)
		}
		seen[key] = true
		switch s.Account {
		case "ACC-1":
			acc1 = append(acc1, s.SourceOffset)
		case "ACC-2":
			acc2 = append(acc2, s.SourceOffset)
		}
	}
	for acct, offs := range map[string][]int64{"ACC-1": acc1, "ACC-2": acc2} {
		for i := 1; i < len(offs); i++ {
			if offs[i] < offs[i-1] {
				t.Errorf("%s status source offsets go back: %v", acct, offs)
			}
		}
	}
	// one status record per changed account and batch: an account's last
	// one names its last event, or the record whose time fired its wake-ups
	if len(acc2) == 0 || acc2[len(acc2)-1] != offsetOf["ev-late"] {
		t.Errorf("ACC-2 status source offsets %v, want the last to be its last event's %d", acc2, offsetOf["ev-late"])
	}
	for _, o := range acc2 {
		if o != offsetOf["ACC-2-up"] && o != offsetOf["ev-2099"] && o != offsetOf["ev-late"] {
			t.Errorf("ACC-2 status source offset %d is none of its events' (%v)", o, acc2)
		}
	}
	// ACC-1's dunning wake-ups fired when the 2099 event moved the clock
	if len(acc1) == 0 || acc1[len(acc1)-1] != offsetOf["ev-2099"] {
		t.Errorf("ACC-1 status source offsets %v, want the last (its wake-ups) to be the 2099 event's %d", acc1, offsetOf["ev-2099"])
	}
}
