package processor

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/group"
)

// The account stage's part of collections groups (docs/processing.md
// "Collections groups"): the first time a batch touches an account (get)
// its contribution is snapshotted; when the batch finishes, every changed
// account whose contribution or parent changed writes, in the batch's
// transaction, its records to kafka.topics.group_contributions
// (group.AccountChange): a parent link keyed by the account, a removal
// keyed by the old parent, the full contribution keyed by the new one.

// groupSeen snapshots acct's contribution before the batch changes it.
func (pt *partition) groupSeen(acct string, st *core.State) {
	if !pt.d.cfg.Groups.Enabled || st == nil {
		return
	}
	if pt.grp == nil {
		pt.grp = map[string]group.Snapshot{}
	}
	if _, ok := pt.grp[acct]; !ok {
		pt.grp[acct] = group.Take(st)
	}
}

// groupEmit writes the batch's contribution records. A record's version is
// the lower bound of its account's status-record offset in this batch
// (the partition's changelog end before it plus the account's rank among
// the batch's status records): it grows with every change of the account.
func (pt *partition) groupEmit(em *emitter) error {
	if !pt.d.cfg.Groups.Enabled {
		return nil
	}
	defer func() { pt.grp = nil }()
	// the erased accounts' tombstones come first, then the status records
	var erased, accts []string
	for a := range pt.erased {
		if !pt.dirty[a] {
			erased = append(erased, a)
		}
	}
	for a := range pt.dirty {
		accts = append(accts, a)
	}
	sort.Strings(erased)
	sort.Strings(accts)
	accts = append(erased, accts...)
	topic := pt.d.kcfg.Topics.GroupContributions
	for i, a := range accts {
		after := group.Snapshot{} // erased: contributes nothing, no parent
		if pt.dirty[a] {
			after = group.Take(pt.cache[a])
		}
		version := pt.changelog + int64(i)
		if pt.dirty[a] {
			version += int64(len(pt.erased) - len(erased))
		}
		for _, o := range group.AccountChange(a, pt.grp[a], after, version) {
			o.Record.At = pt.clock // the time of the group events it leads to
			v, err := o.Record.Encode()
			if err != nil {
				return fmt.Errorf("%w: group contribution: %w", errEncode, err)
			}
			em.produce(&kgo.Record{Topic: topic, Key: []byte(o.Key), Value: v})
		}
	}
	return nil
}
