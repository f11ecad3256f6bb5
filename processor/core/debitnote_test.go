package core

import (
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
)

// TestRefusedDebitNoteBooksNoGL: a fee whose debit note the ledger
// refuses (it would take the invoice past ledger.MaxAmount) leaves no GL
// entry either, and the explanation says why; the same fee on an
// ordinary invoice books both.
func TestRefusedDebitNoteBooksNoGL(t *testing.T) {
	const feePolicy = `
name: fin
selection: {segments: [corporate]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 5, actions: [{type: fee, amount: "5.00", currency: EUR}]}
gl: {receivables: "1200", fee_income: "4100", bad_debt: "6800"}
`
	for _, tc := range []struct {
		name   string
		amount event.Amount
		booked bool
	}{{"ordinary", event.MustAmount("1000"), true}, {"at the maximum", event.Amount(ledger.MaxAmount), false}} {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTimeline(t, feePolicy)
			// I1 (1,000.00, newTimeline's) is open beside it
			out := tl.apply(0, &event.InvoiceIssued{InvoiceID: "I2", Currency: "EUR", Amount: tc.amount, IssueDate: event.DateOf(day0) - 30, DueDate: event.DateOf(day0) - 20})
			explained := out.Explanation
			for w := tl.st.WakeAt(); !w.IsZero() && w.Before(tl.at(10)); w = tl.st.WakeAt() {
				out := tl.take(Wake(tl.st, "A1", w, tl.env))
				explained += out.Explanation
			}
			var fees []event.GLEntry
			for _, g := range tl.all {
				if g.Kind == "FEE" {
					fees = append(fees, g)
				}
			}
			rose := tl.st.Ledger.Balance("EUR", tl.at(10)).Open - event.MustAmount("1000") - tc.amount
			switch {
			case tc.booked && (len(fees) != 1 || rose != event.MustAmount("5")):
				t.Fatalf("fee GL entries %+v, balance rose by %s: want one, and 5", fees, rose)
			case !tc.booked && (len(fees) != 0 || rose != 0 || !strings.Contains(explained, "not booked")):
				t.Fatalf("refused fee: GL entries %+v, balance rose by %s, explanation %q: want none, 0 and why", fees, rose, explained)
			}
		})
	}
}
