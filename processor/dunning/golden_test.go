package dunning

import (
	"testing"

	"github.com/arrears/arrears/processor/event"
)

var allChannels = []event.Channel{event.Email, event.SMS, event.Letter, event.Push}

func sarah() Input {
	return Input{Account: "ACC-SARAH", Segment: event.Postpaid, CreditClass: "timelybill", RiskTier: "MEDIUM", Consents: allChannels}
}

func usd(s string) event.Amount { return event.MustAmount(s) }

// TestGoldenTimelyBill is the TimelyBill example end to end: due 1 August,
// reminder by email on day 4, SMS on day 11, final notice on day 18,
// suspension on day 24, the pre-collections call, then an installment plan
// that pauses everything and restores service, paid off in three months.
func TestGoldenTimelyBill(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-2407", Currency: "USD", Amount: usd("89.90"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-09-02 10:00")
	h.ev("2024-09-02 10:30", &event.ArrangementCreated{ArrangementID: "PLAN-1", Type: event.InstallmentPlan, Currency: "USD",
		Installments: []event.Installment{{DueDate: date("2024-09-15"), Amount: usd("30")}, {DueDate: date("2024-10-15"), Amount: usd("30")}, {DueDate: date("2024-11-15"), Amount: usd("29.90")}}})
	h.ev("2024-09-14 12:00", &event.PaymentReceived{PaymentID: "PAY-1", Currency: "USD", Amount: usd("30"), Method: "card"})
	h.ev("2024-10-15 18:00", &event.PaymentReceived{PaymentID: "PAY-2", Currency: "USD", Amount: usd("30"), Method: "card"})
	h.ev("2024-11-12 08:00", &event.PaymentReceived{PaymentID: "PAY-3", Currency: "USD", Amount: usd("29.90"), Method: "card"})
	h.until("2024-12-31 00:00")
	h.check("timelybill")
}
