package ledger

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

func applyID(t *testing.T, r Rules, acc *Account, id string, n int, b event.Body) (Result, error) {
	t.Helper()
	return r.Apply(acc, event.Event{ID: id, Time: at(n), Body: b}, at(n))
}

// TestEventIDWhateverThePayload: an event id is applied once within
// DedupeDays, whatever the payload carries (issue 11: the same event_id
// with two payment ids was applied twice; a refund re-sent after 8 other
// events was applied twice).
func TestEventIDWhateverThePayload(t *testing.T) {
	acc := &Account{}
	feed(t, Rules{}, acc, inv("I1", "100", 0, 14))
	if _, err := applyID(t, Rules{}, acc, "E1", 1, pay("P1", "40")); err != nil {
		t.Fatal(err)
	}
	res, err := applyID(t, Rules{}, acc, "E1", 2, pay("P2", "40"))
	if err != nil || !res.Duplicate || acc.PaymentKnown("P2") {
		t.Fatalf("same event id, other payment id: %+v %v, P2 known %v", res, err, acc.PaymentKnown("P2"))
	}
	wantOpen(t, acc, map[string]string{"I1": "60"})

	feed(t, Rules{}, acc, pay("P3", "100"))
	if _, err := applyID(t, Rules{}, acc, "R", 3, &event.Refund{RefundID: "RF1", Currency: "EUR", Amount: amt("10")}); err != nil {
		t.Fatal(err)
	}
	for i := range 20 { // many other events of every kind in between
		feed(t, Rules{}, acc, &event.AccountUpserted{CreditClass: string(rune('a' + i))}, inv(string(rune('J'+i)), "1", 3, 20))
	}
	if res, err := applyID(t, Rules{}, acc, "R", 4, &event.Refund{RefundID: "RF2", Currency: "EUR", Amount: amt("10")}); err != nil || !res.Duplicate {
		t.Fatalf("refund event re-sent after 40 events: %+v %v", res, err)
	}
	// The window: still a duplicate on day 1+35, forgotten after.
	up := &event.AccountUpserted{CreditClass: "late"}
	if res, _ := applyID(t, Rules{}, acc, "E1", 1+DefaultDedupeDays, up); !res.Duplicate {
		t.Fatalf("event id forgotten within dedupe_days: %+v", res)
	}
	if res, _ := applyID(t, Rules{}, acc, "E1", 2+DefaultDedupeDays+1, up); res.Duplicate || acc.Master().CreditClass != "late" {
		t.Fatalf("event id still remembered after dedupe_days: %+v", res)
	}
	if len(acc.events) > 30 {
		t.Errorf("%d event ids kept after the window passed", len(acc.events))
	}
}

// TestDedupeDaysRule: a shorter window is honoured.
func TestDedupeDaysRule(t *testing.T) {
	r := Rules{DedupeDays: 3}
	acc := &Account{}
	up := &event.AccountUpserted{CreditClass: "A"}
	if _, err := applyID(t, r, acc, "E", 0, up); err != nil {
		t.Fatal(err)
	}
	if res, _ := applyID(t, r, acc, "E", 3, &event.AccountUpserted{CreditClass: "B"}); !res.Duplicate {
		t.Fatalf("day 3: %+v", res)
	}
	if res, _ := applyID(t, r, acc, "E", 4, &event.AccountUpserted{CreditClass: "B"}); res.Duplicate {
		t.Fatalf("day 4: %+v", res)
	}
	if err := (Rules{DedupeDays: -1}).Validate(); err == nil {
		t.Error("negative dedupe_days accepted")
	}
}

