package ledger

import (
	"sort"

	"github.com/arrears/arrears/processor/event"
)

// model is a deliberately simple, independent ledger for the property test:
// it keeps facts (items, payments, and a flat list of settlement entries)
// and derives every amount from them. It is rebuilt from the full log of
// accepted events at every step and never prunes.
type model struct {
	rules   Rules
	known   bool
	closed  bool
	master  Master
	items   map[string]*mItem
	pays    []*mPay
	entries map[mKey]event.Amount // (source, invoice) -> settled; source -1 = pool
	pool    map[event.Currency]event.Amount
	applied map[string]event.Date // event id -> partition day accepted
	refunds map[string]event.Date // refund id -> partition day applied
	unknown int                   // invoice ids payments named that the account did not hold
	disp    map[string]*mDispute
	dispOrd []string
	counts  struct{ issued, payments, reversals, disputes int }
	// eventDay is the day of the event being applied, today the
	// partition's day.
	eventDay, today event.Date
}

type mItem struct {
	id         string
	cur        event.Currency
	amount     event.Amount
	issue, due event.Date
	cancelled  bool
	adj        map[string]bool
}

type mPay struct {
	id       string
	cur      event.Currency
	amount   event.Amount
	refunded event.Amount
	reversed bool
}

type mKey struct {
	src int
	inv string
}

type mDispute struct {
	inv      string
	amount   event.Amount
	resolved bool
}

func newModel(r Rules) *model {
	return &model{rules: r.withDefaults(), items: map[string]*mItem{}, entries: map[mKey]event.Amount{},
		pool: map[event.Currency]event.Amount{}, disp: map[string]*mDispute{},
		applied: map[string]event.Date{}, refunds: map[string]event.Date{}}
}

func (m *model) paid(inv string) event.Amount {
	var s event.Amount
	for k, v := range m.entries {
		if k.inv == inv {
			s += v
		}
	}
	return s
}

func (m *model) open(it *mItem) event.Amount { return it.amount - m.paid(it.id) }

func (m *model) disputed(inv string) event.Amount {
	var s event.Amount
	for _, d := range m.disp {
		if d.inv == inv && !d.resolved {
			s += d.amount
		}
	}
	return s
}

func (m *model) disputedOpen(it *mItem) event.Amount { return min(m.disputed(it.id), m.open(it)) }

func (m *model) unapplied(pi int) event.Amount {
	p := m.pays[pi]
	if p.reversed {
		return 0
	}
	s := p.amount - p.refunded
	for k, v := range m.entries {
		if k.src == pi {
			s -= v
		}
	}
	return s
}

func (m *model) credit(c event.Currency) event.Amount {
	s := m.pool[c]
	for i, p := range m.pays {
		if p.cur == c {
			s += m.unapplied(i)
		}
	}
	return s
}

// sorted returns the items of c in allocation order.
func (m *model) sorted(c event.Currency) []*mItem {
	var out []*mItem
	for _, it := range m.items {
		if it.cur == c {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.due != b.due {
			return a.due < b.due
		}
		if a.issue != b.issue {
			return a.issue < b.issue
		}
		return a.id < b.id
	})
	return out
}

func (m *model) portion(it *mItem, pass int) event.Amount {
	if pass == 0 {
		return m.open(it) - m.disputedOpen(it)
	}
	return m.open(it)
}

// settleFrom allocates the credit of the given sources to the open items of c.
func (m *model) settleFrom(c event.Currency, sources []int) {
	for pass := 0; pass < 2; pass++ {
		for _, it := range m.sorted(c) {
			for _, s := range sources {
				need := m.portion(it, pass)
				if need == 0 {
					break
				}
				var avail event.Amount
				if s < 0 {
					avail = m.pool[c]
				} else {
					avail = m.unapplied(s)
				}
				x := min(need, avail)
				if x <= 0 {
					continue
				}
				if s < 0 {
					m.pool[c] -= x
				}
				m.entries[mKey{s, it.id}] += x
			}
		}
	}
}

func (m *model) normalize(c event.Currency) {
	src := []int{-1}
	for i, p := range m.pays {
		if p.cur == c {
			src = append(src, i)
		}
	}
	m.settleFrom(c, src)
}

