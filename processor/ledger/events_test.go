package ledger

import (
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// open returns the open amount of invoice id, -1 when the account has no
// such item.
func open(acc *Account, id string) event.Amount {
	it, ok := acc.Item(id)
	if !ok {
		return -1
	}
	return it.Open
}

func wantOpen(t *testing.T, acc *Account, want map[string]string) {
	t.Helper()
	for id, a := range want {
		if got := open(acc, id); got != amt(a) {
			t.Errorf("%s open %s, want %s", id, got, a)
		}
	}
}

func wantCredit(t *testing.T, acc *Account, c event.Currency, a string) {
	t.Helper()
	if got := acc.Unapplied(c); got != amt(a) {
		t.Errorf("unapplied %s %s, want %s", c, got, a)
	}
}

func dispute(id, invoice, a string) *event.DisputeOpened {
	return &event.DisputeOpened{DisputeID: id, InvoiceID: invoice, Currency: "EUR", Amount: amt(a)}
}

func note(id, invoice string, typ event.AdjustmentType, a string) *event.InvoiceAdjusted {
	return &event.InvoiceAdjusted{AdjustmentID: id, InvoiceID: invoice, Type: typ, Currency: "EUR", Amount: amt(a)}
}

// TestEvents applies each case's events on consecutive days (event i on
// t0+i days) and checks the account and the last Result.
func TestEvents(t *testing.T) {
	cases := []struct {
		name   string
		events []event.Body
		check  func(t *testing.T, acc *Account, res Result)
	}{
		{"invoice opens an item", []event.Body{inv("I1", "100", 0, 14)}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "100"})
			if !res.Changed || res.Currency != "EUR" || res.OpenAfter != amt("100") || acc.counters.InvoicesIssued != 1 {
				t.Errorf("result %+v counters %+v", res, acc.counters)
			}
		}},
		{"invoice uses earlier credit", []event.Body{pay("P1", "30"), inv("I1", "100", 0, 14)}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "70"})
			wantCredit(t, acc, "EUR", "0")
			if res.Settled != amt("30") || res.UnappliedBefore != amt("30") {
				t.Errorf("result %+v", res)
			}
		}},
		{"payment oldest due first", []event.Body{inv("I1", "100", 0, 20), inv("I2", "50", 1, 10), pay("P1", "70")}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I2": "0", "I1": "80"})
			if !slices.Equal(res.PaidInvoices, []string{"I2"}) || res.FullyPaid() {
				t.Errorf("result %+v", res)
			}
		}},
		{"payment tie: issue date then id", []event.Body{inv("I3", "10", 1, 10), inv("I2", "10", 0, 10), inv("I1", "10", 1, 10), pay("P1", "15")},
			func(t *testing.T, acc *Account, res Result) {
				wantOpen(t, acc, map[string]string{"I2": "0", "I1": "5", "I3": "10"})
			}},
		{"payment names invoices", []event.Body{inv("I1", "100", 0, 10), inv("I2", "50", 1, 20), pay("P1", "70", "I2", "I404")},
			func(t *testing.T, acc *Account, res Result) {
				wantOpen(t, acc, map[string]string{"I2": "0", "I1": "80"})
			}},
		{"overpayment leaves credit", []event.Body{inv("I1", "100", 0, 10), pay("P1", "130")}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "0"})
			wantCredit(t, acc, "EUR", "30")
			if !res.FullyPaid() || res.UnappliedAfter != amt("30") {
				t.Errorf("result %+v", res)
			}
		}},
		{"payment settles only its currency", []event.Body{inv("I1", "100", 0, 10),
			&event.PaymentReceived{PaymentID: "P1", Currency: "USD", Amount: amt("100")}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "100"})
			wantCredit(t, acc, "USD", "100")
			bs := acc.Balances(at(5))
			if len(bs) != 2 || bs[0].Currency != "EUR" || bs[1].Currency != "USD" || bs[1].Unapplied != amt("100") {
				t.Errorf("balances %+v", bs)
			}
		}},
		{"payment settles undisputed amounts first", []event.Body{inv("I1", "100", 0, 10), inv("I2", "100", 0, 20), dispute("D1", "I1", "60"), pay("P1", "150")},
			func(t *testing.T, acc *Account, res Result) {
				// Undisputed first: I1 40, I2 100; then I1's disputed part 10.
				wantOpen(t, acc, map[string]string{"I1": "50", "I2": "0"})
				b := acc.Balance("EUR", at(30))
				if b.Disputed != amt("50") || b.Overdue != 0 || b.Open != amt("50") {
					t.Errorf("balance %+v", b)
				}
			}},
		{"late payment and days to pay", []event.Body{inv("I1", "100", 0, 1), pay("P1", "40"), pay("P2", "60")}, func(t *testing.T, acc *Account, res Result) {
			c := acc.Counters()
			if c.LatePayments != 1 || c.SettledItems != 1 || c.AvgDaysToPay() != 2 || c.LastPayment != day(2) || c.Payments != 2 {
				t.Errorf("counters %+v", c)
			}
			if w := c.Last12Months(at(2)); w.LatePayments != 1 {
				t.Errorf("window %+v", w)
			}
		}},
		{"reversal re-opens exactly what the payment settled", []event.Body{inv("I1", "100", 0, 10), inv("I2", "50", 0, 5),
			pay("P1", "120"), pay("P2", "10"), inv("I3", "40", 3, 30), &event.PaymentReversed{PaymentID: "P1", Reason: "chargeback"}},
			func(t *testing.T, acc *Account, res Result) {
				// P1: I2 50, I1 70. P2: I1 10 -> I1 20 open. I3 40: nothing
				// left (no credit). Reversal: I2 +50, I1 +70.
				wantOpen(t, acc, map[string]string{"I1": "90", "I2": "50", "I3": "40"})
				if res.Reopened != amt("120") || acc.counters.Reversals != 1 {
					t.Errorf("result %+v", res)
				}
			}},
		{"reversal drops credit and re-opens what the credit settled", []event.Body{inv("I1", "100", 0, 10), pay("P1", "150"), inv("I2", "30", 2, 20),
			&event.PaymentReversed{PaymentID: "P1"}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "100", "I2": "30"})
			wantCredit(t, acc, "EUR", "0")
			if res.UnappliedBefore != amt("20") || res.UnappliedAfter != 0 {
				t.Errorf("result %+v", res)
			}
		}},
		{"reversal lets other credit settle re-opened items", []event.Body{inv("I1", "100", 0, 10), pay("P1", "100"), pay("P2", "40"),
			&event.PaymentReversed{PaymentID: "P1"}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "60"})
			wantCredit(t, acc, "EUR", "0")
		}},
		{"reversal of refunded cash leaves a debit", []event.Body{pay("P1", "100"), &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("30"), PaymentID: "P1"},
			&event.PaymentReversed{PaymentID: "P1"}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"reversal:P1": "30"})
			wantCredit(t, acc, "EUR", "0")
		}},
		{"refund reduces credit", []event.Body{pay("P1", "100"), pay("P2", "50"), &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("60"), PaymentID: "P2"}},
			func(t *testing.T, acc *Account, res Result) {
				wantCredit(t, acc, "EUR", "90")
				if acc.pays[1].unapplied != 0 || acc.pays[0].unapplied != amt("90") {
					t.Errorf("lots %+v", acc.pays)
				}
			}},
		{"credit note reduces open", []event.Body{inv("I1", "100", 0, 10), note("A1", "I1", event.Credit, "30")}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "70"})
			if it, _ := acc.Item("I1"); it.Amount != amt("70") {
				t.Errorf("item %+v", it)
			}
		}},
		{"credit note on a paid invoice gives the payment's cash back", []event.Body{inv("I1", "100", 0, 10), pay("P1", "100"), note("A1", "I1", event.Credit, "30"),
			&event.PaymentReversed{PaymentID: "P1"}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "70"})
			wantCredit(t, acc, "EUR", "0")
			if res.UnappliedBefore != amt("30") {
				t.Errorf("result %+v", res)
			}
		}},
		{"credit note excess settles other items", []event.Body{inv("I1", "100", 0, 10), pay("P1", "100"), inv("I2", "50", 2, 20), note("A1", "I1", event.Credit, "30")},
			func(t *testing.T, acc *Account, res Result) {
				wantOpen(t, acc, map[string]string{"I1": "0", "I2": "20"})
				wantCredit(t, acc, "EUR", "0")
			}},
		{"debit note uses credit", []event.Body{inv("I1", "100", 0, 10), pay("P1", "110"), note("A1", "I1", event.Debit, "25")}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "15"})
			wantCredit(t, acc, "EUR", "0")
		}},
		{"cancellation", []event.Body{inv("I1", "100", 0, 10), inv("I2", "80", 0, 20), pay("P1", "120"), dispute("D1", "I2", "20"), &event.InvoiceCancelled{InvoiceID: "I2"}},
			func(t *testing.T, acc *Account, res Result) {
				// P1 paid I1 100 and I2 20; cancelling I2 gives 20 back as credit.
				wantOpen(t, acc, map[string]string{"I1": "0", "I2": "0"})
				wantCredit(t, acc, "EUR", "20")
				it, _ := acc.Item("I2")
				if !it.Cancelled || it.Disputed != 0 || !it.Disputes[0].Resolved || !res.FullyPaid() {
					t.Errorf("item %+v result %+v", it, res)
				}
			}},
		{"dispute marks and resolution clears", []event.Body{inv("I1", "100", 0, 1), dispute("D1", "I1", "40"), &event.DisputeResolved{DisputeID: "D1", Outcome: event.Rejected}},
			func(t *testing.T, acc *Account, res Result) {
				b := acc.Balance("EUR", at(10))
				if b.Disputed != 0 || b.Overdue != amt("100") || acc.counters.DisputesOpened != 1 {
					t.Errorf("balance %+v", b)
				}
			}},
		{"open dispute is not overdue", []event.Body{inv("I1", "100", 0, 1), dispute("D1", "I1", "40")}, func(t *testing.T, acc *Account, res Result) {
			b := acc.Balance("EUR", at(10))
			if b.Disputed != amt("40") || b.Overdue != amt("60") || b.Aging[Aging1to30] != amt("100") {
				t.Errorf("balance %+v", b)
			}
		}},
		{"upheld dispute credits the invoice", []event.Body{inv("I1", "100", 0, 1), dispute("D1", "I1", "40"),
			&event.DisputeResolved{DisputeID: "D1", Outcome: event.Upheld, CreditAmount: amt("40")}}, func(t *testing.T, acc *Account, res Result) {
			wantOpen(t, acc, map[string]string{"I1": "60"})
			if b := acc.Balance("EUR", at(10)); b.Disputed != 0 || b.Overdue != amt("60") {
				t.Errorf("balance %+v", b)
			}
		}},
		{"account master data and closing", []event.Body{&event.AccountUpserted{Segment: event.Postpaid, CreditClass: "B", Currency: "EUR", Timezone: "Europe/Berlin",
			CreditLimit: amt("500"), Consents: []event.Channel{event.Email, event.SMS}, Exemptions: []string{"VIP"}}, &event.AccountClosed{Reason: "churn"}},
			func(t *testing.T, acc *Account, res Result) {
				m := acc.Master()
				if !acc.Known() || !acc.Closed() || m.Segment != event.Postpaid || m.Timezone != "Europe/Berlin" || m.CreditLimit != amt("500") ||
					!slices.Equal(m.Consents, []event.Channel{event.Email, event.SMS}) || !slices.Equal(m.Exemptions, []string{"VIP"}) {
					t.Errorf("master %+v", m)
				}
			}},
		{"identical upsert changes nothing but its remembered id", []event.Body{&event.AccountUpserted{Segment: event.Prepaid}, &event.AccountUpserted{Segment: event.Prepaid}},
			func(t *testing.T, acc *Account, res Result) {
				if !res.Changed || res.Duplicate || acc.Master().Segment != event.Prepaid || len(acc.events) != 2 {
					t.Errorf("result %+v, %d ids remembered", res, len(acc.events))
				}
				if res, _ := Apply(acc, event.Event{Body: &event.AccountUpserted{Segment: event.Prepaid}}, at(3)); res.Changed {
					t.Errorf("id-less identical upsert: %+v", res)
				}
			}},
		{"arrangements are not the ledger's", []event.Body{&event.ArrangementCreated{ArrangementID: "X"}}, func(t *testing.T, acc *Account, res Result) {
			if res.Changed || res.Kind != event.KindArrangementCreated {
				t.Errorf("result %+v", res)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acc := &Account{}
			var res Result
			for i, b := range tc.events {
				var err error
				if res, err = applyAt(t, Rules{}, acc, i, b); err != nil {
					t.Fatalf("event %d %T: %v", i, b, err)
				}
			}
			tc.check(t, acc, res)
		})
	}
}

