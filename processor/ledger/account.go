package ledger

import (
	"slices"

	"github.com/arrears/arrears/processor/event"
)

// Account is one account's receivables state. The zero Account is an
// account the ledger has never seen. It is changed only by Apply (and
// NotePromiseBroken / Observe); everything else reads it. An Account is not
// safe for concurrent use; the partition goroutine owns it.
type Account struct {
	master   Master
	known    bool // AccountUpserted seen
	closed   bool
	counters Counters

	// items are kept sorted in allocation order: due date, issue date,
	// invoice id. Open items stay until settled; settled and cancelled ones
	// until pruned.
	items []Item
	// pays are the payment allocation records, in the order applied. They
	// are also the credit lots: unapplied cash belongs to its payment.
	pays []payment
	// pool is unapplied credit no payment record owns any more (its record
	// was pruned). It is used before any payment's credit.
	pool []money

	// events and gone are the idempotence logs (dedupe.go).
	events []stamp
	gone   []stamp
}

// Master is an account's master data from AccountUpserted. Its slices are
// shared with the account: read them, do not modify them.
type Master struct {
	Segment     event.Segment
	ParentID    string
	CreditClass string
	Currency    event.Currency
	Timezone    string
	CreditLimit event.Amount
	Consents    []event.Channel
	Exemptions  []string
}

func (m *Master) equal(o *Master) bool {
	return m.Segment == o.Segment && m.ParentID == o.ParentID && m.CreditClass == o.CreditClass &&
		m.Currency == o.Currency && m.Timezone == o.Timezone && m.CreditLimit == o.CreditLimit &&
		slices.Equal(m.Consents, o.Consents) && slices.Equal(m.Exemptions, o.Exemptions)
}

// Item is one receivable (an invoice, or the debit a reversal of a
// refunded payment leaves).
type Item struct {
	InvoiceID string
	Currency  event.Currency
	// Amount is the invoice total after credit and debit notes (0 once
	// cancelled).
	Amount event.Amount
	// Open is what is still owed: Amount minus what payments and credit
	// settled.
	Open      event.Amount
	IssueDate event.Date
	DueDate   event.Date
	// Disputed is the sum of the open disputes; it can exceed Open when the
	// customer paid a disputed item anyway. Balances count min(Disputed, Open).
	Disputed event.Amount
	// Disputes lists the item's disputes, open and resolved.
	Disputes []Dispute
	// Cancelled is set by InvoiceCancelled.
	Cancelled bool
	// Settled reports Open == 0 after the item was paid, credited or
	// cancelled; SettledOn is the day it happened.
	Settled   bool
	SettledOn event.Date

	// credit is the part of Amount settled from the anonymous credit pool.
	credit event.Amount
	// adj are hashes of the adjustment ids applied to the item.
	adj []uint64
}

// Dispute is one dispute of an item.
type Dispute struct {
	ID       string
	Amount   event.Amount
	Resolved bool
}

// disputedOpen is the disputed part of the open amount.
func (it *Item) disputedOpen() event.Amount { return min(it.Disputed, it.Open) }

// paid is what payments and credit settled on the item.
func (it *Item) paid() event.Amount { return it.Amount - it.Open }

// adjIndex returns the item an adjustment id hash was applied to, or -1.
func (a *Account) adjIndex(h uint64) int {
	for i := range a.items {
		if slices.Contains(a.items[i].adj, h) {
			return i
		}
	}
	return -1
}

// payment is a payment's allocation record and credit lot.
type payment struct {
	id        string
	cur       event.Currency
	amount    event.Amount
	day       event.Date
	unapplied event.Amount // credit left
	refunded  event.Amount // credit paid back by refunds
	reversed  bool
	parts     []part // what it settled, by invoice
}

// part is the amount a payment settled on one invoice.
type part struct {
	invoice string
	amount  event.Amount
}

type money struct {
	cur event.Currency
	amt event.Amount
}

// Known reports whether the account's master data (AccountUpserted) was seen.
func (a *Account) Known() bool { return a.known }

// Closed reports whether AccountClosed was applied.
func (a *Account) Closed() bool { return a.closed }

// Master returns the master data (zero until AccountUpserted).
func (a *Account) Master() Master { return a.master }

// Counters returns the risk and analytics counters.
func (a *Account) Counters() Counters { return a.counters }

// Items returns a copy of the account's items (open, settled and kept, and
// cancelled) in allocation order: due date, issue date, invoice id.
func (a *Account) Items() []Item {
	out := make([]Item, len(a.items))
	for i := range a.items {
		out[i] = a.items[i].clone()
	}
	return out
}

