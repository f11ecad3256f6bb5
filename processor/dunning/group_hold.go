package dunning

import (
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Group conditions in per-account policies (policy `group.hold`,
// docs/policies.md "Group conditions"): the group stage sends each
// descendant account its group's conditions (GroupConditions: per
// condition the day its metric reaches the threshold), and a stage with
// an action a held condition names waits, while the condition holds on
// the account's day, instead of being entered. The ladder's clock runs on
// (a hold of the group is not a pause of the account): when the condition
// stops holding, the stages due are entered as after any late evaluation.
// An account without a parent, or that never heard of the condition, is
// not held.

// ApplyGroupConditions keeps c as the account's group conditions when it
// is another group's or newer than the one held; kept reports whether it
// was.
func ApplyGroupConditions(st State, c *event.GroupConditions) (State, bool) {
	if g := st.Group; g != nil && g.Conds != nil && g.Conds.Group == c.Group && g.Conds.Version >= c.Version {
		return st, false
	}
	st = st.clone()
	if st.Group == nil {
		st.Group = &Group{}
	}
	st.Group.Conds = c
	return st, true
}

// groupCondition is the named condition of the account's group (ok false:
// none heard of, or the account has no parent).
func (e *evaluator) groupCondition(name string) (event.GroupCondition, string, bool) {
	g := e.st.Group
	if e.in.Parent == "" || g == nil || g.Conds == nil {
		return event.GroupCondition{}, "", false
	}
	for _, c := range g.Conds.Conditions {
		if c.Name == name {
			return c, g.Conds.Group, true
		}
	}
	return event.GroupCondition{}, "", false
}

// groupHold reports (and explains) a stage held back by a group condition
// that holds today, and asks to wake when the condition stops holding.
func (e *evaluator) groupHold(s *policy.Stage) bool {
	for _, h := range e.pol.Group.Hold {
		if !h.Holds(s) {
			continue
		}
		c, grp, ok := e.groupCondition(h.Condition)
		if !ok || !c.Holds(e.today) {
			continue
		}
		until := "while the group's figures stay as they are"
		if c.Below && !c.Never {
			at := e.localMidnight(c.Flip)
			e.wakeAt(at)
			until = "until " + at.Format(time.DateOnly)
		}
		e.note("stage %s waits: group %s condition %s (%s) holds %s", s.Name, grp, c.Name, c.Rule, until)
		return true
	}
	return false
}

// groupHoldConditions appends, to the actions of a stage a hold rule
// covers, each covered condition's state (a group_condition condition).
func (e *evaluator) groupHoldConditions(s *policy.Stage, cs []event.Condition) []event.Condition {
	for _, h := range e.pol.Group.Hold {
		if !h.Holds(s) {
			continue
		}
		c, grp, ok := e.groupCondition(h.Condition)
		if !ok {
			continue
		}
		cs = append(cs, event.Condition{Name: "group_condition", Value: fmt.Sprintf("%s %t", c.Name, c.Holds(e.today)),
			Rule: fmt.Sprintf("holds back while %s (group %s)", c.Rule, grp)})
	}
	return cs
}
