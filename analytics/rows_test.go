package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// sampleRows builds one row of every table from every kind of record.
func sampleRows(now time.Time) []Row {
	t0 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	d := event.DateOf(t0)
	src := Source{Topic: "ar.events", Partition: 3, Offset: 42}
	bodies := []event.Body{
		&event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("100.5"), IssueDate: d, DueDate: d + 14, BillCycle: "C1"},
		&event.InvoiceAdjusted{AdjustmentID: "ADJ1", InvoiceID: "I1", Type: event.Credit, Currency: "EUR", Amount: event.MustAmount("0.5"), Reason: "goodwill"},
		&event.InvoiceCancelled{InvoiceID: "I9", Reason: "dup"},
		&event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("50"), Method: "card", InvoiceIDs: []string{"I1"}},
		&event.PaymentReversed{PaymentID: "P1", Reason: "chargeback"},
		&event.Refund{RefundID: "R1", Currency: "EUR", Amount: event.MustAmount("1"), PaymentID: "P1"},
		&event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", CreditLimit: event.MustAmount("500"), Consents: []event.Channel{event.Email}, Exemptions: nil},
		&event.AccountClosed{Reason: "churn"},
		&event.DisputeOpened{DisputeID: "D1", InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("10"), Reason: "roaming"},
		&event.DisputeResolved{DisputeID: "D1", Outcome: event.Upheld, CreditAmount: event.MustAmount("10")},
		&event.ArrangementCreated{ArrangementID: "A1", Type: event.InstallmentPlan, Currency: "EUR",
			Installments: []event.Installment{{DueDate: d + 30, Amount: event.MustAmount("20")}, {DueDate: d + 60, Amount: event.MustAmount("20")}}},
		&event.ArrangementCancelled{ArrangementID: "A1"},
		&event.Hold{HoldID: "H1", Until: t0.Add(72 * time.Hour), Reason: "vip"},
		&event.Release{HoldID: "H1"},
		&event.ClockTick{Partition: 3},
	}
	bodies = append(bodies, operatorBodies(t0)...)
	var rows []Row
	for i, b := range bodies {
		ev := event.Event{ID: "E" + string(rune('a'+i)), Time: t0.Add(time.Duration(i) * time.Minute), Source: "test", Account: "ACC1", Body: b}
		src.Offset = int64(i)
		rows = append(rows, EventRows(ev, src, now)...)
	}
	rows = append(rows,
		ActionRow(&event.DunningAction{ActionID: "X1", Account: "ACC1", Time: t0, Stage: "reminder", Type: event.ActionNotify, Channel: event.Email,
			Currency: "EUR", OverdueAmount: event.MustAmount("100"), OldestDueDate: d, DaysPastDue: 4, Invoices: []string{"I1"},
			Conditions: []event.Condition{{Name: "days_past_due", Value: "4", Rule: ">= 4"}}}, src, now),
		RiskRow(&event.RiskEvent{EventID: "K1", Account: "ACC1", Time: t0, Score: 600, PD: 0.1, Tier: "B", Reasons: []event.ReasonCode{{Code: "late", Contribution: 0.3}}}, src, now),
		StatusRow(&event.AccountStatus{Account: "ACC1", Time: t0, Segment: event.Postpaid, Balances: []event.CurrencyBalance{
			{Currency: "EUR", Open: 1000000, Overdue: 500000, Aging: [6]event.Amount{500000, 500000}},
			{Currency: "USD", Open: 10000}}, OpenItems: 2, OldestDueDate: d, DaysPastDue: 5, Stage: "reminder"}, src, now),
		StatusRow(&event.AccountStatus{Account: "ACC2", Time: t0}, src, now),
		GLRow(&event.GLEntry{EntryID: "G1", Account: "ACC1", Time: t0, Kind: "WRITE_OFF", Currency: "EUR", Amount: event.MustAmount("12.34")}, src, now),
		func() Row {
			r, _ := DebitNoteRow(&event.GLEntry{EntryID: "gl-G2", Account: "ACC1", Time: t0, Kind: "INTEREST", Currency: "EUR",
				Amount: event.MustAmount("1.32"), Reference: "G2", Description: "late-payment interest, invoice I1"}, src, now)
			return r
		}(),
		DeadLetterRow(&event.DeadLetter{Reason: "bad", ErrorClass: "decode", Topic: "ar.events", Partition: 1, Offset: 2, Key: []byte("k"), Value: []byte{0, 1}, Time: t0}, src, now),
	)
	return rows
}

func TestInsertEveryTable(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	rows := sampleRows(time.Now())
	want := map[string]uint64{}
	for _, r := range rows {
		if len(r.Values) != len(r.Table.Columns) {
			t.Fatalf("%s: %d values for %d columns", r.Table.Name, len(r.Values), len(r.Table.Columns))
		}
		want[r.Table.Name]++
	}
	// Twice: the second insert must collapse under FINAL.
	for i := 0; i < 2; i++ {
		if err := InsertRows(ctx, c, rows); err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range SinkTables() {
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM "+c.Table(tb.Name)+" FINAL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want[tb.Name] {
			t.Errorf("%s: %d rows under FINAL, want %d", tb.Name, n, want[tb.Name])
		}
	}
	var amt string
	if err := c.QueryRow(ctx, "SELECT toString(amount) FROM "+c.Table("invoices")+" FINAL").Scan(&amt); err != nil {
		t.Fatal(err)
	}
	if amt != "100.5000" {
		t.Errorf("invoice amount %q, want 100.5000", amt)
	}
}
