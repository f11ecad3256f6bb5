package ledger

import (
	"fmt"

	"github.com/arrears/arrears/processor/event"
)

// UnmarshalBinary decodes what MarshalBinary produced. It fails with
// ErrStateVersion or ErrStateCorrupt (never panics) and leaves a unchanged
// on error.
func (a *Account) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrStateCorrupt)
	}
	if b[0] != stateVersion {
		return fmt.Errorf("%w: %d", ErrStateVersion, b[0])
	}
	d := decoder{s: string(b[1:])}
	var n Account
	flags := d.uvarint("flags")
	n.known, n.closed = flags&1 != 0, flags&2 != 0
	base := d.day("base day", 0)
	n.counters.FirstSeen = base

	if n.known {
		m := &n.master
		code := d.byte1("segment")
		switch {
		case int(code) < len(segmentCodes):
			m.Segment = segmentCodes[code]
		case code == 5:
			m.Segment = event.Segment(d.str("segment"))
		default:
			d.fail("segment")
		}
		m.ParentID = d.str("parent id")
		m.CreditClass = d.str("credit class")
		m.Currency = event.Currency(d.str("currency"))
		m.Timezone = d.str("timezone")
		m.CreditLimit = d.amount("credit limit")
		if k := d.count("consents", 1<<16, 1); k > 0 {
			m.Consents = make([]event.Channel, k)
			for i := range m.Consents {
				code := d.byte1("consent")
				switch {
				case code == 0:
					m.Consents[i] = event.Channel(d.str("consent"))
				case int(code) < len(channelCodes):
					m.Consents[i] = channelCodes[code]
				default:
					d.fail("consent")
				}
			}
		}
		if k := d.count("exemptions", 1<<16, 1); k > 0 {
			m.Exemptions = make([]string, k)
			for i := range m.Exemptions {
				m.Exemptions[i] = d.str("exemption")
			}
		}
	}

	var curBuf [4]event.Currency
	curs := curBuf[:0]
	for k := d.count("currencies", 1<<16, 1); k > 0; k-- {
		curs = append(curs, event.Currency(d.str("currency")))
	}
	cur := func(what string) event.Currency {
		i := d.uvarint(what)
		if i >= uint64(len(curs)) {
			d.fail(what)
			return ""
		}
		return curs[i]
	}
	if k := d.count("pool", 1<<16, 2); k > 0 {
		n.pool = make([]money, k)
		for i := range n.pool {
			n.pool[i] = money{cur("pool currency"), d.amount("pool amount")}
		}
	}

	if k := d.count("items", 1<<20, 8); k > 0 {
		n.items = make([]Item, k)
		for i := range n.items {
			it := &n.items[i]
			prev := ""
			if i > 0 {
				prev = n.items[i-1].InvoiceID
			}
			it.InvoiceID = d.delta("invoice id", prev)
			f := d.uvarint("item flags")
			it.Currency = cur("item currency")
			it.Amount = d.amount("item amount")
			switch {
			case f&itemOpenZero != 0:
			case f&itemOpenFull != 0:
				it.Open = it.Amount
			default:
				it.Open = d.amount("item open")
			}
			it.IssueDate = d.day("issue date", base)
			it.DueDate = d.day("due date", it.IssueDate)
			it.Cancelled = f&itemCancelled != 0
			if f&itemSettled != 0 {
				it.Settled = true
				it.SettledOn = d.day("settled on", base)
			}
			if f&itemCredit != 0 {
				it.credit = d.amount("item credit")
			}
			if f&itemDisputes != 0 {
				it.Disputes = make([]Dispute, d.count("disputes", 1<<16, 3))
				for k := range it.Disputes {
					dp := &it.Disputes[k]
					dp.ID = d.str("dispute id")
					dp.Amount = d.amount("dispute amount")
					dp.Resolved = d.byte1("dispute resolved") != 0
					if !dp.Resolved {
						it.Disputed += dp.Amount
					}
				}
			}
			if f&itemAdj != 0 {
				it.adj = make([]uint64, d.count("adjustments", 1<<16, 8))
				for k := range it.adj {
					it.adj[k] = d.u64("adjustment")
				}
			}
		}
	}

	if k := d.count("payments", 1<<20, 8); k > 0 {
		n.pays = make([]payment, k)
		for i := range n.pays {
			p := &n.pays[i]
			prev := ""
			if i > 0 {
				prev = n.pays[i-1].id
			}
			p.id = d.delta("payment id", prev)
			f := d.uvarint("payment flags")
			p.reversed = f&payReversed != 0
			p.cur = cur("payment currency")
			p.amount = d.amount("payment amount")
			p.day = d.day("payment day", base)
			if f&payUnapplied != 0 {
				p.unapplied = d.amount("unapplied")
			}
			if f&payRefunded != 0 {
				p.refunded = d.amount("refunded")
			}
			if k := d.count("parts", 1<<20, 2); k > 0 {
				p.parts = make([]part, k)
				for j := range p.parts {
					x := d.uvarint("part item")
					if x >= uint64(len(n.items)) {
						d.fail("part item")
						break
					}
					p.parts[j] = part{n.items[x].InvoiceID, d.amount("part amount")}
				}
			}
		}
	}

	c := &n.counters
	for _, v := range [...]*uint32{&c.InvoicesIssued, &c.Payments, &c.LatePayments, &c.Reversals,
		&c.DisputesOpened, &c.BrokenPromises, &c.SettledItems} {
		*v = d.u32("counter")
	}
	c.DaysToPaySum = d.varint("days to pay")
	c.LastPayment = d.day("last payment", base)
	c.MaxDaysPastDue = int32(d.day("max days past due", 0))
	if k := d.count("months", 64, 5); k > 0 {
		c.months = make([]monthCount, k)
		prev := int64(0)
		for i := range c.months {
			prev += d.varint("month")
			c.months[i] = monthCount{month: int32(prev), late: u16(&d), reversals: u16(&d), disputes: u16(&d), broken: u16(&d)}
		}
	}
	if k := d.count("recent", 64, 8); k > 0 {
		n.next = d.byte1("recent next")
		n.recent = make([]uint64, k)
		for i := range n.recent {
			n.recent[i] = d.u64("recent")
		}
	}
	if d.err == nil && len(d.s) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return d.err
	}
	*a = n
	return nil
}

func u16(d *decoder) uint16 {
	v := d.uvarint("month counter")
	if v > 1<<16-1 {
		d.fail("month counter")
	}
	return uint16(v)
}