func TestDuplicates(t *testing.T) {
	setup := []event.Body{inv("I1", "100", 0, 10), pay("P1", "40"), note("A1", "I1", event.Debit, "5"),
		dispute("D1", "I1", "10"), &event.DisputeResolved{DisputeID: "D1", Outcome: event.Withdrawn},
		&event.PaymentReversed{PaymentID: "P1"}, &event.InvoiceCancelled{InvoiceID: "I1"}, &event.AccountClosed{}}
	for i, b := range setup {
		acc := &Account{}
		feed(t, Rules{}, acc, setup[:i+1]...)
		before, _ := acc.MarshalBinary()
		// Same fact under a new event id: deduplicated by entity.
		res, err := applyAt(t, Rules{}, acc, 50, b)
		if err != nil || !res.Duplicate || res.Changed {
			t.Fatalf("%T again: %+v %v", b, res, err)
		}
		after, _ := acc.MarshalBinary()
		if string(before) != string(after) {
			t.Fatalf("%T duplicate changed the account", b)
		}
	}
	// A refund re-sent under a new event id: its refund id is remembered.
	acc := &Account{}
	feed(t, Rules{}, acc, pay("P1", "100"), &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("30")})
	if res, err := applyAt(t, Rules{}, acc, 9, &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("30")}); err != nil || !res.Duplicate {
		t.Fatalf("refund again: %+v %v", res, err)
	}
	wantCredit(t, acc, "EUR", "70")
}

