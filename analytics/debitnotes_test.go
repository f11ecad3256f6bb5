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

// TestInterestDebitNotes runs a corporate account (deploy/policies
// corporate.yaml: a 40 EUR fee at the formal notice, 8 % late-payment
// interest posted on the 1st) through the processor's own core from an
// unpaid 1000 EUR invoice to 2026-04-02, lands what it emitted and checks:
// every INTEREST and FEE GL entry gives one debit_notes row on the invoice
// the ledger debited, for the amount it debited (the invoice's amount in
// the ledger is 1000 + the notes); the notes are no input fact (no events
// row of theirs); and status open - report open = the account's debit
// notes (docs/analytics.md "Aging from account_status and report aging").
func TestInterestDebitNotes(t *testing.T) {
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
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	end := time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)
	const acct = "C1"
	evs := []event.Event{
		{ID: "u", Time: start, Account: acct, Body: &event.AccountUpserted{Segment: event.Corporate, Currency: "EUR",
			Consents: []event.Channel{event.Email, event.Letter}}},
		{ID: "i", Time: start, Account: acct, Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR",
			Amount: event.MustAmount("1000"), IssueDate: event.DateOf(start), DueDate: event.DateOf(start.AddDate(0, 0, 14))}},
	}
	now := time.Now().UTC()
	st := &core.State{Account: acct}
	var rows []Row
	var gl []event.GLEntry
	collect := func(out core.Output) {
		for i := range out.Actions {
			rows = append(rows, ActionRow(&out.Actions[i], Source{}, now))
		}
		for i := range out.GL {
			g := &out.GL[i]
			src := Source{Topic: "ar.gl", Offset: int64(len(gl))}
			gl = append(gl, *g)
			rows = append(rows, GLRow(g, src, now))
			if dn, ok := DebitNoteRow(g, src, now); ok {
				rows = append(rows, dn)
			}
		}
	}
	for i, ev := range evs {
		out, err := core.Apply(st, ev, ev.Time, env)
		if err != nil {
			t.Fatal(err)
		}
		collect(out)
		rows = append(rows, EventRows(ev, Source{Topic: "ar.events", Offset: int64(i)}, now)...)
	}
	for n := 0; ; n++ {
		w := st.WakeAt()
		if w.IsZero() || w.After(end) {
			break
		}
		if n > 200 {
			t.Fatalf("wakes do not advance (%s)", w)
		}
		out, err := core.Wake(st, acct, w, env)
		if err != nil {
			t.Fatalf("wake %s: %v", w, err)
		}
		collect(out)
	}
	status := st.Status(end)
	status.Account = acct
	rows = append(rows, StatusRow(&status, Source{}, now))

	var notes, interest event.Amount
	kinds := map[string]int{}
	for i := range gl {
		g := &gl[i]
		dn, ok := DebitNoteRow(g, Source{}, now)
		if g.Kind != "INTEREST" && g.Kind != "FEE" {
			if ok {
				t.Errorf("%s entry %s gives a debit note", g.Kind, g.EntryID)
			}
			continue
		}
		if !ok {
			t.Fatalf("%s entry %s (%q) gives no debit note", g.Kind, g.EntryID, g.Description)
		}
		if inv := dn.Values[2]; inv != "I1" {
			t.Errorf("%s entry %s: debit note on invoice %v, want I1", g.Kind, g.EntryID, inv)
		}
		kinds[g.Kind]++
		notes += g.Amount
		if g.Kind == "INTEREST" {
			interest += g.Amount
		}
	}
	if kinds["INTEREST"] < 2 || kinds["FEE"] != 1 {
		t.Fatalf("the book should post interest on 03-01 and 04-01 and one fee: %v", kinds)
	}
	it, ok := st.Ledger.Item("I1")
	if !ok || it.Amount != event.MustAmount("1000")+notes {
		t.Fatalf("ledger invoice I1 = %s (found %v), want 1000 + the debit notes %s", it.Amount, ok, notes)
	}
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}

	p := newParams(c.Database, ReportOptions{AsOf: end})
	q := p.sql(`SELECT toString(open_amount), toString(ifNull(report_open, 0)), toString(ifNull(notes, 0)),
        toString(ifNull(interest, 0)), ifNull(n, 0), (SELECT count() FROM {db}.events FINAL WHERE ref_id LIKE 'fee-%')
    FROM (
        SELECT account_id, open_amount, report_open
        FROM (
            SELECT account_id, argMax(open_amount, status_time) AS open_amount FROM {db}.account_status FINAL GROUP BY account_id
        ) AS s
        ANY LEFT JOIN (
            SELECT account_id, ` + money("sum(open)") + ` AS report_open FROM ` + openItemsSQL("{D}", "{END}") + ` GROUP BY account_id
        ) AS r USING account_id
    ) AS sr
    ANY LEFT JOIN (
        SELECT account_id, sum(amount) AS notes, sumIf(amount, kind = 'INTEREST') AS interest, count() AS n
        FROM {db}.debit_notes FINAL WHERE invoice_id = 'I1' AND note_time < {END} GROUP BY account_id
    ) AS d USING account_id`)
	tab, err := runReport(ctx, c, "debit_notes_check", q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	if len(tab.Rows) != 1 {
		t.Fatalf("rows %v", tab.Rows)
	}
	g := tab.Rows[0]
	statusOpen, reportOpen, landed, landedInterest := amountOf(t, g[0]), amountOf(t, g[1]), amountOf(t, g[2]), amountOf(t, g[3])
	if landed != notes || landedInterest != interest || fmt.Sprint(g[4]) != fmt.Sprint(kinds["INTEREST"]+kinds["FEE"]) {
		t.Errorf("debit_notes hold %s (interest %s, %v rows), the core posted %s (interest %s, %v)", landed, landedInterest, g[4], notes, interest, kinds)
	}
	if fmt.Sprint(g[5]) != "0" {
		t.Errorf("%v events rows of the core's debit notes: they are no input fact", g[5])
	}
	if statusOpen-reportOpen != landed {
		t.Errorf("status open %s - report open %s = %s, want the debit notes %s", statusOpen, reportOpen, statusOpen-reportOpen, landed)
	}
}
