package group

import "github.com/arrears/arrears/processor/core"

// Snapshot is what an account contributes at one moment.
type Snapshot struct {
	Parent string // the account's parent_id
	Totals Totals
	OK     bool // the account contributes (OfState)
	// Cascade is the account's last cascade as a group-level top (nil
	// none; cascade.go).
	Cascade *Cascade
}

// Take snapshots account st.
func Take(st *core.State) Snapshot {
	p, t, ok := OfState(st)
	return Snapshot{Parent: p, Totals: t, OK: ok, Cascade: cascadeOf(st.Account, st.Dunning.Group)}
}

// AccountChange returns the records account acct's change from before to
// after writes, in one transaction: a parent link (keyed by the account)
// when its parent changed; a removal from the old parent when it moved or
// stopped contributing (closed); its full contribution to the new parent
// when it moved, started, or its figures changed. Nothing when nothing
// changed. version orders the account's records (it must grow with every
// change of the account).
func AccountChange(acct string, before, after Snapshot, version int64) []Out {
	var out []Out
	if before.Parent != after.Parent {
		out = append(out, Out{Key: acct, Record: Record{Link: true, Parent: after.Parent, Version: version}})
	}
	child := AccountChild + acct
	moved := before.Parent != after.Parent
	if before.OK && (!after.OK || moved) {
		out = append(out, Out{Key: before.Parent, Record: Record{Child: child, Version: version, Removed: true}})
	}
	if after.OK && (!before.OK || moved || !after.Totals.Equal(before.Totals)) {
		t := after.Totals
		out = append(out, Out{Key: after.Parent, Record: Record{Child: child, Version: version, Totals: &t}})
	}
	if c := after.Cascade; c != nil && (before.Cascade == nil || *before.Cascade != *c) {
		cc := *c // to the account's own node, which fans it out
		cc.Group = acct
		out = append(out, Out{Key: acct, Record: Record{Cascade: &cc, Version: version}})
	}
	return out
}
