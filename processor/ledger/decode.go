package ledger

import (
	"fmt"
	"math"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// UnmarshalBinary decodes what MarshalBinary produced, in this version
// or versions 3, 2 and 1. It fails with ErrStateVersion or ErrStateCorrupt (never
// panics, never allocates beyond what the input's length allows) and
// leaves a unchanged on error.
//
// A version-1 account's ring of recent event-id hashes becomes its event
// log, stamped with the account's latest day; the refund ids that shared
// the ring then guard against a repeat of the refund's event id only.
func (a *Account) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrStateCorrupt)
	}
	ver := b[0]
	if ver != stateVersion && ver != stateVersionV3 && ver != stateVersionV2 && ver != stateVersionV1 {
		return fmt.Errorf("%w: %d", ErrStateVersion, b[0])
	}
	v1 := ver == stateVersionV1
	d := decoder{Reader: varint.NewReader(string(b[1:])), v1: v1, wide: ver < stateVersionV3}
	var n Account
	flags := d.Uvarint("flags")
	n.known, n.closed = flags&1 != 0, flags&2 != 0
	base := d.day("base day", 0)
	n.counters.FirstSeen = base

	if n.known {
		m := &n.master
		code := d.Byte("segment")
		switch {
		case int(code) < len(segmentCodes):
			m.Segment = segmentCodes[code]
		case code == 5:
			m.Segment = event.Segment(d.Str("segment"))
		default:
			d.Fail("segment")
		}
		m.ParentID = d.Str("parent id")
		m.CreditClass = d.Str("credit class")
		m.Currency = event.Currency(d.Str("currency"))
		switch zone := 0; {
		case v1:
			m.Timezone = d.Str("timezone")
		default:
			zone = int(d.Byte("zone"))
			switch {
			case zone == 0:
				m.Timezone = d.Str("timezone")
			case zone <= len(zoneCodes):
				m.Timezone = zoneCodes[zone-1]
			default:
				d.Fail("zone")
			}
		}
		m.CreditLimit = d.amount("credit limit")
		if k := d.Count("consents", 1<<16, 1); k > 0 {
			m.Consents = make([]event.Channel, k)
			for i := range m.Consents {
				code := d.Byte("consent")
				switch {
				case code == 0:
					m.Consents[i] = event.Channel(d.Str("consent"))
				case int(code) < len(channelCodes):
					m.Consents[i] = channelCodes[code]
				default:
					d.Fail("consent")
				}
			}
		}
		if k := d.Count("exemptions", 1<<16, 1); k > 0 {
			m.Exemptions = make([]string, k)
			for i := range m.Exemptions {
				m.Exemptions[i] = d.Str("exemption")
			}
		}
	}

	var curBuf [4]event.Currency
	curs := curBuf[:0]
	for k := d.Count("currencies", 1<<16, 1); k > 0; k-- {
		c := event.Currency(d.Str("currency"))
		if c == "" && !v1 {
			c = n.master.Currency
		}
		curs = append(curs, c)
	}
	cur := func(what string) event.Currency {
		if len(curs) == 1 && !v1 {
			return curs[0]
		}
		i := d.Uvarint(what)
		if i >= uint64(len(curs)) {
			d.Fail(what)
			return ""
		}
		return curs[i]
	}
	if k := d.Count("pool", 1<<16, 1); k > 0 {
		n.pool = make([]money, k)
		for i := range n.pool {
			n.pool[i] = money{cur("pool currency"), d.amount("pool amount")}
		}
	}

	prevIssue, prevDay := base, base
	if k := d.Count("items", 1<<20, 7); k > 0 {
		n.items = make([]Item, k)
		for i := range n.items {
			it := &n.items[i]
			prev := ""
			if i > 0 {
				prev = n.items[i-1].InvoiceID
			}
			it.InvoiceID = d.Delta("invoice id", prev)
			f := d.Uvarint("item flags")
			it.Currency = cur("item currency")
			it.Amount = d.amount("item amount")
			switch {
			case f&itemOpenZero != 0:
			case f&itemOpenFull != 0:
				it.Open = it.Amount
			default:
				it.Open = d.amount("item open")
			}
			it.IssueDate = d.day("issue date", prevIssue)
			if !v1 {
				prevIssue = it.IssueDate
			}
			it.DueDate = d.day("due date", it.IssueDate)
			it.Cancelled = f&itemCancelled != 0
			if f&itemSettled != 0 {
				it.Settled = true
				it.SettledOn = d.day("settled on", pick(v1, base, it.IssueDate))
			}
			if f&itemCredit != 0 {
				it.credit = d.amount("item credit")
			}
			if f&itemDisputes != 0 {
				it.Disputes = make([]Dispute, d.Count("disputes", 1<<16, 3))
				for k := range it.Disputes {
					dp := &it.Disputes[k]
					dp.ID = d.Str("dispute id")
					dp.Amount = d.amount("dispute amount")
					dp.Resolved = d.Byte("dispute resolved") != 0
					if !dp.Resolved {
						it.Disputed += dp.Amount
					}
				}
			}
			if f&itemAdj != 0 {
				it.adj = make([]uint64, d.Count("adjustments", 1<<16, d.hashBytes()))
				for k := range it.adj {
					it.adj[k] = d.hash("adjustment")
				}
			}
		}
	}

	if k := d.Count("payments", 1<<20, 7); k > 0 {
		n.pays = make([]payment, k)
		for i := range n.pays {
			p := &n.pays[i]
			prev := ""
			if i > 0 {
				prev = n.pays[i-1].id
			}
			p.id = d.Delta("payment id", prev)
			f := d.Uvarint("payment flags")
			p.reversed = f&payReversed != 0
			p.cur = cur("payment currency")
			p.amount = d.amount("payment amount")
			p.day = d.day("payment day", prevDay)
			if !v1 {
				prevDay = p.day
			}
			if f&payUnapplied != 0 {
				p.unapplied = d.amount("unapplied")
			}
			if f&payRefunded != 0 {
				p.refunded = d.amount("refunded")
			}
			if k := d.Count("parts", 1<<20, 2); k > 0 {
				p.parts = make([]part, k)
				left := p.amount - p.unapplied - p.refunded
				for j := range p.parts {
					x := d.Uvarint("part item")
					if x >= uint64(len(n.items)) {
						d.Fail("part item")
						break
					}
					amt := d.amount("part amount")
					if j == k-1 && !v1 {
						amt += left
					}
					left -= amt
					p.parts[j] = part{n.items[x].InvoiceID, amt}
				}
			}
		}
	}

	if ver >= stateVersion {
		d.counters(&n.counters, base)
	} else {
		d.countersV3(&n.counters, base)
	}
	if v1 {
		if k := d.Count("recent", 64, 8); k > 0 {
			d.Byte("recent next")
			last := n.lastDay()
			n.events = make([]stamp, k)
			for i := range n.events {
				n.events[i] = stamp{d.hash("recent"), last}
			}
		}
	} else {
		n.events = d.log("event log", base)
		n.gone = d.log("gone log", base)
	}
	d.End()
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStateCorrupt, err)
	}
	*a = n
	return nil
}