// TestEntityConflicts: an entity id repeated with other content is
// rejected as id_conflict; with the same content it is a duplicate.
func TestEntityConflicts(t *testing.T) {
	setup := []event.Body{inv("I1", "100", 0, 10), inv("I2", "50", 0, 10), pay("P1", "40", "I1"),
		note("A1", "I1", event.Debit, "5"), dispute("D1", "I1", "10")}
	cases := []struct {
		name string
		b    event.Body
		dup  bool
	}{
		{"invoice, same content", inv("I1", "100", 0, 10), true},
		{"invoice, other amount", inv("I2", "55", 0, 10), false},
		{"invoice, other due date", inv("I1", "100", 0, 11), false},
		{"invoice with adjustments, same dates", inv("I1", "100", 0, 10), true},
		{"payment, same content", pay("P1", "40"), true},
		{"payment, other amount", pay("P1", "41"), false},
		{"payment, other currency", &event.PaymentReceived{PaymentID: "P1", Currency: "USD", Amount: amt("40")}, false},
		{"adjustment on another invoice", note("A1", "I2", event.Debit, "5"), false},
		{"adjustment, same invoice", note("A1", "I1", event.Debit, "5"), true},
		{"dispute, other amount", dispute("D1", "I1", "11"), false},
		{"dispute on another invoice", dispute("D1", "I2", "10"), false},
		{"dispute, same content", dispute("D1", "I1", "10"), true},
	}
	for _, c := range cases {
		acc := &Account{}
		feed(t, Rules{}, acc, setup...)
		before := acc.Clone()
		res, err := applyAt(t, Rules{}, acc, 9, c.b)
		switch {
		case c.dup && (err != nil || !res.Duplicate):
			t.Errorf("%s: %+v %v, want a duplicate", c.name, res, err)
		case !c.dup && ReasonOf(err) != ReasonIDConflict:
			t.Errorf("%s: %+v %v, want id_conflict", c.name, res, err)
		}
		if b1, _ := before.MarshalBinary(); true {
			b2, _ := acc.MarshalBinary()
			if string(b1) != string(b2) {
				t.Errorf("%s: the account changed", c.name)
			}
		}
	}
	var re *RejectError
	_, err := applyAt(t, Rules{}, func() *Account { a := &Account{}; feed(t, Rules{}, a, setup...); return a }(), 9, pay("P1", "1"))
	if !errors.As(err, &re) || re.Code() != "ID_CONFLICT" {
		t.Fatalf("code of %v", err)
	}
}

// TestPrunedEntitiesStayKnown: after pruning, a repeat of a pruned
// invoice, payment, adjustment, dispute or refund under a new event id is
// a duplicate for TombstoneDays (before: the payment was applied again as
// credit, the invoice issued again).
func TestPrunedEntitiesStayKnown(t *testing.T) {
	r := Rules{ReversalWindowDays: 10, TombstoneDays: 100}
	acc := &Account{}
	feed(t, r, acc, inv("I1", "100", 0, 5), note("A1", "I1", event.Credit, "10"), dispute("D1", "I1", "5"),
		&event.DisputeResolved{DisputeID: "D1", Outcome: event.Withdrawn}, pay("P1", "100"),
		&event.Refund{RefundID: "RF1", Currency: "EUR", Amount: amt("10")}, inv("I2", "20", 5, 9), &event.InvoiceCancelled{InvoiceID: "I2"})
	if _, err := applyAt(t, r, acc, 40, &event.AccountUpserted{}); err != nil { // prunes
		t.Fatal(err)
	}
	if _, ok := acc.Item("I1"); ok || acc.PaymentKnown("P1") {
		t.Fatal("setup: nothing was pruned")
	}
	for _, b := range []event.Body{inv("I1", "100", 0, 5), inv("I1", "999", 0, 5), pay("P1", "100"), note("A1", "I1", event.Credit, "10"),
		dispute("D1", "I1", "5"), &event.DisputeResolved{DisputeID: "D1", Outcome: event.Withdrawn},
		&event.Refund{RefundID: "RF1", Currency: "EUR", Amount: amt("10")}, &event.InvoiceCancelled{InvoiceID: "I2"}, inv("I2", "20", 5, 9)} {
		if res, err := applyAt(t, r, acc, 41, b); err != nil || !res.Duplicate {
			t.Errorf("%T %+v after pruning: %+v %v, want a duplicate", b, b, res, err)
		}
	}
	wantCredit(t, acc, "EUR", "0")
	// After TombstoneDays the ids are forgotten.
	feed2 := func(n int, b event.Body) (Result, error) { return applyAt(t, r, acc, n, b) }
	if _, err := feed2(200, &event.AccountUpserted{CreditClass: "x"}); err != nil {
		t.Fatal(err)
	}
	if res, err := feed2(201, pay("P1", "100")); err != nil || res.Duplicate {
		t.Fatalf("payment id remembered beyond tombstone_days: %+v %v", res, err)
	}
}

