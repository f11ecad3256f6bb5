package dunning

import (
	"fmt"
	"slices"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Group-level dunning (docs/processing.md "Collections groups", policy
// `group: {level: group}`). Everything here decides on input events only
// (GroupContext, GroupServiceChange, which the group stage writes onto
// ar.events), never on the group store, so a replay decides identically.
//
//   - The group's top account (a group-level policy, no parent of its own,
//     a GroupContext held) runs its ladder on the group's overdue: its own
//     items plus one item per (child, currency, due date) of the context,
//     named by the child ("a:X", or "g:Y" for a sub-group's subtree), so
//     days past due and the wake-ups come from the oldest due date across
//     the group at the partition clock; its stage actions list each child's
//     overdue (a group_child condition per child).
//   - Its SUSPEND or RESTORE becomes the state's Cascade, which the account
//     stage writes to its group node; the group stage turns it into a
//     GroupServiceChange for every descendant account.
//   - An account with a parent under a group-level policy is not dunned on
//     its own: its stages' actions are withheld, "dunned at group level by
//     M" (its episode and stages still run, so explain shows where it is).
//   - A GroupServiceChange suspends an ACTIVE account (reason group) and
//     restores only what the group suspended: a suspension by the account's
//     own ladder stays with that ladder.

// Group is an account's collections-group dunning state (nil: none).
type Group struct {
	// Context is the latest group context of a group's top account
	// (immutable once stored: shared, never written).
	Context *event.GroupContext
	// Cascade is the last SUSPEND or RESTORE the top decided.
	Cascade Cascade
	// Cascaded is set on a descendant while its group's suspension is in
	// force; Own is the service its own ladder would have without it.
	Cascaded bool
	Own      ServiceState
	// Conds is the latest state of the account's group conditions
	// (immutable once stored; group_hold.go).
	Conds *event.GroupConditions
}

// Cascade is a group top's SUSPEND or RESTORE (ID "": none yet).
type Cascade struct {
	ID      string // the top's action id
	Suspend bool
}

func (g *Group) clone() *Group {
	if g == nil {
		return nil
	}
	c := *g
	return &c
}

// ApplyGroupContext keeps c as the account's group context when it is
// newer than the one held; kept reports whether it was.
func ApplyGroupContext(st State, c *event.GroupContext) (State, bool) {
	if st.Group != nil && st.Group.Context != nil && st.Group.Context.Version >= c.Version {
		return st, false
	}
	st = st.clone()
	if st.Group == nil {
		st.Group = &Group{}
	}
	st.Group.Context = c
	return st, true
}

// ApplyGroupService applies a cascaded suspension or restoration to
// account at now: the actions to emit (at most one) and a note.
func ApplyGroupService(st State, account string, c *event.GroupServiceChange, now time.Time) (State, []event.DunningAction, string) {
	st = st.clone()
	if st.Group == nil {
		st.Group = &Group{}
	}
	g := st.Group
	act := func(t event.ActionType, why string) []event.DunningAction {
		return []event.DunningAction{{
			ActionID: digest([]string{account, "group", c.Group, c.CascadeID}), Account: account, Time: now.UTC(),
			Stage: "group", Type: t, Reason: why,
			Conditions: []event.Condition{{Name: "group", Value: c.Group, Rule: "dunned at group level"}},
		}}
	}
	if c.Suspend {
		if g.Cascaded {
			return st, nil, fmt.Sprintf("group %s suspension: already suspended by the group", c.Group)
		}
		g.Cascaded, g.Own = true, st.Service
		if severity(st.Service) >= severity(ServiceSuspended) {
			return st, nil, fmt.Sprintf("group %s suspension: service already %s", c.Group, st.Service)
		}
		st.Service = ServiceSuspended
		return st, act(event.ActionSuspend, fmt.Sprintf("group: suspended with group %s (action %s)", c.Group, c.CascadeID)),
			fmt.Sprintf("suspended by group %s", c.Group)
	}
	if !g.Cascaded {
		return st, nil, fmt.Sprintf("group %s restoration: not suspended by the group", c.Group)
	}
	own := g.Own
	g.Cascaded, g.Own = false, ServiceActive
	if own != ServiceActive {
		return st, nil, fmt.Sprintf("group %s restoration: service stays %s (the account's own ladder)", c.Group, st.Service)
	}
	if st.Service == ServiceActive {
		return st, nil, fmt.Sprintf("group %s restoration: service already ACTIVE", c.Group)
	}
	st.Service = ServiceActive
	return st, act(event.ActionRestore, fmt.Sprintf("group: restored with group %s (action %s)", c.Group, c.CascadeID)),
		fmt.Sprintf("restored by group %s", c.Group)
}

// groupTop reports whether the account runs its group's ladder: a
// group-level policy, no parent of its own and a group context.
func (e *evaluator) groupTop() bool {
	return e.pol.AtGroupLevel() && e.in.Parent == "" && e.st.Group != nil && e.st.Group.Context != nil
}

// groupItems adds the group's children's dues to the input's items (a
// copy: the caller's slice is never written).
func (e *evaluator) groupItems() {
	if !e.groupTop() {
		return
	}
	items := slices.Clone(e.in.Items)
	for _, ch := range e.st.Group.Context.Children {
		for _, d := range ch.Due {
			items = append(items, Item{InvoiceID: ch.ChildID, Currency: d.Currency, DueDate: d.DueDate, Open: d.Amount})
		}
	}
	e.in.Items = items
}

// groupItem reports an item groupItems added (a child's dues, named by
// the child key), which is not one of the top's own invoices.
func (e *evaluator) groupItem(it Item) bool {
	if !e.groupTop() || len(it.InvoiceID) < 2 || it.InvoiceID[1] != ':' {
		return false
	}
	for _, ch := range e.st.Group.Context.Children {
		if ch.ChildID == it.InvoiceID {
			return true
		}
	}
	return false
}

// groupConditions appends each child's overdue amount in the dunned
// currency (a group_child condition per child with something overdue, in
// the context's child order).
func (e *evaluator) groupConditions(cs []event.Condition) []event.Condition {
	if !e.groupTop() {
		return cs
	}
	for _, ch := range e.st.Group.Context.Children {
		var n event.Amount
		oldest := event.Date(0)
		for _, d := range ch.Due {
			if d.Currency == e.cur && d.DueDate < e.today && d.Amount > 0 {
				n += d.Amount
				if oldest == 0 || d.DueDate < oldest {
					oldest = d.DueDate
				}
			}
		}
		if n > 0 {
			cs = append(cs, event.Condition{Name: "group_child", Value: ch.ChildID + " " + n.String() + " " + string(e.cur),
				Rule: "oldest due " + oldest.String()})
		}
	}
	return cs
}

// groupWithheld reports (and explains) a stage action of an account
// dunned at group level by its parent.
func (e *evaluator) groupWithheld(stage string, t event.ActionType) bool {
	if !e.pol.AtGroupLevel() || e.in.Parent == "" {
		return false
	}
	e.note("%s of stage %s withheld: dunned at group level by %s", t, stage, e.in.Parent)
	return true
}

// groupHeld reports (and explains) a restoration the account's own ladder
// would make while its group holds it suspended: the service stays
// suspended until the group restores it.
func (e *evaluator) groupHeld() bool {
	g := e.st.Group
	if g == nil || !g.Cascaded {
		return false
	}
	g.Own = ServiceActive
	e.note("service stays %s: suspended by the group", e.st.Service)
	return true
}

// groupOwn notes a restriction the account's own ladder reached while
// its group holds it suspended (what the group's RESTORE leaves it with).
func (e *evaluator) groupOwn(target ServiceState) {
	if g := e.st.Group; g != nil && g.Cascaded && severity(target) > severity(g.Own) {
		g.Own = target
	}
}

// groupCascade records the top's SUSPEND or RESTORE (the decision's last)
// as its cascade.
func (e *evaluator) groupCascade() {
	if !e.groupTop() {
		return
	}
	for _, a := range e.d.Actions {
		if a.Type == event.ActionSuspend || a.Type == event.ActionRestore {
			e.st.Group.Cascade = Cascade{ID: a.ActionID, Suspend: a.Type == event.ActionSuspend}
		}
	}
}
