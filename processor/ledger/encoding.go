package ledger

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/arrears/arrears/processor/event"
)

// stateVersion is the first byte of an encoded Account.
const stateVersion = 1

// Encoding (version 1): no field names, all integers varints. Dates are
// zigzag deltas from a base day (FirstSeen) so most take one or two bytes;
// currencies are written once in a table and referred to by index; a
// payment's parts refer to items by index; open amounts equal to 0 or to
// the item amount are flag bits.
//
//	version byte
//	flags (known, closed), base day
//	master: segment code [+ string], parent, credit class, currency,
//	        timezone, credit limit, consents (code [+ string])..., exemptions...
//	currency table, pool (currency index, amount)...
//	items: id (delta of the previous id), flags, currency index, amount, [open], issue, due-issue,
//	       [settled on], [pool credit], [disputes], [adjustment hashes]
//	payments: id (delta), flags, currency index, amount, day, [unapplied],
//	          [refunded], parts (item index, amount)...
//	counters, rare months, recent event-id ring (8 bytes each).

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
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, int64(base))
	day := func(b []byte, d event.Date) []byte { return binary.AppendVarint(b, int64(d)-int64(base)) }

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
		b = appendStr(b, m.Timezone)
		b = binary.AppendVarint(b, int64(m.CreditLimit))
		b = binary.AppendUvarint(b, uint64(len(m.Consents)))
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
		b = binary.AppendUvarint(b, uint64(len(m.Exemptions)))
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
	idx := func(c event.Currency) uint64 {
		for i, x := range curs {
			if x == c {
				return uint64(i)
			}
		}
		return 0
	}
	b = binary.AppendUvarint(b, uint64(len(curs)))
	for _, c := range curs {
		b = appendStr(b, string(c))
	}
	b = binary.AppendUvarint(b, uint64(len(a.pool)))
	for i := range a.pool {
		b = binary.AppendUvarint(b, idx(a.pool[i].cur))
		b = binary.AppendVarint(b, int64(a.pool[i].amt))
	}

	b = binary.AppendUvarint(b, uint64(len(a.items)))
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
		b = appendDelta(b, prev, it.InvoiceID)
		b = binary.AppendUvarint(b, f)
		b = binary.AppendUvarint(b, idx(it.Currency))
		b = binary.AppendVarint(b, int64(it.Amount))
		if f&(itemOpenZero|itemOpenFull) == 0 {
			b = binary.AppendVarint(b, int64(it.Open))
		}
		b = day(b, it.IssueDate)
		b = binary.AppendVarint(b, int64(it.DueDate-it.IssueDate))
		if it.Settled {
			b = day(b, it.SettledOn)
		}
		if it.credit != 0 {
			b = binary.AppendVarint(b, int64(it.credit))
		}
		if len(it.Disputes) > 0 {
			b = binary.AppendUvarint(b, uint64(len(it.Disputes)))
			for _, d := range it.Disputes {
				b = appendStr(b, d.ID)
				b = binary.AppendVarint(b, int64(d.Amount))
				if d.Resolved {
					b = append(b, 1)
				} else {
					b = append(b, 0)
				}
			}
		}
		if len(it.adj) > 0 {
			b = binary.AppendUvarint(b, uint64(len(it.adj)))
			for _, h := range it.adj {
				b = binary.LittleEndian.AppendUint64(b, h)
			}
		}
	}

	b = binary.AppendUvarint(b, uint64(len(a.pays)))
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
		b = appendDelta(b, prev, p.id)
		b = binary.AppendUvarint(b, f)
		b = binary.AppendUvarint(b, idx(p.cur))
		b = binary.AppendVarint(b, int64(p.amount))
		b = day(b, p.day)
		if p.unapplied != 0 {
			b = binary.AppendVarint(b, int64(p.unapplied))
		}
		if p.refunded != 0 {
			b = binary.AppendVarint(b, int64(p.refunded))
		}
		b = binary.AppendUvarint(b, uint64(len(p.parts)))
		for _, pt := range p.parts {
			j := a.itemIndex(pt.invoice)
			if j < 0 {
				return nil, fmt.Errorf("ledger: marshal: payment %s refers to missing invoice %s", p.id, pt.invoice)
			}
			b = binary.AppendUvarint(b, uint64(j))
			b = binary.AppendVarint(b, int64(pt.amount))
		}
	}

	c := &a.counters
	for _, v := range [...]uint32{c.InvoicesIssued, c.Payments, c.LatePayments, c.Reversals,
		c.DisputesOpened, c.BrokenPromises, c.SettledItems} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = binary.AppendVarint(b, c.DaysToPaySum)
	b = day(b, c.LastPayment)
	b = binary.AppendVarint(b, int64(c.MaxDaysPastDue))
	b = binary.AppendUvarint(b, uint64(len(c.months)))
	prev := int32(0)
	for _, m := range c.months {
		b = binary.AppendVarint(b, int64(m.month-prev))
		prev = m.month
		b = binary.AppendUvarint(b, uint64(m.late))
		b = binary.AppendUvarint(b, uint64(m.reversals))
		b = binary.AppendUvarint(b, uint64(m.disputes))
		b = binary.AppendUvarint(b, uint64(m.broken))
	}

	b = binary.AppendUvarint(b, uint64(len(a.recent)))
	if len(a.recent) > 0 {
		b = append(b, a.next)
	}
	for _, h := range a.recent {
		b = binary.LittleEndian.AppendUint64(b, h)
	}
	return b, nil
}

