package core

import (
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// applyGroup takes the collections-group events the group stage writes
// (dunning/group.go): a GroupContext is kept by an account whose policy
// dunns at group level (a duplicate for any other); a GroupServiceChange
// suspends or restores the account with its group. Both are deduplicated
// by event id like every other event. pre are the actions decided before
// the ladder's evaluation, note their explanation.
func (env *Env) applyGroup(st *State, ev event.Event, pol *policy.Policy, now time.Time) (dup bool, pre []event.DunningAction, note string) {
	if env.Rules.SeenEvent(&st.Ledger, ev.ID, now) {
		return true, nil, ""
	}
	switch b := ev.Body.(type) {
	case *event.GroupContext:
		if !pol.AtGroupLevel() {
			return true, nil, ""
		}
		ds, kept := dunning.ApplyGroupContext(st.Dunning, b)
		if !kept {
			return true, nil, ""
		}
		st.Dunning = ds
	case *event.GroupConditions:
		ds, kept := dunning.ApplyGroupConditions(st.Dunning, b)
		if !kept {
			return true, nil, ""
		}
		st.Dunning = ds
	case *event.GroupServiceChange:
		st.Dunning, pre, note = dunning.ApplyGroupService(st.Dunning, st.accountID(), b, now)
		if pol != nil {
			for i := range pre {
				pre[i].PolicyName, pre[i].PolicyVersion = pol.Name, pol.Version
			}
		}
	}
	env.Rules.NoteEvent(&st.Ledger, ev.ID, now)
	return false, pre, note
}
