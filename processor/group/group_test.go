package group

import (
	"fmt"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// net routes records between nodes as the topic does, in order, and
// applies each at increasing input positions.
type net struct {
	nodes map[string]*Node
	pos   int64
}

func (n *net) run(t *testing.T, outs []Out) {
	t.Helper()
	for steps := 0; len(outs) > 0; steps++ {
		if steps > 10000 {
			t.Fatal("forwarding does not settle")
		}
		o := outs[0]
		outs = outs[1:]
		b, err := o.Record.Encode()
		if err != nil {
			t.Fatal(err)
		}
		r, err := DecodeRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		nd := n.nodes[o.Key]
		if nd == nil {
			nd = &Node{}
			n.nodes[o.Key] = nd
		}
		n.pos++
		if nd.Apply(r, n.pos) {
			outs = append(outs, nd.Settle(o.Key, n.pos)...)
		}
	}
}

func leaf(exposure, due int64) Totals {
	return Totals{Accounts: 1, Currencies: map[event.Currency]*Figures{"EUR": {Exposure: exposure, Due: map[event.Date]int64{100: due}}}}
}

// TestHierarchy: a 3-level tree (T <- M0..M2 <- 30 leaves), a leaf moving
// between mid nodes, a repeated contribution and a closing leaf: T's totals
// always equal the sum of every account's own figures.
func TestHierarchy(t *testing.T) {
	n := &net{nodes: map[string]*Node{}}
	own := map[string]Snapshot{}
	var v int64
	set := func(acct string, s Snapshot) {
		v++
		n.run(t, AccountChange(acct, own[acct], s, v))
		own[acct] = s
	}
	for m := 0; m < 3; m++ {
		set(fmt.Sprint("M", m), Snapshot{Parent: "T", Totals: leaf(1000, 10), OK: true})
	}
	for i := 0; i < 30; i++ {
		set(fmt.Sprint("L", i), Snapshot{Parent: fmt.Sprint("M", i%3), Totals: leaf(int64(100+i), int64(i)), OK: true})
	}
	check := func(what string) {
		t.Helper()
		var all []Totals
		for _, s := range own {
			if s.OK {
				all = append(all, s.Totals)
			}
		}
		want := Sum(all...)
		got := n.nodes["T"].Totals
		want.Depth = 2
		if !got.Equal(want) {
			t.Fatalf("%s: T = %+v, want %+v", what, got, want)
		}
	}
	check("built")
	set("L4", Snapshot{Parent: "M2", Totals: leaf(5000, 5000), OK: true}) // moves from M1, grows
	check("moved")
	if got := len(n.nodes["M1"].Children); got != 9 {
		t.Errorf("M1 has %d children after the move, want 9", got)
	}
	// a repeat of an older contribution changes nothing
	if n.nodes["M2"].Apply(Record{Child: AccountChild + "L4", Version: 1, Totals: &Totals{Accounts: 1}}, 1) {
		t.Error("an older contribution was applied")
	}
	set("L7", Snapshot{Parent: "M1"}) // closed
	check("closed")
	if got := n.nodes["T"].Totals.Overdue("EUR", 101); got != n.nodes["T"].Totals.Currencies["EUR"].Due[100] {
		t.Errorf("overdue %d", got)
	}
	if n.nodes["T"].Totals.WorstDPD(130) != 30 {
		t.Errorf("worst dpd %d, want 30", n.nodes["T"].Totals.WorstDPD(130))
	}
	// a mid node moving to another top: removal from T, full to U
	set("M0", Snapshot{Parent: "U", Totals: leaf(1000, 10), OK: true})
	if _, ok := n.nodes["T"].Children[GroupChild+"M0"]; ok {
		t.Error("T still holds M0's subtree")
	}
	if got := n.nodes["U"].Totals.Accounts; got != 11 {
		t.Errorf("U sums %d accounts, want 11 (M0 and its 10 leaves)", got)
	}
}

// TestCycleSettles: parent links forming a cycle forward a bounded number
// of times.
func TestCycleSettles(t *testing.T) {
	n := &net{nodes: map[string]*Node{}}
	n.run(t, AccountChange("A", Snapshot{}, Snapshot{Parent: "B", Totals: leaf(1, 1), OK: true}, 1))
	n.run(t, AccountChange("B", Snapshot{}, Snapshot{Parent: "A", Totals: leaf(1, 1), OK: true}, 2))
	if d := n.nodes["A"].Totals.Depth; d > MaxDepth+1 {
		t.Errorf("depth %d", d)
	}
}
