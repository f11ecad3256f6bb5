package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// The report dataset. Every expected value in TestReports is computed by
// hand from it in the comments there; docs/analytics.md has the formulas.
//
//	A1 postpaid: I11 100 (issued 01-01, due 01-15), I12 200 (02-01, 02-15),
//	   I13 300 (03-20, 04-03); P11 150 on 02-20; dispute DS2 40 on I12
//	   opened 02-05, UPHELD (no credit) 02-10 12:00; installment plan R3
//	   (100 due 03-01, 100 due 03-15) created 02-19; promise R5 due 04-10;
//	   actions X3 (reminder sms, 02-18, overdue 200), X4 (final SUSPEND,
//	   03-01, overdue 150); risk B 0.1 on 2025-12-20; a FEE GL entry.
//	A2 postpaid: I21 400 (2025-12-01, due 2025-12-15), credit note 100 on
//	   01-10; P21 50 on 03-01 reversed 03-05; dispute DS1 100 opened 01-20,
//	   REJECTED 01-30; promise R2 300 due 03-02 created 02-26; actions X2
//	   (reminder email, 02-25, overdue 300), X5 (final, 03-25: immature);
//	   risk C 0.3 on 2025-12-20 and D 0.5 on 02-01; status dpd 95 on 03-20.
//	A3 prepaid: I31 80 (03-01, due 03-10); I32 999 issued 03-01 and
//	   cancelled 03-01 12:00; promise R4 created 03-05, cancelled 03-06.
//	A4 postpaid: I41 500 (02-01, due 02-10); P41 500 on 03-05; action X1
//	   (reminder email, 02-20, overdue 500); promise R1 500 due 03-04
//	   created 02-25; dispute DS3 60 opened 03-20; risk B 0.2 on 2025-11-01.
//	A5 prepaid: I51 60 (2025-10-01, due 2025-10-15) written off 02-10 (GL);
//	   risk C 0.5 on 2025-12-15.
func reportDataset() []Row {
	now := time.Now().UTC()
	day := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t, err = time.Parse("2006-01-02", s)
			if err != nil {
				panic(err)
			}
			t = t.Add(9 * time.Hour)
		}
		return t.UTC()
	}
	date := func(s string) event.Date { return event.DateOf(day(s)) }
	amt := func(s string) event.Amount { return event.MustAmount(s) }
	var rows []Row
	n := 0
	ev := func(acct, at string, b event.Body) {
		n++
		rows = append(rows, EventRows(event.Event{ID: fmt.Sprintf("ev%03d", n), Time: day(at), Source: "test", Account: acct, Body: b},
			Source{Topic: "ar.events", Offset: int64(n)}, now)...)
	}
	inv := func(acct, id, issued, due, a string) {
		ev(acct, issued, &event.InvoiceIssued{InvoiceID: id, Currency: "EUR", Amount: amt(a), IssueDate: date(issued), DueDate: date(due)})
	}
	pay := func(acct, id, at, a string) {
		ev(acct, at, &event.PaymentReceived{PaymentID: id, Currency: "EUR", Amount: amt(a)})
	}
	promise := func(acct, id, typ, created string, inst ...string) {
		b := &event.ArrangementCreated{ArrangementID: id, Type: event.Promise, Currency: "EUR"}
		if typ == "plan" {
			b.Type = event.InstallmentPlan
		}
		for i := 0; i < len(inst); i += 2 {
			b.Installments = append(b.Installments, event.Installment{DueDate: date(inst[i]), Amount: amt(inst[i+1])})
		}
		ev(acct, created, b)
	}
	action := func(id, acct, at, stage string, typ event.ActionType, ch event.Channel, overdue string) {
		rows = append(rows, ActionRow(&event.DunningAction{ActionID: id, Account: acct, Time: day(at), Stage: stage, Type: typ,
			Channel: ch, Currency: "EUR", OverdueAmount: amt(overdue)}, Source{}, now))
	}
	risk := func(id, acct, at, tier string, pd float64) {
		rows = append(rows, RiskRow(&event.RiskEvent{EventID: id, Account: acct, Time: day(at), Tier: tier, PD: pd}, Source{}, now))
	}
	for _, a := range []struct{ id, seg string }{{"A1", "postpaid"}, {"A2", "postpaid"}, {"A3", "prepaid"}, {"A4", "postpaid"}, {"A5", "prepaid"}} {
		ev(a.id, "2025-09-01", &event.AccountUpserted{Segment: event.Segment(a.seg), Currency: "EUR"})
	}
	inv("A1", "I11", "2026-01-01", "2026-01-15", "100")
	inv("A1", "I12", "2026-02-01", "2026-02-15", "200")
	inv("A1", "I13", "2026-03-20", "2026-04-03", "300")
	pay("A1", "P11", "2026-02-20", "150")
	ev("A1", "2026-02-05 00:00", &event.DisputeOpened{DisputeID: "DS2", InvoiceID: "I12", Currency: "EUR", Amount: amt("40")})
	ev("A1", "2026-02-10 12:00", &event.DisputeResolved{DisputeID: "DS2", Outcome: event.Upheld})
	promise("A1", "R3", "plan", "2026-02-19", "2026-03-01", "100", "2026-03-15", "100")
	promise("A1", "R5", "promise", "2026-03-25", "2026-04-10", "450")

	inv("A2", "I21", "2025-12-01", "2025-12-15", "400")
	ev("A2", "2026-01-10", &event.InvoiceAdjusted{AdjustmentID: "C21", InvoiceID: "I21", Type: event.Credit, Currency: "EUR", Amount: amt("100")})
	pay("A2", "P21", "2026-03-01 10:00", "50")
	ev("A2", "2026-03-05", &event.PaymentReversed{PaymentID: "P21", Reason: "bounce"})
	ev("A2", "2026-01-20 00:00", &event.DisputeOpened{DisputeID: "DS1", InvoiceID: "I21", Currency: "EUR", Amount: amt("100")})
	ev("A2", "2026-01-30 00:00", &event.DisputeResolved{DisputeID: "DS1", Outcome: event.Rejected})
	promise("A2", "R2", "promise", "2026-02-26", "2026-03-02", "300")

	inv("A3", "I31", "2026-03-01", "2026-03-10", "80")
	inv("A3", "I32", "2026-03-01", "2026-03-10", "999")
	ev("A3", "2026-03-01 12:00", &event.InvoiceCancelled{InvoiceID: "I32", Reason: "duplicate"})
	promise("A3", "R4", "promise", "2026-03-05", "2026-03-10", "80")
	ev("A3", "2026-03-06", &event.ArrangementCancelled{ArrangementID: "R4"})

	inv("A4", "I41", "2026-02-01", "2026-02-10", "500")
	pay("A4", "P41", "2026-03-05", "500")
	promise("A4", "R1", "promise", "2026-02-25", "2026-03-04", "500")
	ev("A4", "2026-03-20", &event.DisputeOpened{DisputeID: "DS3", InvoiceID: "I41", Currency: "EUR", Amount: amt("60")})

	inv("A5", "I51", "2025-10-01", "2025-10-15", "60")

	action("X1", "A4", "2026-02-20 10:00", "reminder", event.ActionNotify, event.Email, "500")
	action("X2", "A2", "2026-02-25", "reminder", event.ActionNotify, event.Email, "300")
	action("X3", "A1", "2026-02-18", "reminder", event.ActionNotify, event.SMS, "200")
	action("X4", "A1", "2026-03-01", "final", event.ActionSuspend, "", "150")
	action("X5", "A2", "2026-03-25", "final", event.ActionSuspend, "", "300")
	// arrangement outcomes carry "arrangement:<id>" as their stage; the
	// cure rate groups them as one stage
	action("X6", "A4", "2026-02-25 12:00", "arrangement:R1", event.ActionRestore, "", "500")
	action("X7", "A2", "2026-02-26 12:00", "arrangement:R2", event.ActionRestore, "", "300")

	risk("K1", "A1", "2025-12-20", "B", 0.1)
	risk("K2", "A2", "2025-12-20", "C", 0.3)
	risk("K2b", "A2", "2026-02-01", "D", 0.5)
	risk("K3", "A5", "2025-12-15", "C", 0.5)
	risk("K4", "A4", "2025-11-01", "B", 0.2)

	rows = append(rows,
		GLRow(&event.GLEntry{EntryID: "G1", Account: "A5", Time: day("2026-02-10"), Kind: "WRITE_OFF", Currency: "EUR", Amount: amt("60")}, Source{}, now),
		GLRow(&event.GLEntry{EntryID: "G2", Account: "A1", Time: day("2026-03-10"), Kind: "FEE", Currency: "EUR", Amount: amt("5")}, Source{}, now),
		StatusRow(&event.AccountStatus{Account: "A2", Time: day("2026-03-20"), Segment: event.Postpaid, DaysPastDue: 95, Stage: "final",
			Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt("300")}}}, Source{}, now),
		StatusRow(&event.AccountStatus{Account: "A1", Time: day("2026-03-20"), Segment: event.Postpaid, DaysPastDue: 33, Stage: "final",
			Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt("450")}}, SourceOffset: 7}, Source{}, now),
		StatusRow(&event.AccountStatus{Account: "A1", Time: day("2026-04-02"), Segment: event.Postpaid, DaysPastDue: 0, Stage: "cleared",
			SourceOffset: 9}, Source{}, now),
	)
	return rows
}

