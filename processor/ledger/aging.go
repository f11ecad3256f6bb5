package ledger

import (
	"slices"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Aging bucket indexes of event.CurrencyBalance.Aging.
const (
	AgingCurrent = iota // not yet due (days past due <= 0)
	Aging1to30
	Aging31to60
	Aging61to90
	Aging91to120
	Aging120Plus
)

// AgingBucket returns the bucket of an item daysPastDue days past due.
func AgingBucket(daysPastDue int32) int {
	switch {
	case daysPastDue <= 0:
		return AgingCurrent
	case daysPastDue <= 30:
		return Aging1to30
	case daysPastDue <= 60:
		return Aging31to60
	case daysPastDue <= 90:
		return Aging61to90
	case daysPastDue <= 120:
		return Aging91to120
	}
	return Aging120Plus
}

// All "as of now" helpers take the calendar day of now in now's location
// (event.DateOf): pass now.In(loc) to age in the account's timezone. An item
// is past due from the day after its due date.

// Balance returns the account's position in currency c as of now: the sum of
// open items, the overdue part (past due, not disputed), the disputed part
// (min(disputed, open) per item), unapplied credit and the aging of the open
// amount (disputed included).
func (a *Account) Balance(c event.Currency, now time.Time) event.CurrencyBalance {
	today := dateOf(now)
	b := event.CurrencyBalance{Currency: c, Unapplied: a.Unapplied(c)}
	for i := range a.items {
		it := &a.items[i]
		if it.Currency != c || it.Open == 0 {
			continue
		}
		a.addItem(&b, it, today)
	}
	return b
}

func (a *Account) addItem(b *event.CurrencyBalance, it *Item, today event.Date) {
	d := it.disputedOpen()
	b.Open += it.Open
	b.Disputed += d
	dpd := int32(today - it.DueDate)
	if dpd > 0 {
		b.Overdue += it.Open - d
	}
	b.Aging[AgingBucket(dpd)] += it.Open
}

// Aging returns the aging buckets of the open amount in c as of now
// (indexes AgingCurrent ... Aging120Plus).
func (a *Account) Aging(c event.Currency, now time.Time) [6]event.Amount {
	return a.Balance(c, now).Aging
}

// Balances returns one balance per currency with an open amount or
// unapplied credit, sorted by currency.
func (a *Account) Balances(now time.Time) []event.CurrencyBalance {
	return a.AppendBalances(nil, now)
}

// AppendBalances appends Balances(now) to dst; with a large enough dst it
// does not allocate.
func (a *Account) AppendBalances(dst []event.CurrencyBalance, now time.Time) []event.CurrencyBalance {
	today := dateOf(now)
	start := len(dst)
	slot := func(c event.Currency) *event.CurrencyBalance {
		for i := start; i < len(dst); i++ {
			if dst[i].Currency == c {
				return &dst[i]
			}
		}
		dst = append(dst, event.CurrencyBalance{Currency: c})
		return &dst[len(dst)-1]
	}
	for i := range a.items {
		it := &a.items[i]
		if it.Open > 0 {
			a.addItem(slot(it.Currency), it, today)
		}
	}
	for i := range a.pool {
		slot(a.pool[i].cur).Unapplied += a.pool[i].amt
	}
	for i := range a.pays {
		if p := &a.pays[i]; p.unapplied > 0 {
			slot(p.cur).Unapplied += p.unapplied
		}
	}
	slices.SortFunc(dst[start:], func(x, y event.CurrencyBalance) int {
		switch {
		case x.Currency < y.Currency:
			return -1
		case x.Currency > y.Currency:
			return 1
		}
		return 0
	})
	return dst
}

// OverdueItems returns copies of the items with an undisputed open amount
// past due as of now, oldest due first.
func (a *Account) OverdueItems(now time.Time) []Item {
	today := dateOf(now)
	var out []Item
	for i := range a.items {
		it := &a.items[i]
		if it.DueDate < today && it.Open > it.disputedOpen() {
			out = append(out, it.clone())
		}
	}
	return out
}

// OldestOverdue returns the due date of the oldest item with an undisputed
// open amount past due as of now, and false when nothing is overdue.
func (a *Account) OldestOverdue(now time.Time) (event.Date, bool) {
	today := dateOf(now)
	for i := range a.items { // allocation order: oldest due first
		it := &a.items[i]
		if it.DueDate >= today {
			break
		}
		if it.Open > it.disputedOpen() {
			return it.DueDate, true
		}
	}
	return 0, false
}

// DaysPastDue returns the days past due of the oldest item with an
// undisputed open amount as of now; 0 when nothing is overdue.
func (a *Account) DaysPastDue(now time.Time) int32 {
	if d, ok := a.OldestOverdue(now); ok {
		return int32(dateOf(now) - d)
	}
	return 0
}
