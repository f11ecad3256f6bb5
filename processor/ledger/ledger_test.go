package ledger

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

var t0 = time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)

// day is t0's date plus n days; at is t0 plus n days.
func day(n int) event.Date { return event.DateOf(t0) + event.Date(n) }
func at(n int) time.Time   { return t0.AddDate(0, 0, n) }

func amt(s string) event.Amount { return event.MustAmount(s) }

func inv(id, a string, issue, due int) *event.InvoiceIssued {
	return &event.InvoiceIssued{InvoiceID: id, Currency: "EUR", Amount: amt(a), IssueDate: day(issue), DueDate: day(due)}
}

func pay(id, a string, named ...string) *event.PaymentReceived {
	return &event.PaymentReceived{PaymentID: id, Currency: "EUR", Amount: amt(a), InvoiceIDs: named}
}

var seq int

// feed applies bodies on consecutive days starting at t0, failing on error.
func feed(t *testing.T, r Rules, acc *Account, bodies ...event.Body) {
	t.Helper()
	for i, b := range bodies {
		seq++
		if _, err := r.Apply(acc, event.Event{ID: fmt.Sprintf("setup-%d", seq), Time: at(i), Body: b}, at(i)); err != nil {
			t.Fatalf("setup %d %T: %v", i, b, err)
		}
	}
}

func applyAt(t *testing.T, r Rules, acc *Account, n int, b event.Body) (Result, error) {
	t.Helper()
	return r.Apply(acc, event.Event{ID: fmt.Sprintf("ev-%d-%p", n, b), Time: at(n), Body: b}, at(n))
}

