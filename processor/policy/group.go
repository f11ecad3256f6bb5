package policy

import (
	"gopkg.in/yaml.v3"
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
//	group: {level: group}    # account (default) | group
type GroupRules struct {
	Level GroupLevel
}

// AtGroupLevel reports whether the policy dunns at group level.
func (p *Policy) AtGroupLevel() bool { return p != nil && p.Group.Level == LevelGroup }

func (p *parser) group(n *yaml.Node) GroupRules {
	g := GroupRules{Level: LevelAccount}
	for _, e := range p.mapping(n, "group", []string{"level"}) {
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
