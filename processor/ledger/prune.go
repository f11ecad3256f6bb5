package ledger

import "github.com/arrears/arrears/processor/event"

// Pruning bounds an account's growth. After every applied event, with
// cutoff = now's day - Rules.ReversalWindowDays:
//
//   - a payment record dated before cutoff is dropped: what it settled
//     stays settled (it becomes irrevocable credit on the item), its
//     unapplied credit moves to the currency's anonymous pool, and a later
//     reversal of it is rejected as unknown_payment (a repeated reversal of
//     a reversed one is a duplicate);
//   - a settled or cancelled item with nothing open, no open dispute, no
//     kept payment record referring to it and settled before cutoff is
//     dropped.
//
// What is dropped leaves its ids in the gone log (dedupe.go) for
// Rules.TombstoneDays: a repeat of the payment, the invoice, its
// cancellation, its adjustments or its disputes (opened or resolved) is a
// Duplicate then, whatever its content (the content is gone).
//
// The rare-counter months older than 12 months are dropped as they are
// bumped (counters.go).
func (a *Account) prune(today event.Date, r *Rules) {
	cutoff := today - event.Date(r.ReversalWindowDays)
	if !a.anyPrunable(cutoff) {
		return
	}
	keep := a.pays[:0]
	for i := range a.pays {
		p := &a.pays[i]
		if p.day >= cutoff {
			keep = append(keep, *p)
			continue
		}
		a.bury(entityKey(pick(p.reversed, EntityReversed, EntityPayment), p.id), today)
		for _, pt := range p.parts {
			if j := a.itemIndex(pt.invoice); j >= 0 {
				a.items[j].credit += pt.amount
			}
		}
		a.addPool(p.cur, p.unapplied)
	}
	clear(a.pays[len(keep):])
	a.pays = keep

	items := a.items[:0]
	for i := range a.items {
		it := &a.items[i]
		if !it.prunable(cutoff) || a.referenced(it.InvoiceID) {
			items = append(items, *it)
			continue
		}
		a.bury(entityKey(pick(it.Cancelled, EntityCancelled, EntityInvoice), it.InvoiceID), today)
		for _, h := range it.adj {
			a.bury(kindKey(EntityAdjustment, h), today)
		}
		for _, d := range it.Disputes {
			a.bury(entityKey(EntityDispute, d.ID), today)
		}
	}
	clear(a.items[len(items):])
	a.items = items
}

// anyPrunable is a quick scan so the common case (nothing old) copies nothing.
func (a *Account) anyPrunable(cutoff event.Date) bool {
	for i := range a.pays {
		if a.pays[i].day < cutoff {
			return true
		}
	}
	for i := range a.items {
		if a.items[i].prunable(cutoff) && !a.referenced(a.items[i].InvoiceID) {
			return true
		}
	}
	return false
}

func (it *Item) prunable(cutoff event.Date) bool {
	if it.Open != 0 || !it.Settled || it.SettledOn >= cutoff {
		return false
	}
	for k := range it.Disputes {
		if !it.Disputes[k].Resolved {
			return false
		}
	}
	return true
}

// referenced reports whether a kept payment record settled part of invoice.
func (a *Account) referenced(invoice string) bool {
	for i := range a.pays {
		for _, pt := range a.pays[i].parts {
			if pt.invoice == invoice {
				return true
			}
		}
	}
	return false
}

func pick[T any](c bool, yes, no T) T {
	if c {
		return yes
	}
	return no
}
