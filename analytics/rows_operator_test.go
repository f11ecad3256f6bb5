package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// operatorBodies has one event of every operator, partner and erasure kind.
func operatorBodies(t0 time.Time) []event.Body {
	return []event.Body{
		&event.ExemptionSet{Exemption: "HARDSHIP", Until: t0.Add(48 * time.Hour), Reason: "job loss"},
		&event.ExemptionCleared{Exemption: "HARDSHIP"},
		&event.ContactPreferencesChanged{Consents: []event.Channel{event.Letter, event.Email}, Preferred: event.Email},
		&event.CeaseContact{Active: true, Reason: "customer request"},
		&event.CallLogged{CallID: "C1", Outcome: event.CallWrongNumber, Note: "not the customer"},
		&event.CallbackScheduled{CallbackID: "CB1", At: t0.Add(26 * time.Hour), Queue: "q2", Note: "after 6pm"},
		&event.CallbackScheduled{CallbackID: "CB2", At: t0.Add(27 * time.Hour), Note: "ok: after 6pm"},
		&event.NoteAdded{NoteID: "N1", Text: "letter returned: moved"},
		&event.WriteOffRequested{WriteOffID: "W1", Currency: "EUR", Amount: event.MustAmount("7.5"), Reason: "small balance"},
		&event.AgencyRecalled{AgencyID: "AG1", Reason: "complaint"},
		&event.AgencyReturned{AgencyID: "AG1", Outcome: event.AgencyUncollectable},
		&event.LegalCaseUpdated{CaseID: "L1", Status: event.LegalJudgement, Reference: "12 C 345", Currency: "EUR", Amount: event.MustAmount("150")},
		&event.AccountErased{Reason: "request 42"},
	}
}

// TestOperatorEventRows: each operator event is one events row whose
// ref_id, detail, due_date and amount carry what the timeline shows; no
// fact row.
func TestOperatorEventRows(t *testing.T) {
	t0 := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	want := map[string][4]string{ // by ref_id or kind: ref_id, detail, due_date, amount
		"ExemptionSet":              {"HARDSHIP", "job loss", "2026-01-12", "0"},
		"ExemptionCleared":          {"HARDSHIP", "", "1970-01-01", "0"},
		"ContactPreferencesChanged": {"", "consents: letter,email; preferred: email", "1970-01-01", "0"},
		"CeaseContact":              {"", "ACTIVE: customer request", "1970-01-01", "0"},
		"CallLogged":                {"C1", "WRONG_NUMBER: not the customer", "1970-01-01", "0"},
		"CB1":                       {"CB1", "q2: after 6pm", "2026-01-11", "0"},
		"CB2":                       {"CB2", ": ok: after 6pm", "2026-01-11", "0"},
		"NoteAdded":                 {"N1", "letter returned: moved", "1970-01-01", "0"},
		"WriteOffRequested":         {"W1", "small balance", "1970-01-01", "7.5"},
		"AgencyRecalled":            {"AG1", "complaint", "1970-01-01", "0"},
		"AgencyReturned":            {"AG1", "UNCOLLECTABLE", "1970-01-01", "0"},
		"LegalCaseUpdated":          {"L1", "JUDGEMENT: 12 C 345", "1970-01-01", "150"},
		"AccountErased":             {"", "request 42", "1970-01-01", "0"},
	}
	col := map[string]int{}
	for i, c := range EventsTable.Columns {
		col[c] = i
	}
	for _, b := range operatorBodies(t0) {
		rows := EventRows(event.Event{ID: "E", Time: t0, Source: "api:ann", Account: "A", Body: b}, Source{}, t0)
		if len(rows) != 1 || rows[0].Table != EventsTable {
			t.Fatalf("%s: %d rows, want one events row", b.Kind(), len(rows))
		}
		v := rows[0].Values
		got := [4]string{v[col["ref_id"]].(string), v[col["detail"]].(string),
			v[col["due_date"]].(time.Time).Format(time.DateOnly), v[col["amount"]].(interface{ String() string }).String()}
		key := b.Kind().String()
		if b.Kind() == event.KindCallbackScheduled {
			key = got[0]
		}
		if got != want[key] || v[col["kind"]] != b.Kind().String() {
			t.Errorf("%s: %q, want %q", key, got, want[key])
		}
	}
}

// TestOperatorEventsLand: in ClickHouse, a note's text and a call's outcome
// are on the account's timeline (the events table).
func TestOperatorEventsLand(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := InsertRows(ctx, c, sampleRows(time.Now())); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[string]string{"NoteAdded": "letter returned: moved", "CallLogged": "WRONG_NUMBER: not the customer",
		"WriteOffRequested": "small balance 7.5000 EUR"} {
		var detail, amount, cur string
		q := "SELECT detail, toString(amount), currency FROM " + c.Table("events") + " FINAL WHERE account_id = 'ACC1' AND kind = ?"
		if err := c.QueryRow(ctx, q, kind).Scan(&detail, &amount, &cur); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if kind == "WriteOffRequested" {
			detail += " " + amount + " " + cur
		}
		if detail != want {
			t.Errorf("%s: %q, want %q", kind, detail, want)
		}
	}
}
