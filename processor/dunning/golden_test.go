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

// TestGoldenBrokenPromise: two invoices dunned as one account; a promise
// to pay after suspension is partly paid and broken when its due date and
// grace pass; dunning resumes at the policy's stage and the ladder is timed
// from there.
func TestGoldenBrokenPromise(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-01 00:00", sarah())
	h.ev("2024-07-01 09:00", &event.InvoiceIssued{InvoiceID: "INV-A", Currency: "USD", Amount: usd("100"), IssueDate: date("2024-07-01"), DueDate: date("2024-08-01")})
	h.ev("2024-07-10 09:00", &event.InvoiceIssued{InvoiceID: "INV-B", Currency: "USD", Amount: usd("50"), IssueDate: date("2024-07-10"), DueDate: date("2024-08-10")})
	h.until("2024-08-26 10:00")
	h.ev("2024-08-26 11:00", &event.ArrangementCreated{ArrangementID: "PTP-1", Type: event.Promise, Currency: "USD",
		Installments: []event.Installment{{DueDate: date("2024-09-02"), Amount: usd("150")}}})
	h.ev("2024-09-01 16:00", &event.PaymentReceived{PaymentID: "PAY-P", Currency: "USD", Amount: usd("100")})
	h.until("2024-09-20 00:00")
	h.check("broken_promise")
}

// TestGoldenDisputeUpheld: the whole amount is disputed after the first
// reminder, dunning pauses, the dispute is upheld with a full credit and
// the episode ends.
func TestGoldenDisputeUpheld(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-D", Currency: "USD", Amount: usd("120"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-08-07 09:00")
	h.ev("2024-08-07 10:00", &event.DisputeOpened{DisputeID: "DSP-1", InvoiceID: "INV-D", Currency: "USD", Amount: usd("120"), Reason: "roaming charges not mine"})
	h.until("2024-08-20 09:00")
	h.ev("2024-08-20 10:00", &event.DisputeResolved{DisputeID: "DSP-1", Outcome: event.Upheld, CreditAmount: usd("120")})
	h.until("2024-09-30 00:00")
	h.check("dispute_upheld")
}

// TestGoldenDisputeRejected: a partial dispute keeps the undisputed rest in
// dunning; once rejected, the disputed amount returns after the policy's
// grace and the stages that came due meanwhile are entered at once, with
// only the last notification sent.
func TestGoldenDisputeRejected(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-R1", Currency: "USD", Amount: usd("80"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.ev("2024-07-15 09:01", &event.InvoiceIssued{InvoiceID: "INV-R2", Currency: "USD", Amount: usd("40"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-08-07 09:00")
	h.ev("2024-08-07 10:00", &event.DisputeOpened{DisputeID: "DSP-2", InvoiceID: "INV-R1", Currency: "USD", Amount: usd("80"), Reason: "double billing"})
	h.until("2024-08-14 09:00")
	h.ev("2024-08-14 10:00", &event.PaymentReceived{PaymentID: "PAY-R2", Currency: "USD", Amount: usd("40")})
	h.until("2024-08-20 09:00")
	h.ev("2024-08-20 10:00", &event.DisputeResolved{DisputeID: "DSP-2", Outcome: event.Rejected})
	h.until("2024-09-10 00:00")
	h.check("dispute_rejected")
}

// TestGoldenQuietHours: under the postpaid policy in Berlin a payment
// bounces at 22:30; the policy resumes at its SMS stage, and quiet hours
// (21:00-08:00 local) hold the SMS until 08:00 the next morning.
func TestGoldenQuietHours(t *testing.T) {
	in := Input{Account: "ACC-BERLIN", Segment: event.Postpaid, CreditClass: "standard", RiskTier: "LOW", Consents: allChannels}
	h := newHarness(t, deployPolicy(t, "postpaid.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", in)
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-Q", Currency: "EUR", Amount: usd("60"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-08-06 14:00")
	h.ev("2024-08-06 15:00", &event.PaymentReceived{PaymentID: "DD-Q", Currency: "EUR", Amount: usd("60"), Method: "direct_debit"})
	h.until("2024-08-07 22:00")
	h.ev("2024-08-07 22:30", &event.PaymentReversed{PaymentID: "DD-Q", Reason: "account closed"})
	h.until("2024-08-12 00:00")
	h.check("quiet_hours")
}

