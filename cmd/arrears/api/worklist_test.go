package api

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestOpenTasks pins the definition of an open task (worklist.go,
// docs/api.md "Worklists"): the newest AGENT_TASK of an account, not
// worked since by a call, a promise or plan or a call-back, on an account
// that is open, not on hold and overdue; ordered by expected loss (PD x
// overdue), then oldest task first.
func TestOpenTasks(t *testing.T) {
	h := newHistory(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	t1 := t0.Add(24 * time.Hour)
	open := func(acct string, at time.Time, overdue string, pd float64) {
		h.task(acct, "task-"+acct, "q1", at)
		h.status(acct, at.Add(-time.Hour), "postpaid", "call", overdue, pd, nil)
	}
	open("A1", t1, "100", 0.5)  // EL 50, newer
	open("A2", t1, "1000", 0.1) // EL 100: first
	open("A3", t0, "100", 0.5)  // EL 50, older: before A1
	open("A8", t1, "20", 0.5)   // EL 10; a call before the task does not work it
	h.event("A8", "call-early", t0, &event.CallLogged{CallID: "C0", Outcome: event.CallNoAnswer})

	open("A4", t0, "100", 0.9) // worked by a call after the task
	h.event("A4", "call-A4", t1, &event.CallLogged{CallID: "C1", Outcome: event.CallNoAnswer})
	open("A10", t0, "100", 0.9) // worked by a promise
	h.event("A10", "ptp-A10", t1, &event.ArrangementCreated{ArrangementID: "P1", Type: event.Promise, Currency: "EUR",
		Installments: []event.Installment{{DueDate: event.DateOf(t1) + 7, Amount: event.MustAmount("100")}}})
	open("A11", t0, "100", 0.9) // worked by a call-back
	h.event("A11", "cb-A11", t1, &event.CallbackScheduled{CallbackID: "CB1", At: t1.Add(48 * time.Hour)})

	h.task("A5", "task-A5-old", "q1", t0) // moved on to q2: open there only
	h.task("A5", "task-A5-new", "q2", t1)
	h.status("A5", t0, "postpaid", "call", "100", 0.3, nil)

	open("A6", t0, "100", 0.9) // paid since: latest status has nothing overdue
	h.status("A6", t1, "postpaid", "", "0", 0.9, nil)
	open("A7", t0, "100", 0.9) // on hold
	h.status("A7", t1, "postpaid", "call", "100", 0.9, func(s *event.AccountStatus) { s.OnHold = true })
	open("A9", t0, "100", 0.9) // closed
	h.status("A9", t1, "postpaid", "call", "100", 0.9, func(s *event.AccountStatus) { s.Closed = true })
	// Two status records in one second (status times are seconds): the
	// later on the status topic wins.
	h.task("A12", "task-A12", "q1", t0)
	h.status("A12", t0, "postpaid", "call", "100", 0.9, nil)
	h.status("A12", t0, "postpaid", "", "0", 0.9, nil)
	h.task("A13", "task-A13", "q1", t0)
	h.status("A13", t0, "postpaid", "", "0", 0.5, nil)
	h.status("A13", t0, "postpaid", "call", "10", 0.5, nil)
	h.land()

	ctx := context.Background()
	want := []string{"A2", "A3", "A1", "A8", "A13"}
	p, err := h.s.worklist(ctx, "q1", 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p.Items, func(t Task) string { return t.AccountID }); !equal(got, want) || p.NextCursor != "" {
		t.Fatalf("q1 worklist %v (cursor %q), want %v", got, p.NextCursor, want)
	}
	if top := p.Items[0]; top.ExpectedLoss != "100.0000" || top.Overdue != "1000.0000" || top.PD != 0.1 || top.TaskID != "task-A2" ||
		!top.TaskAt.Equal(t1) || top.Queue != "q1" || top.Currency != "EUR" {
		t.Errorf("top task %+v", top)
	}
	var paged []string
	var after []string
	for range 10 {
		p, err := h.s.worklist(ctx, "q1", 1, after)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids(p.Items, func(t Task) string { return t.AccountID })...)
		if p.NextCursor == "" {
			break
		}
		after, _ = decodeCursor(p.NextCursor, 3)
	}
	if !equal(paged, want) {
		t.Errorf("q1 paged by one: %v, want %v", paged, want)
	}
	q2, err := h.s.worklist(ctx, "q2", 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(q2.Items, func(t Task) string { return t.AccountID }); !equal(got, []string{"A5"}) {
		t.Errorf("q2 worklist %v, want [A5]", got)
	}

	q, args := queuesSQL(h.conn.Database, nil)
	rows, err := h.conn.Query(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var name string
		var n, el int64
		var oldest time.Time
		if err := rows.Scan(&name, &n, &el, &oldest); err != nil {
			t.Fatal(err)
		}
		counts[name] = n
	}
	if counts["q1"] != 5 || counts["q2"] != 1 || len(counts) != 2 {
		t.Errorf("queue counts %v, want q1 5, q2 1", counts)
	}
}

// TestCallbackQueue: the landed detail "queue: note" splits back.
func TestCallbackQueue(t *testing.T) {
	for in, want := range map[string][2]string{
		"q2: after 6pm": {"q2", "after 6pm"}, "q2": {"q2", ""}, "after 6pm": {"", "after 6pm"}, "": {"", ""},
		"ring twice: then wait": {"", "ring twice: then wait"},
	} {
		if q, n := callbackQueue(in); q != want[0] || n != want[1] {
			t.Errorf("callbackQueue(%q) = %q, %q; want %q, %q", in, q, n, want[0], want[1])
		}
	}
}
