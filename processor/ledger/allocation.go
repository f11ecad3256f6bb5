package ledger

import (
	"slices"

	"github.com/arrears/arrears/processor/event"
)

// Allocation rules (DESIGN.md "Receivables ledger"):
//
//   - A payment first settles the invoices it names, in the order named, in
//     full (disputed part included); names of settled, cancelled or
//     other-currency invoices are skipped. A name the account does not hold
//     is not silent: it is listed in Result.UnknownInvoices and counted in
//     Counters.UnknownInvoiceRefs (the status carries the count), and the
//     cash it meant goes the oldest-due-first way below (then credit).
//   - The rest settles the items of the payment's currency in allocation
//     order (due date, issue date, invoice id), in two passes: the
//     undisputed open amounts first, then the disputed ones.
//   - What is left is unapplied credit owned by the payment.
//   - Whenever an open amount appears in a currency with credit (an invoice
//     issued, a debit note, a reversal re-opening items, a credit note giving
//     a payment's cash back), the credit settles it by the same two passes,
//     taking the anonymous pool first, then the payments' credit in the
//     order the payments were applied. So after every event a currency has
//     either open items or unapplied credit, never both.
//   - Every amount a payment's cash settles is recorded on the payment
//     (its parts), so a reversal re-opens exactly that and drops the credit
//     the payment still holds.

// allocator collects the effects of one event's allocations.
type allocator struct {
	a   *Account
	day event.Date // the event's day: settlement date
	res *Result
	// goneCut is the oldest day of the gone log's window.
	goneCut event.Date
}

// settle applies amt of the given source (pay index, -1 for the pool) to
// item i.
func (al *allocator) settle(i int, src int, amt event.Amount) {
	it := &al.a.items[i]
	it.Open -= amt
	al.res.Settled += amt
	if src < 0 {
		it.credit += amt
	} else {
		p := &al.a.pays[src]
		p.parts = addPart(p.parts, it.InvoiceID, amt)
	}
	if it.Open == 0 {
		it.Settled, it.SettledOn = true, al.day
		c := &al.a.counters
		c.SettledItems = sat32(c.SettledItems)
		c.DaysToPaySum += int64(max(0, al.day-it.IssueDate))
		if al.day > it.DueDate {
			c.LatePayments = sat32(c.LatePayments)
			c.bump(rareLate, al.day)
		}
		al.res.PaidInvoices = append(al.res.PaidInvoices, it.InvoiceID)
	}
}

func addPart(ps []part, invoice string, amt event.Amount) []part {
	for i := range ps {
		if ps[i].invoice == invoice {
			ps[i].amount += amt
			return ps
		}
	}
	return append(ps, part{invoice, amt})
}

// portion is what pass (0: undisputed, 1: all) may settle on it.
func portion(it *Item, pass int) event.Amount {
	if pass == 0 {
		return it.Open - it.disputedOpen()
	}
	return it.Open
}

// payment allocates the new payment pays[pi] (its whole amount is in
// unapplied) to the named invoices, then oldest first.
func (al *allocator) payment(pi int, named []string) {
	a := al.a
	p := &a.pays[pi]
	for k, id := range named {
		if slices.Contains(named[:k], id) {
			continue
		}
		i := a.itemIndex(id)
		if i < 0 {
			al.res.UnknownInvoices = append(al.res.UnknownInvoices, id)
			a.counters.UnknownInvoiceRefs = sat32(a.counters.UnknownInvoiceRefs)
			continue
		}
		if p.unapplied == 0 {
			continue
		}
		it := &a.items[i]
		if it.Currency != p.cur || it.Open == 0 {
			continue
		}
		x := min(it.Open, p.unapplied)
		p.unapplied -= x
		al.settle(i, pi, x)
	}
	for pass := 0; pass < 2 && p.unapplied > 0; pass++ {
		for i := range a.items {
			it := &a.items[i]
			if it.Currency != p.cur {
				continue
			}
			if x := min(portion(it, pass), p.unapplied); x > 0 {
				p.unapplied -= x
				al.settle(i, pi, x)
				if p.unapplied == 0 {
					return
				}
			}
		}
	}
}

// applyCredit settles open items of c from the pool and the payments'
// credit.
func (al *allocator) applyCredit(c event.Currency) {
	a := al.a
	src := -2 // next credit source: -1 pool, >= 0 pay index
	var avail event.Amount
	nextSource := func() bool {
		for {
			src++
			if src == -1 {
				if j := a.poolIndex(c); j >= 0 && a.pool[j].amt > 0 {
					avail = a.pool[j].amt
					return true
				}
				continue
			}
			if src >= len(a.pays) {
				return false
			}
			if p := &a.pays[src]; p.cur == c && p.unapplied > 0 {
				avail = p.unapplied
				return true
			}
		}
	}
	if !nextSource() {
		return
	}
	for pass := 0; pass < 2; pass++ {
		for i := range a.items {
			it := &a.items[i]
			if it.Currency != c {
				continue
			}
			for need := portion(it, pass); need > 0; need = portion(it, pass) {
				x := min(need, avail)
				if src < 0 {
					a.addPool(c, -x)
				} else {
					a.pays[src].unapplied -= x
				}
				avail -= x
				al.settle(i, src, x)
				if avail == 0 && !nextSource() {
					return
				}
			}
		}
	}
}

// giveBack takes amt of what was settled on item i back to where it came
// from: the pool's share first, then the payments' parts, latest payment
// first. The payments get it back as unapplied credit.
func (al *allocator) giveBack(i int, amt event.Amount) {
	a := al.a
	it := &a.items[i]
	if x := min(amt, it.credit); x > 0 {
		it.credit -= x
		a.addPool(it.Currency, x)
		amt -= x
	}
	for pi := len(a.pays) - 1; pi >= 0 && amt > 0; pi-- {
		p := &a.pays[pi]
		for k := range p.parts {
			if p.parts[k].invoice != it.InvoiceID {
				continue
			}
			x := min(amt, p.parts[k].amount)
			p.parts[k].amount -= x
			p.unapplied += x
			amt -= x
			if p.parts[k].amount == 0 {
				p.parts = slices.Delete(p.parts, k, k+1)
			}
			break
		}
	}
}

// reduce lowers item i's amount by amt (a credit note, an upheld dispute's
// credit, a cancellation): the open amount first, then, if the item was
// (partly) settled, the excess goes back to the settling payments as
// credit, which then settles other open items.
func (al *allocator) reduce(i int, amt event.Amount) {
	it := &al.a.items[i]
	wasOpen := it.Open > 0
	fromOpen := min(amt, it.Open)
	it.Open -= fromOpen
	it.Amount -= amt
	if over := amt - fromOpen; over > 0 {
		al.giveBack(i, over)
	}
	it = &al.a.items[i]
	if wasOpen && it.Open == 0 {
		it.Settled, it.SettledOn = true, al.day
	}
	al.applyCredit(it.Currency)
}

// reverse undoes payment pays[pi]: every part re-opens its item and the
// payment's remaining credit is dropped.
func (al *allocator) reverse(pi int) {
	a := al.a
	p := &a.pays[pi]
	for _, pt := range p.parts {
		if i := a.itemIndex(pt.invoice); i >= 0 {
			it := &a.items[i]
			it.Open += pt.amount
			it.Settled, it.SettledOn = false, 0
			al.res.Reopened += pt.amount
		}
	}
	p.parts = p.parts[:0]
	p.unapplied = 0
	p.reversed = true
}