// TestClosedAccountRefusesInvoices: a closed account refuses new invoices
// (and payments) until AccountReopened.
func TestClosedAccountRefusesInvoices(t *testing.T) {
	acc := &Account{}
	feed(t, Rules{}, acc, inv("I1", "100", 0, 10), &event.AccountClosed{Reason: "churn"})
	_, err := applyAt(t, Rules{}, acc, 5, inv("I2", "10", 5, 15))
	if ReasonOf(err) != ReasonClosedAccount {
		t.Fatalf("invoice on a closed account: %v", err)
	}
	if res, err := applyAt(t, Rules{}, acc, 5, inv("I1", "100", 0, 10)); err != nil || !res.Duplicate {
		t.Fatalf("repeat of a held invoice on a closed account: %+v %v", res, err)
	}
	if res, err := applyAt(t, Rules{}, acc, 6, &event.AccountReopened{Reason: "won back"}); err != nil || !res.Changed || acc.Closed() {
		t.Fatalf("reopen: %+v %v closed %v", res, err, acc.Closed())
	}
	if _, err := applyAt(t, Rules{}, acc, 7, inv("I2", "10", 5, 15)); err != nil {
		t.Fatalf("invoice after reopening: %v", err)
	}
	enc, _ := acc.MarshalBinary()
	var back Account
	if err := back.UnmarshalBinary(enc); err != nil || back.Closed() {
		t.Fatalf("reopened account decodes closed=%v: %v", back.Closed(), err)
	}
}

// TestUnknownInvoiceNamed: a payment naming an invoice the account does
// not hold is allocated oldest due first and the names are reported and
// counted, not dropped silently.
func TestUnknownInvoiceNamed(t *testing.T) {
	acc := &Account{}
	feed(t, Rules{}, acc, inv("I1", "30", 0, 5), inv("I2", "30", 1, 10))
	res, err := applyAt(t, Rules{}, acc, 3, pay("P1", "50", "NOPE", "I2", "NOPE", "ALSO"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.UnknownInvoices, []string{"NOPE", "ALSO"}) || acc.Counters().UnknownInvoiceRefs != 2 {
		t.Fatalf("unknown names %v, counter %d", res.UnknownInvoices, acc.Counters().UnknownInvoiceRefs)
	}
	wantOpen(t, acc, map[string]string{"I2": "0", "I1": "10"})
	enc, _ := acc.MarshalBinary()
	var back Account
	if err := back.UnmarshalBinary(enc); err != nil || back.Counters().UnknownInvoiceRefs != 2 {
		t.Fatalf("decoded counter %d: %v", back.Counters().UnknownInvoiceRefs, err)
	}
}

// TestNoteEventAndEntities: dunning's kinds use NoteEvent, SeenEvent and
// RememberEntity.
func TestNoteEventAndEntities(t *testing.T) {
	r := Rules{DedupeDays: 5, TombstoneDays: 10}
	acc := &Account{}
	now := at(0)
	r.NoteEvent(acc, "H1", now)
	acc.RememberEntity(EntityArrangement, "AR1", day(20))
	if !r.SeenEvent(acc, "H1", now) || r.SeenEvent(acc, "H2", now) || r.SeenEvent(acc, "", now) {
		t.Fatal("SeenEvent")
	}
	if !r.EntityKnown(acc, EntityArrangement, "AR1", now) || r.EntityKnown(acc, EntityPayment, "AR1", now) {
		t.Fatal("EntityKnown mixes kinds")
	}
	if r.SeenEvent(acc, "H1", at(6)) || !r.EntityKnown(acc, EntityArrangement, "AR1", at(30)) || r.EntityKnown(acc, EntityArrangement, "AR1", at(31)) {
		t.Fatal("windows")
	}
	r.NoteEvent(acc, "", now.Add(6*24*time.Hour))
	if len(acc.events) != 0 || len(acc.gone) != 1 {
		t.Fatal("pruning at day 6")
	}
	r.NoteEvent(acc, "", at(31))
	if len(acc.gone) != 0 {
		t.Fatal("arrangement remembered beyond its last due date + tombstone_days")
	}
}
