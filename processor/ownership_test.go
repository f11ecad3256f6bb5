package processor_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
)

// TestOwnershipFollowsAssignment: an idle instance revoked twice with no
// transaction between must not keep the second revocation's partitions.
// franz-go's transaction session skips the revoke callback until its next
// End, and an idle instance ends none: before kafkax.WatchAssignment, a
// kept the partition c took from it and would have fired its wake-ups
// beside c (duplicated actions).
func TestOwnershipFollowsAssignment(t *testing.T) {
	h := newHarness(t, 6)
	a, stopA := h.run("a")
	defer stopA()
	waitFor(t, "a owning all 6 partitions", 60*time.Second, func() bool { return len(a.Owned()) == 6 })
	b, stopB := h.run("b")
	defer stopB()
	waitFor(t, "a and b splitting the partitions", 60*time.Second, func() bool { return split(6, a, b) == "" })
	c, stopC := h.run("c")
	defer stopC()
	deadline := time.Now().Add(30 * time.Second)
	for why := split(6, a, b, c); why != ""; why = split(6, a, b, c) {
		if time.Now().After(deadline) {
			t.Fatalf("after c joined: %s", why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// split says how the instances' owned partitions fail to be each of 0..n-1
// exactly once, n/len(ps) to an instance ("" when they are).
func split(n int32, ps ...*processor.Processor) string {
	owners := map[int32][]int{}
	ids := make([][]int32, len(ps))
	for i, p := range ps {
		ids[i] = p.Owned()
		slices.Sort(ids[i])
		for _, id := range ids[i] {
			owners[id] = append(owners[id], i)
		}
	}
	for i := range ps {
		if len(ids[i]) != int(n)/len(ps) {
			return fmt.Sprintf("instance %d owns %d partitions (each owns %v)", i, len(ids[i]), ids)
		}
	}
	for id := range n {
		if len(owners[id]) != 1 {
			return fmt.Sprintf("partition %d is owned by instances %v (each owns %v)", id, owners[id], ids)
		}
	}
	return ""
}
