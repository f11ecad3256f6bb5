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
	if !pt.d.cfg.Groups.Enabled {
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
	accts := make([]string, 0, len(pt.dirty))
	for a := range pt.dirty {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	base := pt.changelog + int64(len(pt.erased)) // tombstones come first
	topic := pt.d.kcfg.Topics.GroupContributions
	for i, a := range accts {
		after := group.Take(pt.cache[a])
		for _, o := range group.AccountChange(a, pt.grp[a], after, base+int64(i)) {
			v, err := o.Record.Encode()
			if err != nil {
				return fmt.Errorf("%w: group contribution: %w", errEncode, err)
			}
			em.produce(&kgo.Record{Topic: topic, Key: []byte(o.Key), Value: v})
		}
	}
	return nil
}
