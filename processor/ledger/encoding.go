package ledger

import (
	"fmt"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// stateVersion is the first byte of an encoded Account. UnmarshalBinary
// also reads versions 1 to 3 (decode.go).
const (
	stateVersion   = 4
	stateVersionV3 = 3
	stateVersionV2 = 2
	stateVersionV1 = 1
)

// Encoding (version 4): no field names, all integers varints
// (internal/varint). Dates are zigzag deltas (an item's issue date from
// the previous item's, its due and settlement dates from its issue date, a
// payment's day from the previous payment's, the rest from a base day,
// FirstSeen) so most take one byte; currencies are written once in a table
// and referred to by index (none with a single currency), the master
// currency as ""; common time zones
// are a code (zoneCodes); a payment's parts refer to items by index and
// its last part is the difference from what the payment's amount leaves
// (0, one byte, when the payment settled exactly that); open amounts equal
// to 0 or to the item amount are flag bits.
//
//	version byte
//	flags (known, closed), base day
//	master: segment code [+ string], parent, credit class, currency,
//	        zone code [+ timezone], credit limit, consents (code [+ string])..., exemptions...
//	currency table, pool (currency index, amount)...
//	items: id (delta of the previous id), flags, currency index, amount, [open], issue, due-issue,
//	       [settled on], [pool credit], [disputes], [adjustment hashes]
//	payments: id (delta), flags, currency index, amount, day, [unapplied],
//	          [refunded], parts (item index, amount; the last one as a difference)...
//	counters: flags, the four usual ones, the flagged rare ones
//	(appendCounters), [rare months: month delta, flags, flagged counters...],
//	event log and gone log: (hash 6 bytes, day delta)... each.
//
// Version 3 wrote every counter and month counter, zero or not, and the
// month count even when 0: the bench book's states, 3 months in, are 5.9
// bytes shorter on average in version 4 (221.1 -> 215.2 at 20k accounts).
//
// Version 2 wrote every hash (log entries, adjustment hashes) in 8 bytes;
// its 64-bit hashes are read reduced to 48 bits (dedupe.go hashMask).
//
// Version 1 differed in: dates of items and payments from the base day,
// the timezone as a string, currencies always
// spelled, absolute part amounts, no unknown-invoice counter, and a ring
// of recent event-id hashes (count, next slot, hashes) instead of the two
// logs.

const (
	itemCancelled = 1 << iota
	itemSettled
	itemOpenZero
	itemOpenFull
	itemCredit
	itemDisputes
	itemAdj
)

const (
	payReversed = 1 << iota
	payUnapplied
	payRefunded
)

var segmentCodes = [...]event.Segment{"", event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale}

// zoneCodes are the time zones written as one byte (code i+1; code 0 is a
// spelled zone). Append only: a code, once written, must keep its zone.
var zoneCodes = [...]string{"", "UTC", "Europe/Berlin", "Europe/Paris", "Europe/London", "America/New_York",
	"Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Brussels", "Europe/Vienna", "Europe/Zurich",
	"Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki", "Europe/Warsaw", "Europe/Prague",
	"Europe/Lisbon", "Europe/Dublin", "Europe/Athens", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Toronto", "America/Sao_Paulo", "America/Mexico_City", "Asia/Tokyo", "Asia/Singapore", "Asia/Hong_Kong",
	"Asia/Kolkata", "Asia/Dubai", "Asia/Shanghai", "Australia/Sydney", "Africa/Johannesburg"}
var channelCodes = [...]event.Channel{"", event.Email, event.SMS, event.Letter, event.Push}

// MarshalBinary encodes the account compactly (see AppendBinary).
func (a *Account) MarshalBinary() ([]byte, error) {
	return a.AppendBinary(make([]byte, 0, 256))
}

// AppendBinary appends the account's encoding to b. It fails only on an
// account whose invariants are broken.
func (a *Account) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	flags := uint64(0)
	if a.known {
		flags |= 1
	}
	if a.closed {
		flags |= 2
	}
	base := a.counters.FirstSeen
	b = varint.AppendUvarint(b, flags)
	b = varint.AppendVarint(b, int64(base))

	if a.known {
		m := &a.master
		code := 5
		for i, s := range segmentCodes {
			if s == m.Segment {
				code = i
			}
		}
		b = append(b, byte(code))
		if code == 5 {
			b = appendStr(b, string(m.Segment))
		}
		b = appendStr(b, m.ParentID)
		b = appendStr(b, m.CreditClass)
		b = appendStr(b, string(m.Currency))
		zone := 0
		for i, z := range zoneCodes {
			if z == m.Timezone {
				zone = i + 1
			}
		}
		b = append(b, byte(zone))
		if zone == 0 {
			b = appendStr(b, m.Timezone)
		}
		b = appendAmount(b, event.Amount(m.CreditLimit))
		b = varint.AppendUvarint(b, uint64(len(m.Consents)))
		for _, c := range m.Consents {
			code := 0
			for i, x := range channelCodes[1:] {
				if x == c {
					code = i + 1
				}
			}
			b = append(b, byte(code))
			if code == 0 {
				b = appendStr(b, string(c))
			}
		}
		b = varint.AppendUvarint(b, uint64(len(m.Exemptions)))
		for _, e := range m.Exemptions {
			b = appendStr(b, e)
		}
	}

	// Currency table, in order of first use.
	var curBuf [4]event.Currency
	curs := curBuf[:0]
	add := func(c event.Currency) {
		for _, x := range curs {
			if x == c {
				return
			}
		}
		curs = append(curs, c)
	}
	for i := range a.pool {
		add(a.pool[i].cur)
	}
	for i := range a.items {
		add(a.items[i].Currency)
	}
	for i := range a.pays {
		add(a.pays[i].cur)
	}
	b = varint.AppendUvarint(b, uint64(len(curs)))
	for _, c := range curs {
		if a.known && c == a.master.Currency {
			c = ""
		}
		b = appendStr(b, string(c))
	}
	b = varint.AppendUvarint(b, uint64(len(a.pool)))
	for i := range a.pool {
		b = appendIdx(b, curs, a.pool[i].cur)
		b = appendAmount(b, event.Amount(a.pool[i].amt))
	}

	b = varint.AppendUvarint(b, uint64(len(a.items)))
	prevIssue := base
	for i := range a.items {
		it := &a.items[i]
		f := uint64(0)
		if it.Cancelled {
			f |= itemCancelled
		}
		if it.Settled {
			f |= itemSettled
		}
		switch it.Open {
		case 0:
			f |= itemOpenZero
		case it.Amount:
			f |= itemOpenFull
		}
		if it.credit != 0 {
			f |= itemCredit
		}
		if len(it.Disputes) > 0 {
			f |= itemDisputes
		}
		if len(it.adj) > 0 {
			f |= itemAdj
		}
		prev := ""
		if i > 0 {
			prev = a.items[i-1].InvoiceID
		}
		b = varint.AppendDelta(b, prev, it.InvoiceID)
		b = varint.AppendUvarint(b, f)
		b = appendIdx(b, curs, it.Currency)
		b = appendAmount(b, event.Amount(it.Amount))
		if f&(itemOpenZero|itemOpenFull) == 0 {
			b = appendAmount(b, event.Amount(it.Open))
		}
		b = varint.AppendVarint(b, int64(it.IssueDate)-int64(prevIssue))
		prevIssue = it.IssueDate
		b = varint.AppendVarint(b, int64(it.DueDate-it.IssueDate))
		if it.Settled {
			b = varint.AppendVarint(b, int64(it.SettledOn)-int64(it.IssueDate))
		}
		if it.credit != 0 {
			b = appendAmount(b, event.Amount(it.credit))
		}
		if len(it.Disputes) > 0 {
			b = varint.AppendUvarint(b, uint64(len(it.Disputes)))
			for _, d := range it.Disputes {
				b = appendStr(b, d.ID)
				b = appendAmount(b, event.Amount(d.Amount))
				if d.Resolved {
					b = append(b, 1)
				} else {
					b = append(b, 0)
				}
			}
		}
		if len(it.adj) > 0 {
			b = varint.AppendUvarint(b, uint64(len(it.adj)))
			for _, h := range it.adj {
				b = varint.AppendU48(b, h)
			}
		}
	}

	b = varint.AppendUvarint(b, uint64(len(a.pays)))
	prevDay := base
	for i := range a.pays {
		p := &a.pays[i]
		f := uint64(0)
		if p.reversed {
			f |= payReversed
		}
		if p.unapplied != 0 {
			f |= payUnapplied
		}
		if p.refunded != 0 {
			f |= payRefunded
		}
		prev := ""
		if i > 0 {
			prev = a.pays[i-1].id
		}
		b = varint.AppendDelta(b, prev, p.id)
		b = varint.AppendUvarint(b, f)
		b = appendIdx(b, curs, p.cur)
		b = appendAmount(b, event.Amount(p.amount))
		b = varint.AppendVarint(b, int64(p.day)-int64(prevDay))
		prevDay = p.day
		if p.unapplied != 0 {
			b = appendAmount(b, event.Amount(p.unapplied))
		}
		if p.refunded != 0 {
			b = appendAmount(b, event.Amount(p.refunded))
		}
		b = varint.AppendUvarint(b, uint64(len(p.parts)))
		left := p.amount - p.unapplied - p.refunded
		for k, pt := range p.parts {
			j := a.itemIndex(pt.invoice)
			if j < 0 {
				return nil, fmt.Errorf("ledger: marshal: payment %s refers to missing invoice %s", p.id, pt.invoice)
			}
			b = varint.AppendUvarint(b, uint64(j))
			if k == len(p.parts)-1 {
				b = appendAmount(b, event.Amount(pt.amount-left))
			} else {
				b = appendAmount(b, event.Amount(pt.amount))
			}
			left -= pt.amount
		}
	}

	b = appendCounters(b, &a.counters, base)

	b = appendLog(b, a.events, base)
	b = appendLog(b, a.gone, base)
	return b, nil
}

