package ledger

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Idempotence (doc.go "Duplicates"). Two logs of 48-bit hashes (FNV-1a),
// each entry stamped with a day, oldest first:
//
//   - events: the id of every event the account accepted (ledger kinds in
//     Apply, dunning's kinds through NoteEvent), stamped with the partition
//     day it was accepted on and kept Rules.DedupeDays;
//   - gone: the ids of entities the account no longer holds (pruned
//     invoices, cancelled invoices, payments, reversed payments,
//     adjustments and disputes, stamped with the pruning day), refunds
//     (stamped with the day applied: they leave no entity) and
//     arrangements (stamped with their last installment's due date, see
//     RememberEntity), kept Rules.TombstoneDays.
//
// Live entities are recognised by their id in the state itself.

// Entity names the kind of an entity id for RememberEntity and
// EntityKnown: the same id string in two kinds is two entities.
type Entity byte

// Entity kinds.
const (
	EntityInvoice     Entity = 'i'
	EntityCancelled   Entity = 'c' // a cancelled invoice
	EntityPayment     Entity = 'p'
	EntityReversed    Entity = 'v' // a reversed payment
	EntityAdjustment  Entity = 'a'
	EntityDispute     Entity = 'd'
	EntityRefund      Entity = 'r'
	EntityArrangement Entity = 'g'
)

// maxLog bounds each log; beyond it the oldest entries are dropped before
// their window ends (an account taking more than 4096 events in
// DedupeDays; documented in doc.go).
const maxLog = 4096

// stamp is one log entry.
type stamp struct {
	h   uint64
	day event.Date
}

// hashMask keeps the 48 bits an id hash has. A log entry takes 6 bytes
// instead of 8 (state version 3), and the odds stay small: an account's
// log holds tens of ids, so a new id matches one by chance with odds of
// about 10^-13 (2^-48 per entry), while a book of millions of accounts
// sees some 10^10 events a year. Every hash is reduced mod 2^48 and so
// are the 64-bit hashes read from version-2 states: the arithmetic below
// is mod 2^48 throughout, so an old entry equals the new hash of its id.
const hashMask = 1<<48 - 1

// hashID is FNV-1a (64-bit) of s, reduced to 48 bits.
func hashID(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h & hashMask
}

// entityKey is the gone-log hash of an entity id of kind k.
func entityKey(k Entity, id string) uint64 { return kindKey(k, hashID(id)) }

// kindKey mixes the kind into an id hash (a bijection of the 48-bit
// hashes for each kind: adding a constant and multiplying by an odd one
// mod 2^48, so the collision odds stay those of the hash). Adjustment ids are
// kept on their item as plain hashes, and become kindKey(EntityAdjustment,
// h) when the item is pruned.
func kindKey(k Entity, h uint64) uint64 {
	return ((h + uint64(k)*0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9) & hashMask
}

// logHas reports whether h is in l stamped on or after cutoff (entries
// before it are expired even while not yet pruned).
func logHas(l []stamp, h uint64, cutoff event.Date) bool {
	for i := range l {
		if l[i].h == h && l[i].day >= cutoff {
			return true
		}
	}
	return false
}

func logAdd(l []stamp, h uint64, day event.Date) []stamp {
	if len(l) >= maxLog {
		l = append(l[:0], l[len(l)-maxLog+1:]...)
	}
	return append(l, stamp{h, day})
}

// logPrune drops the entries stamped before cutoff.
func logPrune(l []stamp, cutoff event.Date) []stamp {
	k := 0
	for k < len(l) && l[k].day < cutoff {
		k++
	}
	if k == 0 {
		return l
	}
	if k == len(l) {
		return nil
	}
	// Entries are appended in day order, but the arrangement stamps look
	// ahead: keep any later entry that is still inside the window.
	out := l[:0]
	for _, s := range l {
		if s.day >= cutoff {
			out = append(out, s)
		}
	}
	return out
}

// SeenEvent reports whether an event with this id was accepted by the
// account within DedupeDays of now's day. The empty id is never seen.
func (r *Rules) SeenEvent(a *Account, id string, now time.Time) bool {
	return id != "" && logHas(a.events, hashID(id), dateOf(now)-event.Date(r.withDefaults().DedupeDays))
}

// NoteEvent records an event the account accepted outside Apply
// (dunning's kinds: arrangements, holds, releases) so that a repeat of its
// id is a duplicate, and prunes both logs at now's day.
func (r *Rules) NoteEvent(a *Account, id string, now time.Time) {
	rules := r.withDefaults()
	today := dateOf(now)
	if id != "" {
		a.events = logAdd(a.events, hashID(id), today)
	}
	a.pruneLogs(today, &rules)
}

// EntityKnown reports whether an entity id of kind k is in the gone log
// within TombstoneDays of now's day (for kinds whose live entities the
// ledger holds, the caller checks the live state first).
func (r *Rules) EntityKnown(a *Account, k Entity, id string, now time.Time) bool {
	return logHas(a.gone, entityKey(k, id), dateOf(now)-event.Date(r.withDefaults().TombstoneDays))
}

// duplicate marks the event a repeat of one the account already took.
func (al *allocator) duplicate() error {
	al.res.Duplicate = true
	return nil
}

// known is EntityKnown inside Apply.
func (al *allocator) known(k Entity, id string) bool {
	return logHas(al.a.gone, entityKey(k, id), al.goneCut)
}

// RememberEntity puts an entity id of kind k in the gone log stamped with
// day: it is recognised until day + Rules.TombstoneDays. Dunning's
// arrangements are remembered this way when created, stamped with their
// last installment's due date, so a repeat is recognised for the
// arrangement's life and the window after it.
func (a *Account) RememberEntity(k Entity, id string, day event.Date) { a.bury(entityKey(k, id), day) }

func (a *Account) bury(h uint64, day event.Date) {
	if !logHas(a.gone, h, day) {
		a.gone = logAdd(a.gone, h, day)
	}
}

func (a *Account) pruneLogs(today event.Date, r *Rules) {
	a.events = logPrune(a.events, today-event.Date(r.DedupeDays))
	a.gone = logPrune(a.gone, today-event.Date(r.TombstoneDays))
}
