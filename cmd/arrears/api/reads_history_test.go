package api

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// history is a scratch ClickHouse database the test fills with rows the
// sink would land, and a Server reading it.
type history struct {
	t    *testing.T
	conn *analytics.Conn
	rows []analytics.Row
	off  int64
	s    *Server
}

func newHistory(t *testing.T) *history {
	conn, _ := testkit.ClickHouse(t, "api_reads")
	return historyOn(t, conn, &Server{deps: Deps{History: conn, Now: time.Now}, log: slog.New(slog.DiscardHandler)})
}

// historyOn lands rows in conn, which s reads.
func historyOn(t *testing.T, conn *analytics.Conn, s *Server) *history {
	return &history{t: t, conn: conn, s: s}
}

func (h *history) src() analytics.Source {
	h.off++
	return analytics.Source{Topic: "t", Partition: 0, Offset: h.off}
}

// status lands an account_status row.
func (h *history) status(acct string, at time.Time, seg, stage string, overdue string, pd float64, mod func(*event.AccountStatus)) {
	s := &event.AccountStatus{Account: acct, Time: at, Segment: event.Segment(seg), Stage: stage, ServiceState: "ACTIVE",
		RiskTier: "MEDIUM", PD: pd, Balances: []event.CurrencyBalance{{Currency: "EUR", Overdue: event.MustAmount(overdue), Open: event.MustAmount(overdue)}},
		SourcePartition: 0, SourceOffset: h.off}
	if mod != nil {
		mod(s)
	}
	h.rows = append(h.rows, analytics.StatusRow(s, h.src(), time.Now()))
}

// task lands an AGENT_TASK action.
func (h *history) task(acct, id, queue string, at time.Time) {
	a := &event.DunningAction{ActionID: id, Account: acct, Time: at, Type: event.ActionAgentTask, Queue: queue, Stage: "call",
		Priority: 1, Currency: "EUR", Reason: "call the customer"}
	h.rows = append(h.rows, analytics.ActionRow(a, h.src(), time.Now()))
}

// event lands an input event.
func (h *history) event(acct, id string, at time.Time, body event.Body) {
	h.rows = append(h.rows, analytics.EventRows(event.Event{ID: id, Time: at, Source: "api:ann", Account: acct, Body: body}, h.src(), time.Now())...)
}

