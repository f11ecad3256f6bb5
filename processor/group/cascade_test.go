package group

import (
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// TestCascadeFanout: a top's cascade reaches every child account as a
// GroupServiceChange and every child node as a cascade record, once; a
// child joining a suspended node gets the suspension; a restoration
// reaches everyone again.
func TestCascadeFanout(t *testing.T) {
	n := &net{nodes: map[string]*Node{}}
	var v int64
	for _, c := range []string{"C1", "C2"} {
		v++
		n.run(t, AccountChange(c, Snapshot{}, Snapshot{Parent: "M", Totals: leaf(100, 100), OK: true}, v))
	}
	v++
	n.run(t, AccountChange("Y", Snapshot{}, Snapshot{Parent: "M", Totals: leaf(10, 10), OK: true}, v))
	v++
	n.run(t, AccountChange("Y1", Snapshot{}, Snapshot{Parent: "Y", Totals: leaf(5, 5), OK: true}, v))
	m := n.nodes["M"]
	if got := len(m.Children); got != 4 { // a:C1 a:C2 a:Y g:Y
		t.Fatalf("M has %d children", got)
	}
	// M's account suspends: the cascade record is keyed by M
	outs := AccountChange("M", Snapshot{}, Snapshot{Cascade: &Cascade{ID: "s1", Suspend: true}}, 10)
	if len(outs) != 1 || outs[0].Key != "M" || outs[0].Record.Cascade.Group != "M" {
		t.Fatalf("cascade records %+v", outs)
	}
	before := m.Cascade
	if !m.Apply(outs[0].Record, 100) {
		t.Fatal("the cascade did not change M")
	}
	notices, fwd := m.Fanout(before, nil, 100)
	var accts []string
	for _, no := range notices {
		accts = append(accts, no.Account)
		if b := no.Body.(*event.GroupServiceChange); !b.Suspend || b.Group != "M" || b.CascadeID != "s1" {
			t.Errorf("notice %+v", b)
		}
	}
	if len(accts) != 3 || accts[0] != "C1" || accts[1] != "C2" || accts[2] != "Y" {
		t.Errorf("notices to %v, want C1 C2 Y", accts)
	}
	if len(fwd) != 1 || fwd[0].Key != "Y" {
		t.Fatalf("forwards %+v, want one to Y", fwd)
	}
	y := n.nodes["Y"]
	if !y.Apply(fwd[0].Record, 101) {
		t.Fatal("Y did not take the cascade")
	}
	notices, _ = y.Fanout(nil, nil, 101)
	if len(notices) != 1 || notices[0].Account != "Y1" {
		t.Errorf("Y's notices %+v, want Y1", notices)
	}
	// the same cascade again: nothing new
	if y.Apply(Record{Cascade: fwd[0].Record.Cascade, Version: 102}, 102) {
		t.Error("a repeated cascade changed Y")
	}
	// a child joining suspended M gets the suspension
	c := *m.Cascade
	notices, _ = m.Fanout(&c, []string{AccountChild + "C3"}, 103)
	if len(notices) != 1 || notices[0].Account != "C3" {
		t.Errorf("joining C3: %+v", notices)
	}
	// context: the top's dues, per child
	ctx := m.Context("M")
	if ctx.GroupID != "M" || ctx.Accounts != 4 || // C1, C2, Y and Y1 (g:Y)
		len(ctx.Children) != 4 || ctx.Children[0].ChildID != "a:C1" ||
		ctx.Due[0].Amount != 215 {
		t.Errorf("context %+v", ctx)
	}
}
