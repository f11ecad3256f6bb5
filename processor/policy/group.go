package policy

import (
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
)

// GroupLevel says where a policy dunns an account that belongs to a
// collections group.
type GroupLevel string

// The group levels.
const (
	// LevelAccount (the default): every account is dunned on its own.
	LevelAccount GroupLevel = "account"
	// LevelGroup: a group's top account (no parent) runs the ladder on the
	// group's overdue (its GroupContext) and its SUSPEND and RESTORE
	// cascade to every descendant; an account with a parent is not
	// notified on its own.
	LevelGroup GroupLevel = "group"
)

// GroupRules is a policy's `group` section:
//
//	group:
//	  level: account              # account (default) | group
//	  hold:                       # group conditions that hold stages back
//	    - condition: group_overdue_low   # a processor.groups.conditions name
//	      actions: [suspend, bar_outgoing, throttle]
type GroupRules struct {
	Level GroupLevel
	// Hold lists the stage actions a group condition holds back: a stage
	// with one of them waits while the account's collections group meets
	// the condition (dunning/group_hold.go).
	Hold []GroupHold
}

// GroupHold holds back the stages that have one of Actions while the
// named group condition holds.
type GroupHold struct {
	Condition string
	Actions   []event.ActionType
}

// Holds reports whether the rule holds back a stage with these actions.
func (h GroupHold) Holds(s *Stage) bool {
	for _, a := range s.Actions {
		if slices.Contains(h.Actions, a.Type) {
			return true
		}
	}
	return false
}

// AtGroupLevel reports whether the policy dunns at group level.
func (p *Policy) AtGroupLevel() bool { return p != nil && p.Group.Level == LevelGroup }

func (p *parser) group(n *yaml.Node) GroupRules {
	g := GroupRules{Level: LevelAccount}
	for _, e := range p.mapping(n, "group", []string{"level", "hold"}) {
		if e.Key == "hold" {
			g.Hold = p.groupHolds(e.Value)
			continue
		}
		s, ok := p.str(e.Value, "group.level")
		if !ok {
			continue
		}
		switch l := GroupLevel(s); l {
		case LevelAccount, LevelGroup:
			g.Level = l
		default:
			p.Errorf(e.Value, "group.level", "unknown level %q (want account or group)", s)
		}
	}
	return g
}

func (p *parser) groupHolds(n *yaml.Node) []GroupHold {
	var hs []GroupHold
	seen := map[string]bool{}
	for _, item := range p.sequence(n, "group.hold") {
		var h GroupHold
		for _, e := range p.mapping(item, "group.hold", []string{"condition", "actions"}) {
			switch e.Key {
			case "condition":
				if s, ok := p.nonEmpty(e.Value, "group.hold.condition"); ok {
					if seen[s] {
						p.Errorf(e.Value, "group.hold.condition", "condition %q held twice: list its actions once", s)
					}
					seen[s], h.Condition = true, s
				}
			case "actions":
				for _, name := range p.strings(e.Value, "group.hold.actions") {
					t, ok := actionTypes[name]
					if !ok {
						p.Errorf(e.Value, "group.hold.actions", "unknown action %q (want one of %s)", name, actionTypeList)
						continue
					}
					h.Actions = append(h.Actions, t)
				}
			}
		}
		switch {
		case h.Condition == "":
			p.Errorf(item, "group.hold.condition", "required: the group condition's name")
		case len(h.Actions) == 0:
			p.Errorf(item, "group.hold.actions", "required: the actions the condition holds back")
		default:
			hs = append(hs, h)
		}
	}
	return hs
}
