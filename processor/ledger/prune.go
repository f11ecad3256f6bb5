package ledger

import "github.com/arrears/arrears/processor/event"

// Pruning bounds an account's growth. After every applied event, with
// cutoff = now's day - Rules.ReversalWindowDays:
//
//   - a payment record dated before cutoff is dropped: what it settled
//     stays settled (it becomes irrevocable credit on the item), its
//     unapplied credit moves to the currency's anonymous pool, and a later
//     reversal of it is rejected as unknown_payment (a repeat of it is no
//     longer recognised by payment id);
//   - a settled or cancelled item with nothing open, no open dispute, no
//     kept payment record referring to it and settled before cutoff is
//     dropped (a repeat of its InvoiceIssued is then no longer recognised,
//     and a resolution of one of its disputes is rejected as
//     unknown_dispute).
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