// appendDelta writes s as a change of prev: the length of their common
// prefix, of their common suffix (of what the prefix leaves), and the
// middle of s. Bill-run ids such as INV-202502-0012345 after
// INV-202501-0012345 take 3 bytes.
func appendDelta(b []byte, prev, s string) []byte {
	p := 0
	for p < len(prev) && p < len(s) && prev[p] == s[p] {
		p++
	}
	q := 0
	for q < len(prev)-p && q < len(s)-p && prev[len(prev)-1-q] == s[len(s)-1-q] {
		q++
	}
	b = binary.AppendUvarint(b, uint64(p))
	b = binary.AppendUvarint(b, uint64(q))
	return appendStr(b, s[p:len(s)-q])
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads an encoded account. Strings are substrings of one copy of
// the input, so decoding allocates little.
type decoder struct {
	s   string
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrStateCorrupt, what)
	}
	d.s = ""
}

func (d *decoder) uvarint(what string) uint64 {
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			d.s = d.s[i+1:]
			return v | uint64(c)<<(7*i)
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	d.fail(what)
	return 0
}

func (d *decoder) varint(what string) int64 {
	u := d.uvarint(what)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length that must be at most max and at most the bytes left
// divided by minSize.
func (d *decoder) count(what string, max, minSize int) int {
	n := d.uvarint(what)
	if n > uint64(max) || n*uint64(minSize) > uint64(len(d.s)) {
		d.fail(what)
		return 0
	}
	return int(n)
}

func (d *decoder) str(what string) string {
	n := d.uvarint(what)
	if n > uint64(len(d.s)) {
		d.fail(what)
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// delta reads what appendDelta wrote.
func (d *decoder) delta(what, prev string) string {
	p, q := d.uvarint(what), d.uvarint(what)
	mid := d.str(what)
	if p+q > uint64(len(prev)) {
		d.fail(what)
		return ""
	}
	if p == 0 && q == 0 {
		return mid
	}
	return prev[:p] + mid + prev[uint64(len(prev))-q:]
}

func (d *decoder) byte1(what string) byte {
	if len(d.s) == 0 {
		d.fail(what)
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) u64(what string) uint64 {
	if len(d.s) < 8 {
		d.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint64([]byte(d.s[:8]))
	d.s = d.s[8:]
	return v
}

func (d *decoder) amount(what string) event.Amount {
	v := d.varint(what)
	if v < -maxCredit || v > maxCredit {
		d.fail(what)
	}
	return event.Amount(v)
}

func (d *decoder) day(what string, base event.Date) event.Date {
	v := d.varint(what) + int64(base)
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(what)
		return 0
	}
	return event.Date(v)
}

func (d *decoder) u32(what string) uint32 {
	v := d.uvarint(what)
	if v > math.MaxUint32 {
		d.fail(what)
	}
	return uint32(v)
}