// render turns a table into comparable text: one line per row, cells
// joined by "|", nil as "NULL".
func render(t *Table) string {
	var b strings.Builder
	b.WriteString(strings.Join(t.Columns, "|"))
	for _, r := range t.Rows {
		b.WriteByte('\n')
		for i, v := range r {
			if i > 0 {
				b.WriteByte('|')
			}
			if v == nil {
				b.WriteString("NULL")
			} else {
				b.WriteString(text(v))
			}
		}
	}
	return b.String()
}

func TestReports(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	rows := reportDataset()
	// Inserted twice, as a replay would: FINAL must make it count once.
	for i := 0; i < 2; i++ {
		if err := InsertRows(ctx, c, rows); err != nil {
			t.Fatal(err)
		}
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		opts ReportOptions
		want string
	}{
		// As of 03-31. A1: pool 150 pays I11 (100) then 50 of I12 -> I12 150
		// at 44 dpd (31-60), I13 300 not due. A2: I21 400-100 = 300, the
		// reversed payment does not count -> 106 dpd (91-120). A3: I31 80 at
		// 21 dpd; I32 cancelled. A4 paid. A5 written off.
		{"aging", ReportOptions{AsOf: asOf}, `segment|currency|accounts|not_due|dpd_1_30|dpd_31_60|dpd_61_90|dpd_91_120|dpd_120_plus|total
postpaid|EUR|2|300|0|150|0|300|0|750
prepaid|EUR|1|0|80|0|0|0|0|80`},
		{"aging", ReportOptions{AsOf: asOf, Segment: "prepaid"}, `segment|currency|accounts|not_due|dpd_1_30|dpd_31_60|dpd_61_90|dpd_91_120|dpd_120_plus|total
prepaid|EUR|1|0|80|0|0|0|0|80`},
		// Period (12-31, 03-31], 90 days. postpaid sales I11+I12+I13+I41 =
		// 1100: DSO 750/1100*90 = 61.36, BPDSO 300/1100*90 = 24.55, ADD
		// 450/1100*90 = 36.82, weighted dpd (150*44+300*106)/450 = 85.33.
		// prepaid: sales 80 (I32 cancelled), DSO 80/80*90 = 90.
		{"dso", ReportOptions{AsOf: asOf}, `segment|currency|receivables|current_receivables|credit_sales|days|dso|best_possible_dso|average_days_delinquent|weighted_days_past_due
postpaid|EUR|750|300|1100|90|61.36|24.55|36.82|85.33
prepaid|EUR|80|0|80|90|90|0|90|21`},
		// Period (03-01, 03-31]. postpaid beginning (facts before 03-02):
		// A1 150, A2 300-50 (P21 not yet reversed) = 250, A4 500 -> 900;
		// sales I13 300; ending 750, ending current 300:
		// CEI = (900+300-750)/(900+300-300)*100 = 50. prepaid: beginning 80
		// (I32 already cancelled), no sales, ending 80 all overdue -> 0.
		{"cei", ReportOptions{AsOf: asOf}, `segment|currency|beginning_receivables|credit_sales|ending_receivables|ending_current|cei
postpaid|EUR|900|300|750|300|50
prepaid|EUR|80|0|80|0|0`},
		// 02-28 -> 03-31: A1 1-30 (13 dpd, 150) -> 31-60; A4 1-30 (18 dpd,
		// 500) -> paid; A2 61-90 (75 dpd, 300) -> 91-120.
		{"roll_rates", ReportOptions{AsOf: asOf}, `from_bucket|to_bucket|accounts|from_balance|account_rate|balance_rate
1-30|31-60|1|150|0.5|0.2308
1-30|paid|1|500|0.5|0.7692
61-90|91-120|1|300|1|1`},
		// Actions in (12-31, 03-17]: X1 cured by P41 500 within 14 days; X2
		// not (P21 reversed); X3 not (150 < 200); X4 not (no payment); X5
		// is immature; X6 cured by P41, X7 not (P21 reversed), both one
		// "arrangement" stage.
		{"cure_rate", ReportOptions{AsOf: asOf}, `stage|action_type|channel|actions|cured_actions|cure_rate
arrangement|RESTORE||2|1|0.5
final|SUSPEND||1|0|0
reminder|NOTIFY|email|2|1|0.5
reminder|NOTIFY|sms|1|0|0`},
		// Due + 3 days grace by 03-31: R1 kept (P41 500 by 03-07), R2 broken
		// (P21 reversed), R3 broken (150 of 200), R4 cancelled, R5 not due.
		{"promise_kept", ReportOptions{AsOf: asOf}, `type|arrangements|kept|broken|cancelled|kept_rate
INSTALLMENT_PLAN|1|0|1|0|0
PROMISE|3|1|1|1|0.5`},
		{"disputes", ReportOptions{AsOf: asOf}, `outcome|disputes|amount|avg_cycle_days|max_cycle_days
OPEN|1|60|NULL|NULL
REJECTED|1|100|10|10
UPHELD|1|40|5.5|5.5`},
		{"write_offs", ReportOptions{AsOf: asOf}, `period_month|segment|currency|entries|accounts|amount
2026-02-01|prepaid|EUR|1|1|60`},
		// Tier as of 01-01: A1 B 0.1, A4 B 0.2, A2 C 0.3, A5 C 0.5. Defaults
		// in the 90 days: A2 (95 dpd on 03-20), A5 (write-off).
		{"risk_calibration", ReportOptions{AsOf: asOf}, `tier|accounts|predicted_pd|defaults|realised_default_rate|gap
B|2|0.15|0|0|-0.15
C|2|0.4|2|1|0.6`},
	}
	for _, tc := range cases {
		t.Run(tc.name+"/"+tc.opts.Segment, func(t *testing.T) {
			start := time.Now()
			tb, err := Report(ctx, c, tc.name, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s in %s", tc.name, time.Since(start).Round(time.Millisecond))
			if got := render(tb); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}

	t.Run("timeline", func(t *testing.T) {
		tb, err := Report(ctx, c, "timeline", ReportOptions{AsOf: asOf, Account: "A1"})
		if err != nil {
			t.Fatal(err)
		}
		// 9 events, 2 actions, 1 risk event, 1 GL entry, then the state.
		if len(tb.Rows) != 14 {
			t.Fatalf("%d rows, want 14:\n%s", len(tb.Rows), render(tb))
		}
		last := tb.Rows[len(tb.Rows)-1]
		if last[1] != "state" || last[2] != "final" || last[0] != "2026-03-20T09:00:00Z" || !strings.Contains(last[6].(string), "dpd=33") {
			t.Errorf("state row %v", last)
		}
		if tb.Rows[0][2] != "AccountUpserted" {
			t.Errorf("first row %v, want the AccountUpserted event", tb.Rows[0])
		}
	})
}

func TestTableFormats(t *testing.T) {
	tb := &Table{Name: "x", Columns: []string{"a", "b", "c"}, Rows: [][]any{{"p,q", json.Number("1.5"), nil}, {"r", json.Number("2"), 0.25}}}
	var b bytes.Buffer
	if err := tb.Write(&b, "csv"); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "a,b,c\n\"p,q\",1.5,\nr,2,0.25\n"; got != want {
		t.Errorf("csv %q, want %q", got, want)
	}
	b.Reset()
	if err := tb.Write(&b, "json"); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || len(v.Rows) != 2 || v.Rows[0]["b"] != 1.5 || v.Rows[0]["c"] != nil {
		t.Errorf("json %s: %v", b.String(), err)
	}
	b.Reset()
	if err := tb.Write(&b, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "a    b    c\np,q  1.5  -\n") {
		t.Errorf("table %q", b.String())
	}
	if err := tb.Write(&b, "xml"); err == nil {
		t.Error("xml accepted")
	}
}
