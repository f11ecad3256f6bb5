package processor

import (
	"errors"
	"fmt"

	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
)

// GroupsConfig is processor.groups: collections groups, the second stage
// (docs/processing.md "Collections groups").
type GroupsConfig struct {
	// Enabled makes every account-stage transaction write the account's
	// contribution to kafka.topics.group_contributions, and `arrears run`
	// run the group stage in the same process (default false).
	Enabled bool `yaml:"enabled"`
	// GroupID is the group stage's consumer group (default
	// processor.group_id + "-groups").
	GroupID string `yaml:"group_id"`
	// TransactionalID is the group stage's transactional id, unique per
	// instance and stable across restarts (default
	// processor.transactional_id + "-groups").
	TransactionalID string `yaml:"transactional_id"`
	// MaxPollRecords bounds one group-stage transaction (default 5000).
	MaxPollRecords int `yaml:"max_poll_records"`
	// Conditions are the group conditions the group stage works out for
	// every group and sends to its accounts when one flips (default none;
	// policies hold stages back on them by name: docs/policies.md "Group
	// conditions"). They need the group events (processor.groups.enabled).
	Conditions []group.Condition `yaml:"conditions"`
}

// groupsDefaultPoll is processor.groups.max_poll_records' default.
const groupsDefaultPoll = 5000

// resolved fills the defaults that derive from the account stage's config.
func (g GroupsConfig) resolved(c Config) GroupsConfig {
	if g.GroupID == "" {
		g.GroupID = c.GroupID + kafkax.GroupsGroupSuffix
	}
	if g.TransactionalID == "" {
		g.TransactionalID = c.TransactionalID + kafkax.GroupsGroupSuffix
	}
	if g.MaxPollRecords == 0 {
		g.MaxPollRecords = groupsDefaultPoll
	}
	return g
}

// validate names the bad field; topics are checked only when enabled.
func (g GroupsConfig) validate(t kafkax.Topics) error {
	var errs []error
	if g.MaxPollRecords < 0 {
		errs = append(errs, fmt.Errorf("processor.groups.max_poll_records: %d must be >= 0", g.MaxPollRecords))
	}
	if err := group.ValidateConditions(g.Conditions); err != nil {
		errs = append(errs, err)
	}
	if g.Enabled && t.GroupContributions == "" {
		errs = append(errs, errors.New("kafka.topics.group_contributions: must be set when processor.groups.enabled"))
	}
	if g.Enabled && t.GroupChangelog == "" {
		errs = append(errs, errors.New("kafka.topics.group_changelog: must be set when processor.groups.enabled"))
	}
	return errors.Join(errs...)
}

// GroupStorePrefix is the group store's Redis prefix next to the account
// stage's (redis.prefix, default "arrears"): its keys never meet the
// accounts'.
func GroupStorePrefix(prefix string) string {
	if prefix == "" {
		prefix = "arrears"
	}
	return prefix + ":grp"
}

// UnknownConditions lists, as "policy: condition", the group conditions
// the set's policies hold stages on that Conditions does not define (or
// all of them when the group stage is off): such a hold never holds, since
// no group stage sends the condition.
func (g GroupsConfig) UnknownConditions(set *policy.Set) []string {
	known := map[string]bool{}
	if g.Enabled {
		for _, c := range g.Conditions {
			known[c.Name] = true
		}
	}
	var out []string
	for _, p := range set.Policies() {
		for _, h := range p.Group.Hold {
			if !known[h.Condition] {
				out = append(out, p.Name+": "+h.Condition)
			}
		}
	}
	return out
}
