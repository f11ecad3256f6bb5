package analytics

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// TestAgingStatusVersusReport checks the relation docs/analytics.md ("Aging
// from account_status and `report aging`") states between the aging the
// processor publishes (account_status, its ledger's open items) and `report
// aging` (open items rebuilt from input facts): dunning fees are debit notes
// the processor applies to its ledger but no input fact, so per account and
// currency, with R the invoiced net, P the cash pool and F the fees (GL
// entries of kind FEE),
//
//	status open = max(0, R + F - P),  report open = max(0, R - P),
//
// the difference sitting in the bucket of the invoice the fee was added to.
// The book runs through the processor's own core (postpaid policy: a 5 EUR
// fee with the final notice at 17 days past due) with payments before the
// fee, after it in part, exactly to the invoice and beyond.
func TestAgingStatusVersusReport(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	pols, err := policy.LoadFS(os.DirFS("../deploy/policies"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := core.Defaults()
	env := &core.Env{Rules: cfg.Rules(), Limits: cfg.Limits(), Policies: pols, SkipExplanations: true}
	day := func(s string) time.Time {
		d, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	end := day("2026-02-03 12:00") // 19 days past due: after the final notice's fee, before barring
	type pay struct{ at, amount string }
	book := []struct {
		account string
		pays    []pay
	}{
		{"F1", nil}, // fee, nothing paid
		{"F2", []pay{{"2026-02-02 10:00", "100"}}}, // pays the invoice, not the fee
		{"F3", []pay{{"2026-02-02 10:00", "110"}}}, // pays invoice and fee, 5 over
		{"F4", []pay{{"2026-02-02 10:00", "60"}}},  // pays part
		{"N1", []pay{{"2026-01-20 10:00", "100"}}}, // pays before any fee
	}
	now := time.Now().UTC()
	var rows []Row
	fees := map[string]event.Amount{}
	want := map[string][2]event.Amount{} // status open, report open
	for _, b := range book {
		evs := []event.Event{
			{ID: b.account + "-u", Time: day("2026-01-01 09:00"), Account: b.account, Body: &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Consents: []event.Channel{event.Email, event.SMS, event.Letter}}},
			{ID: b.account + "-i", Time: day("2026-01-01 09:00"), Account: b.account, Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR",
				Amount: event.MustAmount("100"), IssueDate: event.DateOf(day("2026-01-01 09:00")), DueDate: event.DateOf(day("2026-01-15 09:00"))}},
		}
		var paid event.Amount
		for i, p := range b.pays {
			evs = append(evs, event.Event{ID: fmt.Sprintf("%s-p%d", b.account, i), Time: day(p.at), Account: b.account,
				Body: &event.PaymentReceived{PaymentID: fmt.Sprintf("P%d", i), Currency: "EUR", Amount: event.MustAmount(p.amount)}})
			paid += event.MustAmount(p.amount)
		}
		st := &core.State{Account: b.account}
		collect := func(out core.Output) {
			for i := range out.Actions {
				rows = append(rows, ActionRow(&out.Actions[i], Source{}, now))
			}
			for i := range out.GL {
				rows = append(rows, GLRow(&out.GL[i], Source{}, now))
				if out.GL[i].Kind == "FEE" {
					fees[b.account] += out.GL[i].Amount
				}
			}
		}
		wakeUntil := func(until time.Time) {
			for n := 0; ; n++ {
				w := st.WakeAt()
				if w.IsZero() || w.After(until) {
					return
				}
				if n > 100 {
					t.Fatalf("%s: wakes do not advance (%s)", b.account, w)
				}
				out, err := core.Wake(st, b.account, w, env)
				if err != nil {
					t.Fatalf("%s: wake %s: %v", b.account, w, err)
				}
				collect(out)
			}
		}
		for i, ev := range evs {
			wakeUntil(ev.Time)
			out, err := core.Apply(st, ev, ev.Time, env)
			if err != nil {
				t.Fatalf("%s: %s: %v", b.account, ev.ID, err)
			}
			collect(out)
			rows = append(rows, EventRows(ev, Source{Topic: "ar.events", Offset: int64(len(rows) + i)}, now)...)
		}
		wakeUntil(end)
		status := st.Status(end)
		status.Account, status.SourceOffset = b.account, int64(len(rows))
		rows = append(rows, StatusRow(&status, Source{}, now))

		r, f := event.MustAmount("100"), fees[b.account]
		want[b.account] = [2]event.Amount{max(0, r+f-paid), max(0, r-paid)}
	}
	if fees["F1"] == 0 || fees["N1"] != 0 {
		t.Fatalf("the book should charge F1 a fee and N1 none: fees %v", fees)
	}
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}

	p := newParams(c.Database, ReportOptions{AsOf: end})
	q := p.sql(`SELECT s.account_id, toString(s.open_amount), toString(s.aging_1_30), toString(s.open_amount - s.aging_1_30),
        toString(ifNull(r.report_open, 0)), toString(ifNull(r.report_1_30, 0))
    FROM (
        SELECT account_id, argMax(open_amount, status_time) AS open_amount, argMax(aging_1_30, status_time) AS aging_1_30
        FROM {db}.account_status FINAL GROUP BY account_id
    ) AS s
    ANY LEFT JOIN (
        SELECT account_id, ` + money("sum(open)") + ` AS report_open, ` + money("sumIf(open, dpd > 0 AND dpd <= 30)") + ` AS report_1_30
        FROM ` + openItemsSQL("{D}", "{END}") + ` GROUP BY account_id
    ) AS r USING account_id
    ORDER BY account_id`)
	tab, err := runReport(ctx, c, "aging_status_check", q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	got := tab.Rows
	if len(got) != len(book) {
		t.Fatalf("%d accounts in account_status, want %d: %v", len(got), len(book), got)
	}
	// The report over the same date agrees with the per-account sums.
	aging, err := Report(ctx, c, "aging", ReportOptions{AsOf: end})
	if err != nil {
		t.Fatal(err)
	}
	var reportTotal, sumReport event.Amount
	for _, row := range aging.Rows {
		reportTotal += amountOf(t, row[len(row)-1])
	}
	for _, g := range got {
		acct := fmt.Sprint(g[0])
		statusOpen, status130, statusOther := amountOf(t, g[1]), amountOf(t, g[2]), amountOf(t, g[3])
		reportOpen, report130 := amountOf(t, g[4]), amountOf(t, g[5])
		sumReport += reportOpen
		if w := want[acct]; statusOpen != w[0] || reportOpen != w[1] {
			t.Errorf("%s: status open %s, report open %s; want max(0, R+F-P) = %s and max(0, R-P) = %s (F = %s)",
				acct, statusOpen, reportOpen, w[0], w[1], fees[acct])
		}
		// 19 days past due: everything open is in 1-30, the fee too.
		if statusOther != 0 || reportOpen != report130 {
			t.Errorf("%s: open outside 1-30: status %s (1-30 %s), report %s (1-30 %s)", acct, statusOpen, status130, reportOpen, report130)
		}
		if d := statusOpen - reportOpen; d < 0 || d > fees[acct] || reportOpen > 0 && d != fees[acct] {
			t.Errorf("%s: status - report = %s, want the fees %s when the report has anything open, else within [0, fees]", acct, d, fees[acct])
		}
	}
	if reportTotal != sumReport {
		t.Errorf("report aging total %s, the per-account open items sum to %s", reportTotal, sumReport)
	}
}

// amountOf parses a ClickHouse decimal text.
func amountOf(t *testing.T, v any) event.Amount {
	t.Helper()
	a, err := event.ParseAmount(fmt.Sprint(v))
	if err != nil {
		t.Fatalf("amount %v: %v", v, err)
	}
	return a
}
