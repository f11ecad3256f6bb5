package processor

import (
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
)

// Right to erasure (AccountErased, GDPR art. 17). The shell, not the core,
// handles it: there is no decision to take, only state to drop. In the
// transaction that commits the event's offset the partition
//
//   - forgets the account's state and timer: the store batch deletes its
//     state field and its timer-index member (Batch.Put with a nil state,
//     Timers 0), so no Redis key holds it;
//   - writes a tombstone (key: the account, value: nil) to the compacted
//     status topic, which is also the changelog: compaction drops every
//     earlier status record of the account, and a restore (restore.go)
//     that reads the tombstone deletes the account from the store rather
//     than resurrecting it from an older record;
//   - emits nothing else: no action, risk event or GL entry, and no copy
//     on the accepted-events topic (the sink sees the tombstone and
//     deletes the account's rows, chsink erase.go).
//
// The tombstone's headers (kafkax.HeaderErasure*) say who asked and why,
// for the sink's audit row (ClickHouse table erasures), and name no
// personal data: the erasure's event id, its source ("api:<actor>"), its
// reason code and its time.
//
// Erasing an account the partition does not hold (never seen, already
// erased) writes the tombstone all the same: erasure is idempotent, and a
// repeat makes the sink delete rows again.
//
// After the erasure the account is unknown, exactly as one never seen:
// nothing of its history is left to decide on, so dunning cannot resume
// from it. An AccountUpserted for the same id starts a new account; any
// other event starts a ledger without master data, which no policy selects
// (no dunning until an upsert), and which core.require_account dead-letters
// (UNKNOWN_ACCOUNT). A replay of the input from the start applies the
// events before the erasure and then the erasure again.

// erasure is an AccountErased applied in the current batch.
type erasure struct {
	id, source, reason string
	at                 int64 // event time, unix ms
}

// erase applies an AccountErased: the account's state and timer are
// dropped now, its tombstone and store deletion follow in finish.
func (pt *partition) erase(ev event.Event, b *event.AccountErased) {
	acct := ev.Account
	if pt.erased == nil {
		pt.erased = map[string]erasure{}
	}
	pt.erased[acct] = erasure{id: ev.ID, source: ev.Source, reason: b.Reason, at: ev.Time.UnixMilli()}
	// a later event of the batch for the same id starts from nothing
	pt.cache[acct] = &core.State{Account: acct}
	pt.sizes[acct] = 0
	pt.timers.set(acct, 0)
	delete(pt.dirty, acct)
	pt.d.m.events.WithLabelValues(event.KindAccountErased.String(), "erased").Inc()
	pt.d.log.Info("account erased", "partition", pt.id) // the reason is free text: never logged
}

// tombstones produces the batch's erasure tombstones, before its status
// records (an account upserted again after its erasure in the same batch
// gets its new status after the tombstone), and deletes the erased
// accounts in the store batch. An erased account nothing touched since is
// dropped from the cache.
func (pt *partition) tombstones(em *emitter, b *Batch) {
	accts := make([]string, 0, len(pt.erased))
	for a := range pt.erased {
		accts = append(accts, a)
	}
	sort.Strings(accts) // the same changelog offsets in a replay
	for _, acct := range accts {
		e := pt.erased[acct]
		b.Put[acct] = nil
		b.Timers[acct] = 0
		em.produceStatus(&kgo.Record{Topic: pt.d.kcfg.Topics.Status, Partition: pt.id, Key: []byte(acct), Headers: []kgo.RecordHeader{
			{Key: kafkax.HeaderErasureID, Value: []byte(e.id)},
			{Key: kafkax.HeaderErasureSource, Value: []byte(e.source)},
			{Key: kafkax.HeaderErasureReason, Value: []byte(e.reason)},
			{Key: kafkax.HeaderErasureTime, Value: strconv.AppendInt(nil, e.at, 10)},
		}})
		if !pt.dirty[acct] {
			delete(pt.cache, acct)
			delete(pt.sizes, acct)
			pt.timers.forget(acct)
		}
	}
	pt.erased = nil
}

// restoreTombstone puts a changelog tombstone (an erasure) in a restore
// batch: the account is deleted from the store. It reports whether r is one.
func restoreTombstone(b *Batch, r *kgo.Record) bool {
	if r.Value != nil || len(r.Key) == 0 {
		return false
	}
	b.Put[string(r.Key)] = nil
	b.Timers[string(r.Key)] = 0
	return true
}