// reduce lowers an item's amount, giving back what was settled beyond it.
func (m *model) reduce(it *mItem, a event.Amount) {
	it.amount -= a
	over := m.paid(it.id) - it.amount
	take := func(src int) {
		k := mKey{src, it.id}
		x := min(over, m.entries[k])
		if x <= 0 {
			return
		}
		m.entries[k] -= x
		if m.entries[k] == 0 {
			delete(m.entries, k)
		}
		if src < 0 {
			m.pool[it.cur] += x
		}
		over -= x
	}
	take(-1)
	for pi := len(m.pays) - 1; pi >= 0 && over > 0; pi-- {
		take(pi)
	}
	m.normalize(it.cur)
}

func (m *model) payIndex(id string) int {
	for i, p := range m.pays {
		if p.id == id {
			return i
		}
	}
	return -1
}

func (m *model) findDispute(id string) *mDispute { return m.disp[id] }

func ledgerKind(k event.Kind) bool {
	if k == event.KindAccountReopened {
		return true
	}
	switch k {
	case event.KindInvoiceIssued, event.KindInvoiceAdjusted, event.KindInvoiceCancelled,
		event.KindPaymentReceived, event.KindPaymentReversed, event.KindRefund,
		event.KindAccountUpserted, event.KindAccountClosed,
		event.KindDisputeOpened, event.KindDisputeResolved:
		return true
	}
	return false
}

func amountBad(a event.Amount) Reason {
	if a <= 0 {
		return ReasonNonPositiveAmount
	}
	if a > MaxAmount {
		return ReasonAmountOutOfRange
	}
	return 0
}

// apply applies ev and returns (changed, duplicate, rejection reason).
func (m *model) apply(ev event.Event) (bool, bool, Reason) {
	k := ev.Body.Kind()
	if !ledgerKind(k) {
		return false, false, 0
	}
	if d, ok := m.applied[ev.ID]; ok && ev.ID != "" && d >= m.today-event.Date(m.rules.DedupeDays) {
		return false, true, 0
	}
	if m.rules.RequireAccount && !m.known && k != event.KindAccountUpserted {
		return false, false, ReasonUnknownAccount
	}
	changed, dup, r := m.body(ev.Body)
	if r != 0 || dup {
		return changed, dup, r
	}
	if ev.ID != "" {
		m.applied[ev.ID] = m.today
		changed = true
	}
	if rf, ok := ev.Body.(*event.Refund); ok && changed {
		m.refunds[rf.RefundID] = m.today
	}
	return changed, false, 0
}

// sameInvoice is the ledger's content check of a repeated invoice id.
func sameInvoice(it *mItem, b *event.InvoiceIssued) bool {
	return it.cur == b.Currency && it.issue == b.IssueDate && it.due == b.DueDate &&
		(len(it.adj) > 0 || it.cancelled || it.amount == b.Amount)
}