// counters reads what appendCounters wrote.
func (d decoder) counters(c *Counters, base event.Date) {
	flags := d.Byte("counter flags")
	c.InvoicesIssued, c.Payments, c.SettledItems = d.u32("counter"), d.u32("counter"), d.u32("counter")
	c.DaysToPaySum = d.Varint("days to pay")
	for i, v := range c.flagged() {
		if flags&(1<<i) != 0 {
			*v = d.u32("counter")
		}
	}
	if flags&ctrMaxDPD != 0 {
		c.MaxDaysPastDue = int32(d.day("max days past due", 0))
	}
	if flags&ctrLastPayment != 0 {
		c.LastPayment = d.day("last payment", base)
	}
	if flags&ctrMonths == 0 {
		return
	}
	k := d.Count("months", 64, 2)
	if k == 0 {
		return
	}
	c.months = make([]monthCount, k)
	prev := int64(monthOf(base))
	for i := range c.months {
		m := &c.months[i]
		prev += d.Varint("month")
		m.month = int32(prev)
		f := d.Byte("month flags")
		for j, v := range m.counts() {
			if f&(1<<j) != 0 {
				*v = u16(d)
			}
		}
	}
}

// countersV3 reads the counters of versions 1 to 3: every one, in a
// fixed order.
func (d decoder) countersV3(c *Counters, base event.Date) {
	for _, v := range [...]*uint32{&c.InvoicesIssued, &c.Payments, &c.LatePayments, &c.Reversals,
		&c.DisputesOpened, &c.BrokenPromises, &c.SettledItems} {
		*v = d.u32("counter")
	}
	c.DaysToPaySum = d.Varint("days to pay")
	c.LastPayment = d.day("last payment", base)
	c.MaxDaysPastDue = int32(d.day("max days past due", 0))
	if !d.v1 {
		c.UnknownInvoiceRefs = d.u32("unknown invoice refs")
	}
	if k := d.Count("months", 64, 5); k > 0 {
		c.months = make([]monthCount, k)
		prev := int64(0)
		if !d.v1 {
			prev = int64(monthOf(base))
		}
		for i := range c.months {
			prev += d.Varint("month")
			c.months[i] = monthCount{month: int32(prev), late: u16(d), reversals: u16(d), disputes: u16(d), broken: u16(d)}
		}
	}
}