// Counter flags (version 4): which of the counters that are mostly zero
// follow the four that rarely are; a rare month's flags say which of its
// four counters follow its month (bits 0 to 3, monthCount.counts). Bits
// 0 to 4 are Counters.flagged (late payments, reversals, disputes, broken
// promises, unknown invoice refs); the others:
const (
	ctrMaxDPD = 1 << (5 + iota)
	ctrLastPayment
	ctrMonths
)

// appendCounters writes the counters: a flags byte, the invoices,
// payments and settled items counts and the days-to-pay sum, then each
// flagged counter (a zero one is left out: most accounts have no
// reversal, dispute, broken promise or unknown invoice reference, and a
// new one no payment yet, whose day would take 3 bytes), then the rare
// months, each with its own flags.
func appendCounters(b []byte, c *Counters, base event.Date) []byte {
	rare := c.flagged()
	flags := byte(0)
	for i, v := range rare {
		if *v != 0 {
			flags |= 1 << i
		}
	}
	for _, f := range [...]struct {
		flag byte
		set  bool
	}{{ctrMaxDPD, c.MaxDaysPastDue != 0}, {ctrLastPayment, c.LastPayment != 0}, {ctrMonths, len(c.months) > 0}} {
		if f.set {
			flags |= f.flag
		}
	}
	b = append(b, flags)
	for _, v := range [...]uint32{c.InvoicesIssued, c.Payments, c.SettledItems} {
		b = varint.AppendUvarint(b, uint64(v))
	}
	b = varint.AppendVarint(b, c.DaysToPaySum)
	for _, v := range rare {
		if *v != 0 {
			b = varint.AppendUvarint(b, uint64(*v))
		}
	}
	if c.MaxDaysPastDue != 0 {
		b = varint.AppendVarint(b, int64(c.MaxDaysPastDue))
	}
	if c.LastPayment != 0 {
		b = varint.AppendVarint(b, int64(c.LastPayment)-int64(base))
	}
	if len(c.months) == 0 {
		return b
	}
	b = varint.AppendUvarint(b, uint64(len(c.months)))
	prev := monthOf(base) // months relative to the base day's
	for i := range c.months {
		m := &c.months[i]
		b = varint.AppendVarint(b, int64(m.month-prev))
		prev = m.month
		vs := m.counts()
		f := byte(0)
		for j, v := range vs {
			if *v != 0 {
				f |= 1 << j
			}
		}
		b = append(b, f)
		for _, v := range vs {
			if *v != 0 {
				b = varint.AppendUvarint(b, uint64(*v))
			}
		}
	}
	return b
}

