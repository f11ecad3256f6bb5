package group

import (
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// TestOfState: an account's contribution from its state: exposure, the
// disputed part, the undisputed open amount by due date; nothing once
// closed or without a parent.
func TestOfState(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	d0 := event.DateOf(t0)
	st := &core.State{Account: "C1"}
	apply := func(b event.Body, id string) {
		t.Helper()
		if _, err := core.Apply(st, event.Event{ID: id, Time: t0, Source: "test", Account: "C1", Body: b}, t0, &core.Env{}); err != nil {
			t.Fatal(err)
		}
	}
	apply(&event.AccountUpserted{Segment: event.Corporate, ParentID: "M1", Currency: "EUR"}, "up")
	apply(&event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: 10000, IssueDate: d0, DueDate: d0 + 14}, "i1")
	apply(&event.InvoiceIssued{InvoiceID: "I2", Currency: "EUR", Amount: 5000, IssueDate: d0, DueDate: d0 + 30}, "i2")
	apply(&event.DisputeOpened{DisputeID: "D1", InvoiceID: "I2", Currency: "EUR", Amount: 2000}, "d1")
	apply(&event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: 4000, Method: "card"}, "p1") // to I1, the oldest

	parent, tot, ok := OfState(st)
	if !ok || parent != "M1" {
		t.Fatalf("parent %q ok %v", parent, ok)
	}
	f := tot.Currencies["EUR"]
	// I1: 100.00 - 40.00 = 60.00 open; I2: 50.00 open, 20.00 disputed
	if f.Exposure != 11000 || f.Disputed != 2000 || f.Due[d0+14] != 6000 || f.Due[d0+30] != 3000 || tot.Accounts != 1 {
		t.Fatalf("figures %+v", *f)
	}
	if got := tot.Overdue("EUR", d0+20); got != 6000 {
		t.Errorf("overdue on day 20: %d, want 6000 (I1 only)", got)
	}
	if got := tot.WorstDPD(d0 + 40); got != 26 {
		t.Errorf("worst dpd on day 40: %d, want 26", got)
	}
	apply(&event.AccountUpserted{Segment: event.Corporate, Currency: "EUR"}, "up2") // parent removed
	if _, _, ok := OfState(st); ok {
		t.Error("an account without a parent contributes")
	}
}
