package dunning

import (
	"fmt"
	"sort"

	"github.com/arrears/arrears/processor/event"
)

// testLedger is a minimal receivables model implementing Facts: items,
// payments allocated oldest due first, reversals, disputes and debit notes.
// It is the stand-in for processor/ledger in these tests.
type testLedger struct {
	in       Input // master data; Items, Disputed and Trigger are computed
	items    []*testItem
	payments map[string]*testPayment
	disputes map[string]*testDispute
}

type testItem struct {
	id       string
	cur      event.Currency
	due      event.Date
	open     event.Amount
	disputed event.Amount
}

type testPayment struct {
	cur    event.Currency
	amount event.Amount
	allocs map[*testItem]event.Amount
}

type testDispute struct {
	item   *testItem
	amount event.Amount
}

func newTestLedger(master Input) *testLedger {
	return &testLedger{in: master, payments: map[string]*testPayment{}, disputes: map[string]*testDispute{}}
}

func (l *testLedger) item(id string) (*testItem, error) {
	for _, it := range l.items {
		if it.id == id {
			return it, nil
		}
	}
	return nil, fmt.Errorf("unknown invoice %q", id)
}

func (l *testLedger) Apply(ev event.Event) (Trigger, error) {
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		l.items = append(l.items, &testItem{id: b.InvoiceID, cur: b.Currency, due: b.DueDate, open: b.Amount})
		sort.SliceStable(l.items, func(i, j int) bool { return l.items[i].due < l.items[j].due })
	case *event.InvoiceAdjusted:
		it, err := l.item(b.InvoiceID)
		if err != nil {
			return Trigger{}, err
		}
		if b.Type == event.Debit {
			it.open += b.Amount
		} else {
			it.open -= min(b.Amount, it.open)
		}
	case *event.PaymentReceived:
		p := &testPayment{cur: b.Currency, amount: b.Amount, allocs: map[*testItem]event.Amount{}}
		left := b.Amount
		for _, it := range l.items {
			if it.cur != b.Currency || left == 0 {
				continue
			}
			x := min(left, it.open-it.disputed)
			if x > 0 {
				it.open -= x
				p.allocs[it] = x
				left -= x
			}
		}
		l.payments[b.PaymentID] = p
		return Trigger{Kind: ev.Body.Kind(), EventID: ev.ID, PaymentID: b.PaymentID, Currency: b.Currency, Amount: b.Amount}, nil
	case *event.PaymentReversed:
		p, ok := l.payments[b.PaymentID]
		if !ok {
			return Trigger{}, fmt.Errorf("unknown payment %q", b.PaymentID)
		}
		for it, x := range p.allocs {
			it.open += x
		}
		delete(l.payments, b.PaymentID)
		return Trigger{Kind: ev.Body.Kind(), EventID: ev.ID, PaymentID: b.PaymentID, Currency: p.cur, Amount: p.amount}, nil
	case *event.DisputeOpened:
		it, err := l.item(b.InvoiceID)
		if err != nil {
			return Trigger{}, err
		}
		it.disputed += b.Amount
		l.disputes[b.DisputeID] = &testDispute{item: it, amount: b.Amount}
	case *event.DisputeResolved:
		d, ok := l.disputes[b.DisputeID]
		if !ok {
			return Trigger{}, fmt.Errorf("unknown dispute %q", b.DisputeID)
		}
		d.item.disputed -= d.amount
		if b.Outcome == event.Upheld {
			d.item.open -= min(b.CreditAmount, d.item.open)
		}
		delete(l.disputes, b.DisputeID)
	}
	return Trigger{}, nil
}

func (l *testLedger) Input() Input {
	in := l.in
	in.Items = nil
	in.Disputed = map[event.Currency]event.Amount{}
	for _, it := range l.items {
		if net := it.open - it.disputed; net > 0 {
			in.Items = append(in.Items, Item{InvoiceID: it.id, Currency: it.cur, DueDate: it.due, Open: net})
		}
		if it.disputed > 0 {
			in.Disputed[it.cur] += it.disputed
		}
	}
	return in
}