func TestAging(t *testing.T) {
	acc := &Account{}
	now := 200
	// Items due so that at day 200 they are these many days past due.
	dpds := []int{-5, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 400}
	for i, d := range dpds {
		due := now - d
		feed(t, Rules{}, acc, &event.InvoiceIssued{InvoiceID: string(rune('A' + i)), Currency: "EUR", Amount: amt("1") * event.Amount(i+1),
			IssueDate: day(due - 10), DueDate: day(due)})
	}
	b := acc.Balance("EUR", at(now))
	a := func(is ...int) event.Amount {
		var s event.Amount
		for _, i := range is {
			s += amt("1") * event.Amount(i+1)
		}
		return s
	}
	want := [6]event.Amount{a(0, 1), a(2, 3), a(4, 5), a(6, 7), a(8, 9), a(10, 11)}
	if b.Aging != want {
		t.Fatalf("aging %v, want %v", b.Aging, want)
	}
	if b.Overdue != b.Open-a(0, 1) {
		t.Fatalf("overdue %s open %s", b.Overdue, b.Open)
	}
	if d := acc.DaysPastDue(at(now)); d != 400 {
		t.Fatalf("days past due %d", d)
	}
	if od := acc.OverdueItems(at(now)); len(od) != 10 || od[0].InvoiceID != "L" {
		t.Fatalf("overdue items %d", len(od))
	}
	if acc.counters.MaxDaysPastDue != 200 || !acc.Observe(at(now)) || acc.Observe(at(now)) {
		t.Fatalf("max dpd %d before observing day %d", acc.counters.MaxDaysPastDue, now)
	}
	if acc.OpenItems() != 12 || acc.counters.MaxDaysPastDue != 400 {
		t.Fatalf("open items %d max dpd %d", acc.OpenItems(), acc.counters.MaxDaysPastDue)
	}
	// In the account's timezone the day may differ: DateOf uses now's location.
	late := t0.Add(11*time.Hour + 30*time.Minute) // 23:30 UTC on t0
	if event.DateOf(late.In(time.FixedZone("X", 3600))) != day(1) {
		t.Fatal("timezone day")
	}
}
