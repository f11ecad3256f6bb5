package group

import (
	"maps"
	"slices"
	"strings"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
)

// Group-level dunning's part of the group stage (docs/processing.md
// "Collections groups"): what a node publishes to its top account (a
// GroupContext) and how a top's SUSPEND or RESTORE reaches every
// descendant account (a cascade record down the child nodes, a
// GroupServiceChange per child account).

// Cascade is a group-level top's SUSPEND (Suspend) or RESTORE, identified
// by the top's action id.
type Cascade struct {
	Group   string `json:"group"`
	ID      string `json:"id"`
	Suspend bool   `json:"suspend,omitempty"`
}

// applyCascade keeps a newer cascade; it reports a change.
func (n *Node) applyCascade(r Record) bool {
	if r.Version <= n.CascadeVersion {
		return false
	}
	n.CascadeVersion = r.Version
	if n.Cascade != nil && *n.Cascade == *r.Cascade {
		return false
	}
	c := *r.Cascade
	n.Cascade = &c
	return true
}

// Notice is a group event for one account: its key and body.
type Notice struct {
	Account string
	ID      string // the event id: deterministic, so a retried transaction repeats it
	Body    event.Body
}

// Fanout is what node id sends down after its batch when its cascade
// changed from before (nil: none) or children joined it while suspended:
// a GroupServiceChange per child account, the cascade record to each child
// node. version orders the forwarded records; joined lists the children
// new in the batch.
func (n *Node) Fanout(before *Cascade, joined []string, version int64) ([]Notice, []Out) {
	c := n.Cascade
	if c == nil {
		return nil, nil
	}
	to := joined
	if before == nil || *before != *c {
		to = slices.Sorted(maps.Keys(n.Children))
	} else if !c.Suspend {
		return nil, nil // a child joining a restored group has nothing to undo
	}
	return n.down(to, func(acct string) Notice {
		return Notice{Account: acct, ID: "grp-svc-" + c.ID + "-" + acct,
			Body: &event.GroupServiceChange{Group: c.Group, CascadeID: c.ID, Suspend: c.Suspend}}
	}, func() Record {
		cc := *c
		return Record{Cascade: &cc, Version: version}
	})
}

// down sends something to the children keyed to: notice's event to each
// child account, rec's record (at the node's clock) to each child node.
func (n *Node) down(to []string, notice func(acct string) Notice, rec func() Record) ([]Notice, []Out) {
	var notices []Notice
	var outs []Out
	for _, k := range to {
		switch {
		case strings.HasPrefix(k, AccountChild):
			notices = append(notices, notice(strings.TrimPrefix(k, AccountChild)))
		case strings.HasPrefix(k, GroupChild):
			r := rec()
			r.At = n.At
			outs = append(outs, Out{Key: strings.TrimPrefix(k, GroupChild), Record: r})
		}
	}
	return notices, outs
}

// Context is node id's GroupContext: the totals' exposure and dues, and
// each child's dues, sorted (currency, date; children by key).
func (n *Node) Context(id string) *event.GroupContext {
	t := n.Totals
	c := &event.GroupContext{GroupID: id, Version: n.Version, Accounts: t.Accounts, Suspended: t.Suspended,
		Due: dues(t)}
	for _, cur := range slices.Sorted(maps.Keys(t.Currencies)) {
		f := t.Currencies[cur]
		c.Exposure = append(c.Exposure, event.GroupExposure{Currency: cur, Exposure: event.Amount(f.Exposure), Disputed: event.Amount(f.Disputed)})
	}
	for _, k := range slices.Sorted(maps.Keys(n.Children)) {
		if d := dues(n.Children[k].Totals); len(d) > 0 {
			c.Children = append(c.Children, event.GroupChildSummary{ChildID: k, Due: d})
		}
	}
	return c
}

func dues(t Totals) []event.GroupDue {
	var out []event.GroupDue
	for _, cur := range slices.Sorted(maps.Keys(t.Currencies)) {
		due := t.Currencies[cur].Due
		for _, d := range slices.Sorted(maps.Keys(due)) {
			if due[d] > 0 {
				out = append(out, event.GroupDue{Currency: cur, DueDate: d, Amount: event.Amount(due[d])})
			}
		}
	}
	return out
}

// cascadeOf is the cascade account st's state asks for (nil none): the
// last SUSPEND or RESTORE of a group-level top (dunning/group.go).
func cascadeOf(acct string, g *dunning.Group) *Cascade {
	if g == nil || g.Cascade.ID == "" {
		return nil
	}
	return &Cascade{Group: acct, ID: g.Cascade.ID, Suspend: g.Cascade.Suspend}
}