func (it *Item) clone() Item {
	c := *it
	c.Disputes = slices.Clone(it.Disputes)
	c.adj = nil
	return c
}

// EachOpen calls f with each item that has an open amount, in allocation
// order, without copying the item's disputes (Disputes is nil in what f
// gets): the hot path of every evaluation reads items this way.
func (a *Account) EachOpen(f func(it Item)) {
	for i := range a.items {
		if a.items[i].Open > 0 {
			it := a.items[i]
			it.Disputes, it.adj = nil, nil
			f(it)
		}
	}
}

// OpenItems returns the number of items with an open amount.
func (a *Account) OpenItems() int {
	n := 0
	for i := range a.items {
		if a.items[i].Open > 0 {
			n++
		}
	}
	return n
}

// Item returns the item with the given invoice id.
func (a *Account) Item(invoiceID string) (Item, bool) {
	if i := a.itemIndex(invoiceID); i >= 0 {
		return a.items[i].clone(), true
	}
	return Item{}, false
}

// PaymentKnown reports whether a payment's allocation record is kept (so a
// repeat of it is a duplicate and a reversal of it can be applied).
func (a *Account) PaymentKnown(paymentID string) bool { return a.payIndex(paymentID) >= 0 }

func (a *Account) itemIndex(id string) int {
	for i := range a.items {
		if a.items[i].InvoiceID == id {
			return i
		}
	}
	return -1
}

func (a *Account) payIndex(id string) int {
	for i := range a.pays {
		if a.pays[i].id == id {
			return i
		}
	}
	return -1
}

// insertItem inserts it in allocation order.
func (a *Account) insertItem(it Item) {
	i, _ := slices.BinarySearchFunc(a.items, &it, func(x Item, t *Item) int { return allocCmp(&x, t) })
	a.items = slices.Insert(a.items, i, it)
}

// allocCmp orders items oldest due first, then issue date, then invoice id.
func allocCmp(x, y *Item) int {
	switch {
	case x.DueDate != y.DueDate:
		return int(x.DueDate) - int(y.DueDate)
	case x.IssueDate != y.IssueDate:
		return int(x.IssueDate) - int(y.IssueDate)
	case x.InvoiceID < y.InvoiceID:
		return -1
	case x.InvoiceID > y.InvoiceID:
		return 1
	}
	return 0
}

// poolIndex returns the pool slot of c, or -1.
func (a *Account) poolIndex(c event.Currency) int {
	for i := range a.pool {
		if a.pool[i].cur == c {
			return i
		}
	}
	return -1
}

func (a *Account) addPool(c event.Currency, amt event.Amount) {
	if amt == 0 {
		return
	}
	if i := a.poolIndex(c); i >= 0 {
		a.pool[i].amt += amt
		if a.pool[i].amt == 0 {
			a.pool = slices.Delete(a.pool, i, i+1)
		}
		return
	}
	a.pool = append(a.pool, money{c, amt})
}

// Unapplied returns the unapplied credit in c.
func (a *Account) Unapplied(c event.Currency) event.Amount {
	var s event.Amount
	if i := a.poolIndex(c); i >= 0 {
		s = a.pool[i].amt
	}
	for i := range a.pays {
		if a.pays[i].cur == c {
			s += a.pays[i].unapplied
		}
	}
	return s
}

// openIn returns the open amount in c.
func (a *Account) openIn(c event.Currency) event.Amount {
	var s event.Amount
	for i := range a.items {
		if a.items[i].Currency == c {
			s += a.items[i].Open
		}
	}
	return s
}

// Clone returns a deep copy of a.
func (a *Account) Clone() *Account {
	c := *a
	c.master.Consents = slices.Clone(a.master.Consents)
	c.master.Exemptions = slices.Clone(a.master.Exemptions)
	c.counters.months = slices.Clone(a.counters.months)
	c.items = slices.Clone(a.items)
	for i := range c.items {
		c.items[i].Disputes = slices.Clone(c.items[i].Disputes)
		c.items[i].adj = slices.Clone(c.items[i].adj)
	}
	c.pays = slices.Clone(a.pays)
	for i := range c.pays {
		c.pays[i].parts = slices.Clone(c.pays[i].parts)
	}
	c.pool = slices.Clone(a.pool)
	c.events = slices.Clone(a.events)
	c.gone = slices.Clone(a.gone)
	return &c
}