func (h *history) land() {
	h.t.Helper()
	if err := analytics.InsertRows(context.Background(), h.conn, h.rows); err != nil {
		h.t.Fatal(err)
	}
	h.rows = nil
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSearch: filters apply to each account's latest status row (not to
// an older one), parent comes from the account master, and paging by
// cursor returns every match once, in id order.
func TestSearch(t *testing.T) {
	h := newHistory(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, a := range []struct{ id, seg, stage, parent string }{
		{"ACC-001", "postpaid", "reminder", "P1"}, {"ACC-002", "postpaid", "suspension", "P1"}, {"ACC-003", "prepaid", "reminder", ""},
		{"ACC-004", "postpaid", "reminder", "P2"}, {"BCC-001", "postpaid", "reminder", "P1"},
	} {
		h.event(a.id, "up-"+a.id, t0, &event.AccountUpserted{Segment: event.Segment(a.seg), ParentID: a.parent, Currency: "EUR"})
		h.status(a.id, t0, a.seg, "", "0", 0.01, nil)
		h.status(a.id, t0.Add(time.Hour), a.seg, a.stage, "10", 0.2, nil)
	}
	// ACC-004 left reminder later: its latest stage is final_notice.
	h.status("ACC-004", t0.Add(2*time.Hour), "postpaid", "final_notice", "10", 0.2, nil)
	h.land()
	ctx := context.Background()
	run := func(f searchFilter) []string {
		t.Helper()
		var got []string
		for range 10 {
			p, err := h.s.search(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(p.Items, func(a AccountSummary) string { return a.AccountID })...)
			if p.NextCursor == "" {
				return got
			}
			c, ok := decodeCursor(p.NextCursor, 1)
			if !ok {
				t.Fatalf("cursor %q", p.NextCursor)
			}
			f.after = c[0]
		}
		t.Fatal("paging did not end")
		return nil
	}
	for _, c := range []struct {
		name string
		f    searchFilter
		want []string
	}{
		{"prefix and stage", searchFilter{prefix: "ACC-", stage: "reminder", limit: 10}, []string{"ACC-001", "ACC-003"}},
		{"paged by one", searchFilter{prefix: "ACC-", limit: 1}, []string{"ACC-001", "ACC-002", "ACC-003", "ACC-004"}},
		{"parent", searchFilter{parent: "P1", limit: 2}, []string{"ACC-001", "ACC-002", "BCC-001"}},
		{"segment", searchFilter{segment: "prepaid", limit: 5}, []string{"ACC-003"}},
		{"latest stage only", searchFilter{stage: "final_notice", limit: 5}, []string{"ACC-004"}},
		{"tier and service", searchFilter{tier: "MEDIUM", service: "ACTIVE", prefix: "B", limit: 5}, []string{"BCC-001"}},
		{"nothing", searchFilter{service: "BARRED", limit: 5}, nil},
	} {
		if got := run(c.f); !equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	p, err := h.s.search(ctx, searchFilter{prefix: "ACC-002", limit: 5})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("ACC-002: %v %+v", err, p)
	}
	if a := p.Items[0]; a.ParentID != "P1" || a.Overdue != "10.0000" || a.PD != 0.2 || a.Stage != "suspension" || a.Currency != "EUR" {
		t.Errorf("ACC-002 summary %+v", a)
	}
}

// TestTimeline: every kind of history is in the timeline, newest first,
// and paging with before returns each entry exactly once.
func TestTimeline(t *testing.T) {
	h := newHistory(t)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	h.event("A", "e1", t0, &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("50"), IssueDate: event.DateOf(t0), DueDate: event.DateOf(t0) + 14})
	h.status("A", t0, "postpaid", "", "0", 0.01, nil)
	h.task("A", "act1", "q1", t0.Add(24*time.Hour))
	h.event("A", "e2", t0.Add(25*time.Hour), &event.NoteAdded{NoteID: "N1", Text: "customer on holiday"})
	h.event("A", "e3", t0.Add(26*time.Hour), &event.CallLogged{CallID: "C1", Outcome: event.CallReached})
	h.event("B", "other", t0.Add(time.Hour), &event.NoteAdded{NoteID: "N2", Text: "not A's"})
	h.land()
	ctx := context.Background()
	full, err := h.s.timeline(ctx, "A", 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := ids(full.Items, func(e TimelineEntry) string { return e.Type + ":" + e.Kind })
	want := []string{"event:CallLogged", "event:NoteAdded", "action:AGENT_TASK", "status:NONE", "event:InvoiceIssued"}
	if !equal(got, want) || full.NextCursor != "" {
		t.Fatalf("timeline %v (cursor %q), want %v", got, full.NextCursor, want)
	}
	if e := full.Items[1]; e.Source != "api:ann" || e.Detail != "customer on holiday [N1]" {
		t.Errorf("note entry %+v", e)
	}
	if e := full.Items[4]; e.Amount != "50.0000" || e.Currency != "EUR" {
		t.Errorf("invoice entry %+v", e)
	}
	var paged []string
	var before []string
	for range 10 {
		p, err := h.s.timeline(ctx, "A", 2, before)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(p.Items, func(e TimelineEntry) string { return e.Type + ":" + e.Kind })...)
		if p.NextCursor == "" {
			break
		}
		before, _ = decodeCursor(p.NextCursor, 3)
	}
	if !equal(paged, want) {
		t.Errorf("paged timeline %v, want %v", paged, want)
	}
}