// TestGoldenHold: a manual hold pauses dunning; when it ends the ladder
// has moved by the days it lasted, so stages do not pile up.
func TestGoldenHold(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-H", Currency: "USD", Amount: usd("60"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-08-09 12:00")
	h.ev("2024-08-09 12:30", &event.Hold{HoldID: "HOLD-1", Until: h.at("2024-08-19 21:30"), Reason: "customer in hospital"})
	h.until("2024-09-10 00:00")
	h.check("hold")
}

// TestGoldenContactCap: three daily reminders under a cap of two per
// rolling week: the third waits until the first ages out; the bar notice
// is deferred behind it.
func TestGoldenContactCap(t *testing.T) {
	in := Input{Account: "ACC-CAP", Segment: event.Postpaid, Consents: []event.Channel{event.Email, event.SMS}}
	h := newHarness(t, loadPolicy(t, "testdata/cap.yaml"), zone(t, "Europe/Berlin"), "2024-03-01 00:00", in)
	h.ev("2024-03-01 09:00", &event.InvoiceIssued{InvoiceID: "INV-C", Currency: "EUR", Amount: usd("45"), IssueDate: date("2024-03-01"), DueDate: date("2024-03-10")})
	h.until("2024-03-25 00:00")
	h.check("contact_cap")
}

// TestGoldenReversalAfterRestore: paid in full after suspension (service
// restored, episode over), then the payment bounces: a new episode starts
// at the policy's reversal stage and the rest of the ladder follows from
// there.
func TestGoldenReversalAfterRestore(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-V", Currency: "USD", Amount: usd("75"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.until("2024-08-27 13:00")
	h.ev("2024-08-27 14:00", &event.PaymentReceived{PaymentID: "PAY-V", Currency: "USD", Amount: usd("75"), Method: "direct_debit"})
	h.until("2024-09-03 09:00")
	h.ev("2024-09-03 10:00", &event.PaymentReversed{PaymentID: "PAY-V", Reason: "insufficient funds"})
	h.until("2024-09-30 00:00")
	h.check("reversal_after_restore")
}

// TestGoldenWholesale: a carrier partner in New York under the wholesale
// policy: reminders by email on business days outside 19:00-07:00, carrier
// relations, throttling above 10,000, barring; a partial wire does not
// undo the stage reached, full settlement restores service. The two
// invoices are dunned as one account.
func TestGoldenWholesale(t *testing.T) {
	in := Input{Account: "CARRIER-42", Segment: event.Wholesale, CreditClass: "interconnect", RiskTier: "LOW", Consents: []event.Channel{event.Email}}
	h := newHarness(t, deployPolicy(t, "wholesale.yaml"), zone(t, "America/New_York"), "2025-03-01 00:00", in)
	h.ev("2025-03-01 09:00", &event.InvoiceIssued{InvoiceID: "IC-2502", Currency: "USD", Amount: usd("250000"), IssueDate: date("2025-03-01"), DueDate: date("2025-03-31")})
	h.ev("2025-03-02 09:00", &event.InvoiceIssued{InvoiceID: "IC-2502-ADJ", Currency: "USD", Amount: usd("400"), IssueDate: date("2025-03-02"), DueDate: date("2025-03-31")})
	h.until("2025-05-20 10:00")
	h.ev("2025-05-20 11:00", &event.PaymentReceived{PaymentID: "WIRE-1", Currency: "USD", Amount: usd("100000"), Method: "wire"})
	h.until("2025-06-10 10:00")
	h.ev("2025-06-10 11:00", &event.PaymentReceived{PaymentID: "WIRE-2", Currency: "USD", Amount: usd("150400"), Method: "wire"})
	h.until("2025-06-30 00:00")
	h.check("wholesale")
}