// lastDay is the latest day an account records (a version-1 ring's stamp).
func (a *Account) lastDay() event.Date {
	d := max(a.counters.FirstSeen, a.counters.LastPayment)
	for i := range a.items {
		d = max(d, a.items[i].IssueDate, a.items[i].SettledOn)
	}
	for i := range a.pays {
		d = max(d, a.pays[i].day)
	}
	return d
}

// decoder adds the ledger's value types to the bounded varint reader.
// Strings are substrings of one copy of the input, so decoding allocates
// little.
type decoder struct {
	*varint.Reader[string]
	v1 bool
	// wide: hashes are 8 bytes (versions 1 and 2), read reduced to 48 bits.
	wide bool
}

// hash reads an id hash.
func (d decoder) hash(what string) uint64 {
	if d.wide {
		return d.U64(what) & hashMask
	}
	return d.U48(what)
}

// hashBytes is the encoded size of a hash, for count bounds.
func (d decoder) hashBytes() int {
	if d.wide {
		return 8
	}
	return 6
}

func (d decoder) u32(what string) uint32 { return uint32(d.Uint(what, math.MaxUint32)) }

func (d decoder) amount(what string) event.Amount {
	if d.v1 {
		return event.Amount(d.Int(what, -maxCredit, maxCredit))
	}
	u := d.Uvarint(what)
	var v int64
	if u&1 == 0 { // cents
		if u>>1 > maxCredit/100 {
			d.Fail(what)
			return 0
		}
		v = int64(u>>1) * 100
	} else {
		z := u >> 1
		v = int64(z>>1) ^ -int64(z&1)
	}
	if v < -maxCredit || v > maxCredit {
		d.Fail(what)
		return 0
	}
	return event.Amount(v)
}

func (d decoder) day(what string, base event.Date) event.Date {
	v := d.Varint(what)
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.Fail(what)
		return 0
	}
	v += int64(base)
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.Fail(what)
		return 0
	}
	return event.Date(v)
}

// log reads what appendLog wrote.
func (d decoder) log(what string, base event.Date) []stamp {
	k := d.Count(what, maxLog, d.hashBytes()+1)
	if k == 0 {
		return nil
	}
	l := make([]stamp, k)
	prev := base
	for i := range l {
		l[i].h = d.hash(what)
		l[i].day = d.day(what, prev)
		prev = l[i].day
	}
	return l
}

func u16(d decoder) uint16 {
	v := d.Uvarint("month counter")
	if v > 1<<16-1 {
		d.Fail("month counter")
	}
	return uint16(v)
}