func (m *model) body(body event.Body) (changed, dup bool, r Reason) {
	switch b := body.(type) {
	case *event.InvoiceIssued:
		switch {
		case b.InvoiceID == "":
			return false, false, ReasonInvalidField
		case !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case amountBad(b.Amount) != 0:
			return false, false, amountBad(b.Amount)
		case b.IssueDate <= 0 || b.DueDate < b.IssueDate:
			return false, false, ReasonInvalidDates
		case m.items[b.InvoiceID] != nil && sameInvoice(m.items[b.InvoiceID], b):
			return false, true, 0
		case m.items[b.InvoiceID] != nil:
			return false, false, ReasonIDConflict
		case m.closed:
			return false, false, ReasonClosedAccount
		}
		m.items[b.InvoiceID] = &mItem{id: b.InvoiceID, cur: b.Currency, amount: b.Amount, issue: b.IssueDate, due: b.DueDate}
		m.counts.issued++
		m.normalize(b.Currency)
	case *event.InvoiceAdjusted:
		switch {
		case b.AdjustmentID == "" || b.InvoiceID == "" || (b.Type != event.Credit && b.Type != event.Debit):
			return false, false, ReasonInvalidField
		case !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case amountBad(b.Amount) != 0:
			return false, false, amountBad(b.Amount)
		}
		for id, other := range m.items {
			if other.adj[b.AdjustmentID] {
				if id != b.InvoiceID {
					return false, false, ReasonIDConflict
				}
				return false, true, 0
			}
		}
		it := m.items[b.InvoiceID]
		switch {
		case it == nil:
			return false, false, ReasonUnknownInvoice
		case it.cur != b.Currency:
			return false, false, ReasonCurrencyMismatch
		case it.cancelled:
			return false, false, ReasonInvoiceCancelled
		case b.Type == event.Credit && b.Amount > it.amount:
			return false, false, ReasonCreditExceedsInvoice
		}
		if it.adj == nil {
			it.adj = map[string]bool{}
		}
		it.adj[b.AdjustmentID] = true
		if b.Type == event.Credit {
			m.reduce(it, b.Amount)
		} else {
			it.amount += b.Amount
			m.normalize(it.cur)
		}
	case *event.InvoiceCancelled:
		it := m.items[b.InvoiceID]
		switch {
		case b.InvoiceID == "":
			return false, false, ReasonInvalidField
		case it == nil:
			return false, false, ReasonUnknownInvoice
		case it.cancelled:
			return false, true, 0
		}
		it.cancelled = true
		for _, d := range m.disp {
			if d.inv == it.id {
				d.resolved = true
			}
		}
		m.reduce(it, it.amount)
	case *event.PaymentReceived:
		switch {
		case b.PaymentID == "":
			return false, false, ReasonInvalidField
		case !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case amountBad(b.Amount) != 0:
			return false, false, amountBad(b.Amount)
		case m.payIndex(b.PaymentID) >= 0 && (m.pays[m.payIndex(b.PaymentID)].cur != b.Currency || m.pays[m.payIndex(b.PaymentID)].amount != b.Amount):
			return false, false, ReasonIDConflict
		case m.payIndex(b.PaymentID) >= 0:
			return false, true, 0
		case m.closed:
			return false, false, ReasonClosedAccount
		}
		m.pays = append(m.pays, &mPay{id: b.PaymentID, cur: b.Currency, amount: b.Amount})
		pi := len(m.pays) - 1
		m.counts.payments++
		seen := map[string]bool{}
		for _, id := range b.InvoiceIDs {
			it := m.items[id]
			if !seen[id] && it == nil {
				m.unknown++
			}
			if seen[id] || it == nil || it.cur != b.Currency {
				seen[id] = true
				continue
			}
			seen[id] = true
			if x := min(m.open(it), m.unapplied(pi)); x > 0 {
				m.entries[mKey{pi, id}] += x
			}
		}
		m.settleFrom(b.Currency, []int{pi})
	case *event.PaymentReversed:
		if b.PaymentID == "" {
			return false, false, ReasonInvalidField
		}
		pi := m.payIndex(b.PaymentID)
		if pi < 0 {
			return false, false, ReasonUnknownPayment
		}
		p := m.pays[pi]
		if p.reversed {
			return false, true, 0
		}
		if p.refunded > 0 && m.items["reversal:"+p.id] != nil {
			return false, false, ReasonInvalidField
		}
		for k := range m.entries {
			if k.src == pi {
				delete(m.entries, k)
			}
		}
		p.reversed = true
		m.counts.reversals++
		if p.refunded > 0 {
			id := "reversal:" + p.id
			d := m.eventDay
			m.items[id] = &mItem{id: id, cur: p.cur, amount: p.refunded, issue: d, due: d}
		}
		m.normalize(p.cur)
	case *event.Refund:
		switch {
		case b.RefundID == "":
			return false, false, ReasonInvalidField
		case !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case amountBad(b.Amount) != 0:
			return false, false, amountBad(b.Amount)
		}
		if d, ok := m.refunds[b.RefundID]; ok && d >= m.today-event.Date(m.rules.TombstoneDays) {
			return false, true, 0
		}
		named := -1
		if b.PaymentID != "" {
			if named = m.payIndex(b.PaymentID); named < 0 {
				return false, false, ReasonUnknownPayment
			}
			if m.pays[named].cur != b.Currency {
				return false, false, ReasonCurrencyMismatch
			}
		}
		if b.Amount > m.credit(b.Currency) {
			return false, false, ReasonRefundExceedsCredit
		}
		left := b.Amount
		take := func(pi int) {
			x := min(left, m.unapplied(pi))
			m.pays[pi].refunded += x
			left -= x
		}
		if named >= 0 {
			take(named)
		}
		x := min(left, m.pool[b.Currency])
		m.pool[b.Currency] -= x
		left -= x
		for pi, p := range m.pays {
			if p.cur == b.Currency && left > 0 {
				take(pi)
			}
		}
	case *event.AccountUpserted:
		switch {
		case b.Segment != "" && !b.Segment.Valid():
			return false, false, ReasonInvalidField
		case b.Currency != "" && !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case b.CreditLimit < 0 || b.CreditLimit > MaxAmount:
			return false, false, ReasonAmountOutOfRange
		}
		nm := Master{Segment: b.Segment, ParentID: b.ParentID, CreditClass: b.CreditClass, Currency: b.Currency,
			Timezone: b.Timezone, CreditLimit: b.CreditLimit, Consents: b.Consents, Exemptions: b.Exemptions}
		if m.known && m.master.equal(&nm) {
			return false, false, 0
		}
		m.master, m.known = nm, true
	case *event.AccountClosed:
		if m.closed {
			return false, true, 0
		}
		m.closed = true
	case *event.AccountReopened:
		if !m.closed {
			return false, false, 0
		}
		m.closed = false
	case *event.DisputeOpened:
		switch {
		case b.DisputeID == "" || b.InvoiceID == "":
			return false, false, ReasonInvalidField
		case !b.Currency.Valid():
			return false, false, ReasonUnknownCurrency
		case amountBad(b.Amount) != 0:
			return false, false, amountBad(b.Amount)
		case m.disp[b.DisputeID] != nil && (m.disp[b.DisputeID].inv != b.InvoiceID || m.disp[b.DisputeID].amount != b.Amount):
			return false, false, ReasonIDConflict
		case m.disp[b.DisputeID] != nil:
			return false, true, 0
		}
		it := m.items[b.InvoiceID]
		switch {
		case it == nil:
			return false, false, ReasonUnknownInvoice
		case it.cur != b.Currency:
			return false, false, ReasonCurrencyMismatch
		case it.cancelled:
			return false, false, ReasonInvoiceCancelled
		case b.Amount > m.open(it)-m.disputedOpen(it):
			return false, false, ReasonDisputeExceedsOpen
		}
		m.disp[b.DisputeID] = &mDispute{inv: b.InvoiceID, amount: b.Amount}
		m.counts.disputes++
	case *event.DisputeResolved:
		switch {
		case b.DisputeID == "" || (b.Outcome != event.Upheld && b.Outcome != event.Rejected && b.Outcome != event.Withdrawn):
			return false, false, ReasonInvalidField
		case b.CreditAmount < 0:
			return false, false, ReasonNonPositiveAmount
		}
		d := m.disp[b.DisputeID]
		if d == nil {
			return false, false, ReasonUnknownDispute
		}
		if d.resolved {
			return false, true, 0
		}
		it := m.items[d.inv]
		credit := event.Amount(0)
		if b.Outcome == event.Upheld {
			credit = b.CreditAmount
		}
		if credit > it.amount {
			return false, false, ReasonCreditExceedsInvoice
		}
		d.resolved = true
		if credit > 0 {
			m.reduce(it, credit)
		}
	}
	return true, false, 0
}

// balance is the model's CurrencyBalance of c at day today.
func (m *model) balance(c event.Currency, today event.Date) event.CurrencyBalance {
	b := event.CurrencyBalance{Currency: c, Unapplied: m.credit(c)}
	for _, it := range m.items {
		o := m.open(it)
		if it.cur != c || o == 0 {
			continue
		}
		d := m.disputedOpen(it)
		b.Open += o
		b.Disputed += d
		dpd := int(today) - int(it.due)
		if dpd > 0 {
			b.Overdue += o - d
		}
		switch {
		case dpd <= 0:
			b.Aging[0] += o
		case dpd <= 30:
			b.Aging[1] += o
		case dpd <= 60:
			b.Aging[2] += o
		case dpd <= 90:
			b.Aging[3] += o
		case dpd <= 120:
			b.Aging[4] += o
		default:
			b.Aging[5] += o
		}
	}
	return b
}