func TestRejections(t *testing.T) {
	base := []event.Body{inv("I1", "100", 0, 14), pay("P1", "150")} // 50 credit
	cases := []struct {
		name  string
		rules Rules
		setup []event.Body
		ev    event.Body
		want  Reason
	}{
		{"invoice zero amount", Rules{}, nil, inv("I9", "0", 0, 1), ReasonNonPositiveAmount},
		{"invoice negative amount", Rules{}, nil, inv("I9", "-5", 0, 1), ReasonNonPositiveAmount},
		{"invoice huge amount", Rules{}, nil, &event.InvoiceIssued{InvoiceID: "I9", Currency: "EUR", Amount: MaxAmount + 1, IssueDate: day(0), DueDate: day(1)}, ReasonAmountOutOfRange},
		{"invoice bad currency", Rules{}, nil, &event.InvoiceIssued{InvoiceID: "I9", Currency: "Euro", Amount: 1, IssueDate: day(0), DueDate: day(1)}, ReasonUnknownCurrency},
		{"invoice without id", Rules{}, nil, inv("", "1", 0, 1), ReasonInvalidField},
		{"invoice due before issue", Rules{}, nil, inv("I9", "1", 5, 4), ReasonInvalidDates},
		{"invoice unset dates", Rules{}, nil, &event.InvoiceIssued{InvoiceID: "I9", Currency: "EUR", Amount: 1}, ReasonInvalidDates},
		{"too many items", Rules{MaxItems: 1}, base, inv("I2", "1", 0, 1), ReasonTooManyItems},
		{"payment zero", Rules{}, nil, pay("P9", "0"), ReasonNonPositiveAmount},
		{"payment bad currency", Rules{}, nil, &event.PaymentReceived{PaymentID: "P9", Currency: "", Amount: 1}, ReasonUnknownCurrency},
		{"payment without id", Rules{}, nil, pay("", "1"), ReasonInvalidField},
		{"payment on closed account", Rules{}, []event.Body{&event.AccountClosed{}}, pay("P9", "1"), ReasonClosedAccount},
		{"too many payments", Rules{MaxPayments: 1}, base, pay("P2", "1"), ReasonTooManyItems},
		{"unknown account", Rules{RequireAccount: true}, nil, inv("I9", "1", 0, 1), ReasonUnknownAccount},
		{"credit note unknown invoice", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I9", Type: event.Credit, Currency: "EUR", Amount: 1}, ReasonUnknownInvoice},
		{"credit note currency mismatch", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Type: event.Credit, Currency: "USD", Amount: 1}, ReasonCurrencyMismatch},
		{"credit note above invoice", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Type: event.Credit, Currency: "EUR", Amount: amt("100.0001")}, ReasonCreditExceedsInvoice},
		{"adjustment bad type", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Currency: "EUR", Amount: 1}, ReasonInvalidField},
		{"adjustment without id", Rules{}, base, &event.InvoiceAdjusted{InvoiceID: "I1", Type: event.Debit, Currency: "EUR", Amount: 1}, ReasonInvalidField},
		{"adjustment zero", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Type: event.Debit, Currency: "EUR"}, ReasonNonPositiveAmount},
		{"debit note past maximum", Rules{}, base, &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Type: event.Debit, Currency: "EUR", Amount: MaxAmount}, ReasonAmountOutOfRange},
		{"adjust cancelled invoice", Rules{}, append(slices.Clone(base), &event.InvoiceCancelled{InvoiceID: "I1"}), &event.InvoiceAdjusted{AdjustmentID: "A1", InvoiceID: "I1", Type: event.Debit, Currency: "EUR", Amount: 1}, ReasonInvoiceCancelled},
		{"cancel unknown invoice", Rules{}, base, &event.InvoiceCancelled{InvoiceID: "I9"}, ReasonUnknownInvoice},
		{"reverse unknown payment", Rules{}, base, &event.PaymentReversed{PaymentID: "P9"}, ReasonUnknownPayment},
		{"refund above credit", Rules{}, base, &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("50.0001")}, ReasonRefundExceedsCredit},
		{"refund in other currency", Rules{}, base, &event.Refund{RefundID: "R1", Currency: "USD", Amount: 1}, ReasonRefundExceedsCredit},
		{"refund unknown payment", Rules{}, base, &event.Refund{RefundID: "R1", Currency: "EUR", Amount: 1, PaymentID: "P9"}, ReasonUnknownPayment},
		{"refund payment currency mismatch", Rules{}, base, &event.Refund{RefundID: "R1", Currency: "USD", Amount: 1, PaymentID: "P1"}, ReasonCurrencyMismatch},
		{"refund negative", Rules{}, base, &event.Refund{RefundID: "R1", Currency: "EUR", Amount: -1}, ReasonNonPositiveAmount},
		{"dispute unknown invoice", Rules{}, nil, &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I9", Currency: "EUR", Amount: 1}, ReasonUnknownInvoice},
		{"dispute above open", Rules{}, []event.Body{inv("I1", "100", 0, 14), pay("P1", "60")}, &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I1", Currency: "EUR", Amount: amt("40.0001")}, ReasonDisputeExceedsOpen},
		{"dispute settled invoice", Rules{}, base, &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I1", Currency: "EUR", Amount: 1}, ReasonDisputeExceedsOpen},
		{"resolve unknown dispute", Rules{}, base, &event.DisputeResolved{DisputeID: "D9", Outcome: event.Rejected}, ReasonUnknownDispute},
		{"resolve bad outcome", Rules{}, base, &event.DisputeResolved{DisputeID: "D9"}, ReasonInvalidField},
		{"resolve credit above invoice", Rules{}, []event.Body{inv("I1", "100", 0, 14), &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I1", Currency: "EUR", Amount: amt("10")}},
			&event.DisputeResolved{DisputeID: "D1", Outcome: event.Upheld, CreditAmount: amt("101")}, ReasonCreditExceedsInvoice},
		{"upsert bad segment", Rules{}, nil, &event.AccountUpserted{Segment: "vip"}, ReasonInvalidField},
		{"upsert bad currency", Rules{}, nil, &event.AccountUpserted{Currency: "EURO"}, ReasonUnknownCurrency},
		{"upsert negative limit", Rules{}, nil, &event.AccountUpserted{CreditLimit: -1}, ReasonAmountOutOfRange},
		{"no body", Rules{}, nil, nil, ReasonInvalidField},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			acc := &Account{}
			feed(t, tc.rules, acc, tc.setup...)
			before, _ := acc.MarshalBinary()
			ev := event.Event{ID: "x", Time: at(30), Body: tc.ev}
			res, err := tc.rules.Apply(acc, ev, at(30))
			if ReasonOf(err) != tc.want {
				t.Fatalf("err %v, want reason %s", err, tc.want)
			}
			if !errors.Is(err, &RejectError{Reason: tc.want}) {
				t.Fatalf("errors.Is does not match %v", err)
			}
			if res.Changed || res.Duplicate {
				t.Fatalf("result %+v on rejection", res)
			}
			after, _ := acc.MarshalBinary()
			if string(before) != string(after) {
				t.Fatal("rejection changed the account")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tc.want.String()+": ") || len(msg) < len(tc.want.String())+12 {
				t.Fatalf("message %q", msg)
			}
		})
	}
}

func TestReasonsAreLabels(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Reasons() {
		s := r.String()
		if s == "unknown" || seen[s] || strings.ToLower(s) != s || strings.ContainsAny(s, " -") {
			t.Fatalf("bad label %q", s)
		}
		seen[s] = true
	}
}

func TestDeadLetterMessage(t *testing.T) {
	acc := &Account{}
	feed(t, Rules{}, acc, inv("I1", "100", 0, 14), pay("P1", "120"))
	_, err := applyAt(t, Rules{}, acc, 3, &event.Refund{RefundID: "R1", Currency: "EUR", Amount: amt("50")})
	want := "refund_exceeds_credit: refund R1 of 50.0000 EUR exceeds the unapplied credit of 20.0000 EUR"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
