package analytics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
)

// TestReportsOverOutOfBoundAmounts lands, next to the report dataset, input
// facts carrying 529 trillion (more than ledger.MaxAmount, so the processor
// rejects them, but rows like these landed before the sink read accepted
// facts only) and runs every report on the real ClickHouse: none may fail
// ("Decimal math overflow" before), and every report but the timeline (which
// lists the rows as they are) must answer exactly as without them. An
// invoice of exactly ledger.MaxAmount is accepted and must be counted.
func TestReportsOverOutOfBoundAmounts(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := InsertRows(ctx, c, reportDataset()); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	run := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, r := range Reports() {
			tb, err := Report(ctx, c, r.Name, ReportOptions{AsOf: asOf, Account: "A1"})
			if err != nil {
				t.Fatalf("report %s: %v", r.Name, err)
			}
			out[r.Name] = render(tb)
		}
		return out
	}
	before := run()

	const huge = event.Amount(5_290_000_000_000_000_000) // 529 trillion
	if huge <= ledger.MaxAmount {
		t.Fatalf("test amount %s is within ledger.MaxAmount", huge)
	}
	at := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	d := event.DateOf(at)
	now := time.Now().UTC()
	var rows []Row
	n := 0
	ev := func(acct string, b event.Body) {
		n++
		rows = append(rows, EventRows(event.Event{ID: "huge" + string(rune('a'+n)), Time: at, Source: "test", Account: acct, Body: b},
			Source{Topic: "ar.events", Offset: int64(1000 + n)}, now)...)
	}
	ev("A1", &event.InvoiceIssued{InvoiceID: "IX1", Currency: "EUR", Amount: huge, IssueDate: d - 40, DueDate: d - 30})
	ev("A1", &event.InvoiceAdjusted{AdjustmentID: "CX1", InvoiceID: "I13", Type: event.Debit, Currency: "EUR", Amount: huge})
	ev("A2", &event.InvoiceAdjusted{AdjustmentID: "CX2", InvoiceID: "I21", Type: event.Credit, Currency: "EUR", Amount: huge})
	ev("A4", &event.PaymentReceived{PaymentID: "PX4", Currency: "EUR", Amount: huge})
	ev("A4", &event.Refund{RefundID: "FX4", Currency: "EUR", Amount: huge, PaymentID: "P41"})
	ev("A2", &event.DisputeOpened{DisputeID: "DX2", InvoiceID: "I21", Currency: "EUR", Amount: huge})
	ev("A3", &event.ArrangementCreated{ArrangementID: "RX3", Type: event.Promise, Currency: "EUR",
		Installments: []event.Installment{{DueDate: d, Amount: huge}}})
	ev("A9", &event.InvoiceIssued{InvoiceID: "IX9", Currency: "EUR", Amount: huge, IssueDate: d - 40, DueDate: d - 30})
	ev("A9", &event.InvoiceIssued{InvoiceID: "IY9", Currency: "EUR", Amount: huge, IssueDate: d - 40, DueDate: d - 30})
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}
	after := run()
	for name, want := range before {
		if name == "timeline" {
			if !strings.Contains(after[name], "InvoiceIssued") {
				t.Errorf("timeline:\n%s", after[name])
			}
			continue
		}
		if after[name] != want {
			t.Errorf("%s changed by out-of-bound rows:\n%s\nwant\n%s", name, after[name], want)
		}
	}

	// An invoice of exactly the maximum is a real fact: counted, exactly
	// (its units overflowed Decimal64 arithmetic before).
	rows = EventRows(event.Event{ID: "max1", Time: at, Source: "test", Account: "A5",
		Body: &event.InvoiceIssued{InvoiceID: "IM5", Currency: "EUR", Amount: ledger.MaxAmount, IssueDate: d - 40, DueDate: d - 30}},
		Source{Topic: "ar.events", Offset: 2000}, now)
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}
	tb, err := Report(ctx, c, "aging", ReportOptions{AsOf: asOf, Segment: "prepaid"})
	if err != nil {
		t.Fatal(err)
	}
	want := `segment|currency|accounts|not_due|dpd_1_30|dpd_31_60|dpd_61_90|dpd_91_120|dpd_120_plus|total
prepaid|EUR|2|0|80|100000000000|0|0|0|100000000080`
	if got := render(tb); got != want {
		t.Errorf("aging with a maximal invoice:\n%s\nwant\n%s", got, want)
	}
	for _, r := range Reports() {
		if _, err := Report(ctx, c, r.Name, ReportOptions{AsOf: asOf, Account: "A5"}); err != nil {
			t.Errorf("report %s with a maximal invoice: %v", r.Name, err)
		}
	}
}
