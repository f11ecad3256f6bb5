package ledger

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Counters are the per-account facts risk and analytics are fed from. The
// lifetime totals are exact; Last12Months adds windows over the rare ones.
type Counters struct {
	// InvoicesIssued counts InvoiceIssued events applied.
	InvoicesIssued uint32
	// Payments counts PaymentReceived events applied.
	Payments uint32
	// LatePayments counts items a payment (or its credit) settled in full
	// after their due date.
	LatePayments uint32
	// Reversals counts PaymentReversed events applied.
	Reversals uint32
	// DisputesOpened counts DisputeOpened events applied.
	DisputesOpened uint32
	// BrokenPromises counts NotePromiseBroken calls.
	BrokenPromises uint32
	// SettledItems counts items a payment (or its credit) settled in full,
	// and DaysToPaySum their days from issue to settlement; an item
	// re-opened by a reversal and settled again counts twice.
	SettledItems uint32
	DaysToPaySum int64
	// FirstSeen is the day of the account's first applied event (tenure);
	// LastPayment the day of its latest payment (0: none).
	FirstSeen   event.Date
	LastPayment event.Date
	// MaxDaysPastDue is the largest days past due of an undisputed open item
	// seen at any Apply or Observe.
	MaxDaysPastDue int32
	// UnknownInvoiceRefs counts the invoice ids payments named that the
	// account did not hold (allocation.go: the cash went oldest due first
	// instead).
	UnknownInvoiceRefs uint32

	// months holds the rare counters per calendar month for the last 12
	// months, oldest first, only months with something in them.
	months []monthCount
}

// monthCount is one calendar month's rare events.
type monthCount struct {
	month     int32 // months since 1970-01
	late      uint16
	reversals uint16
	disputes  uint16
	broken    uint16
}

// AvgDaysToPay is the running mean of days from issue to full settlement
// over every item settled by payment; 0 when none was.
func (c Counters) AvgDaysToPay() float64 {
	if c.SettledItems == 0 {
		return 0
	}
	return float64(c.DaysToPaySum) / float64(c.SettledItems)
}

// TenureDays is the number of days from FirstSeen to now's date (0 before
// the first event).
func (c Counters) TenureDays(now time.Time) int32 {
	if c.FirstSeen == 0 {
		return 0
	}
	return max(0, int32(dateOf(now)-c.FirstSeen))
}

// Window is the rare counters over a 12-month window.
type Window struct {
	LatePayments   int32
	Reversals      int32
	DisputesOpened int32
	BrokenPromises int32
}

// Last12Months sums the rare counters over the calendar month of now and
// the 11 before it.
func (c Counters) Last12Months(now time.Time) Window {
	cur := monthOf(dateOf(now))
	var w Window
	for _, m := range c.months {
		if m.month > cur-12 && m.month <= cur {
			w.LatePayments += int32(m.late)
			w.Reversals += int32(m.reversals)
			w.DisputesOpened += int32(m.disputes)
			w.BrokenPromises += int32(m.broken)
		}
	}
	return w
}

// dateOf is event.DateOf with a fast path for UTC times (the partition
// clock and most event times).
func dateOf(t time.Time) event.Date {
	if t.Location() == time.UTC {
		s := t.Unix()
		d := s / 86400
		if s%86400 < 0 {
			d--
		}
		return event.Date(d)
	}
	return event.DateOf(t)
}

// monthOf returns the months since 1970-01 of day d.
// (civil-from-days, H. Hinnant; no time.Time on the hot path).
func monthOf(d event.Date) int32 {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
		y++
	}
	return int32(y-1970)*12 + int32(m) - 1
}

// Rare counter kinds for bump.
const (
	rareLate = iota
	rareReversal
	rareDispute
	rareBroken
)

// bump adds one to a rare counter's month and drops months more than 12
// before the newest one.
func (c *Counters) bump(kind int, day event.Date) {
	mo := monthOf(day)
	i := len(c.months) - 1
	for i >= 0 && c.months[i].month > mo {
		i--
	}
	if i < 0 || c.months[i].month != mo {
		latest := mo
		if n := len(c.months); n > 0 && c.months[n-1].month > latest {
			latest = c.months[n-1].month
		}
		if mo <= latest-12 {
			return // older than any window we keep
		}
		c.months = append(c.months, monthCount{})
		copy(c.months[i+2:], c.months[i+1:])
		i++
		c.months[i] = monthCount{month: mo}
	}
	m := &c.months[i]
	switch kind {
	case rareLate:
		m.late = sat16(m.late)
	case rareReversal:
		m.reversals = sat16(m.reversals)
	case rareDispute:
		m.disputes = sat16(m.disputes)
	case rareBroken:
		m.broken = sat16(m.broken)
	}
	latest := c.months[len(c.months)-1].month
	drop := 0
	for drop < len(c.months) && c.months[drop].month <= latest-12 {
		drop++
	}
	if drop > 0 {
		c.months = append(c.months[:0], c.months[drop:]...)
	}
}

func sat16(v uint16) uint16 {
	if v == 1<<16-1 {
		return v
	}
	return v + 1
}

func sat32(v uint32) uint32 {
	if v == 1<<32-1 {
		return v
	}
	return v + 1
}

// NotePromiseBroken counts a broken promise to pay or missed installment at
// now (dunning calls it). It always changes the account.
func (a *Account) NotePromiseBroken(now time.Time) {
	a.counters.BrokenPromises = sat32(a.counters.BrokenPromises)
	a.counters.bump(rareBroken, dateOf(now))
}

// Observe updates MaxDaysPastDue at now and reports whether it changed; the
// processor calls it when a timer wakes the account, Apply calls it itself.
func (a *Account) Observe(now time.Time) bool {
	if d := a.DaysPastDue(now); d > a.counters.MaxDaysPastDue {
		a.counters.MaxDaysPastDue = d
		return true
	}
	return false
}