// flagged are the counters behind flag bits 0 to 4, in bit order:
// appendCounters and decoder.counters share this one list.
func (c *Counters) flagged() [5]*uint32 {
	return [...]*uint32{&c.LatePayments, &c.Reversals, &c.DisputesOpened, &c.BrokenPromises, &c.UnknownInvoiceRefs}
}

// counts are a rare month's counters behind its flag bits 0 to 3.
func (m *monthCount) counts() [4]*uint16 {
	return [...]*uint16{&m.late, &m.reversals, &m.disputes, &m.broken}
}

func appendLog(b []byte, l []stamp, base event.Date) []byte {
	b = varint.AppendUvarint(b, uint64(len(l)))
	prev := base
	for _, s := range l {
		b = varint.AppendU48(b, s.h)
		b = varint.AppendVarint(b, int64(s.day)-int64(prev))
		prev = s.day
	}
	return b
}

// appendIdx writes the currency index of c, nothing when the table has
// one currency (the common case).
func appendIdx(b []byte, curs []event.Currency, c event.Currency) []byte {
	if len(curs) == 1 {
		return b
	}
	for i, x := range curs {
		if x == c {
			return varint.AppendUvarint(b, uint64(i))
		}
	}
	return varint.AppendUvarint(b, 0)
}

func appendStr(b []byte, s string) []byte { return varint.AppendString(b, s) }

// appendAmount writes a non-negative whole number of cents (hundredths
// of a currency unit, at event.Scale 4) as cents << 1, and any other
// amount as zigzag << 1 | 1: a bill of up to 81.91 takes two bytes.
func appendAmount(b []byte, a event.Amount) []byte {
	v := int64(a)
	if v >= 0 && v%100 == 0 {
		return varint.AppendUvarint(b, uint64(v/100)<<1)
	}
	return varint.AppendUvarint(b, (uint64(v<<1)^uint64(v>>63))<<1|1)
}
