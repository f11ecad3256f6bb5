package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestReadRoutes: the read routes over HTTP on the real stack, every
// request and answer checked against the document: queues limit what a
// collector sees, roles what reaches a route, and bad queries are 400
// naming the parameter.
func TestReadRoutes(t *testing.T) {
	st := newAPIStack(t, nil)
	acct := st.account(40)
	h := historyOn(t, st.ch, st.srv)
	now := time.Now().UTC().Truncate(time.Second)
	h.task(acct, "task-1", "q-collector", now.Add(-time.Hour))
	h.status(acct, now.Add(-2*time.Hour), "postpaid", "collections_call", "100", 0.25, nil)
	h.task("other", "task-2", "q-other", now.Add(-time.Hour))
	h.status("other", now.Add(-2*time.Hour), "postpaid", "collections_call", "50", 0.5, nil)
	today := event.DateOf(now)
	// Call-backs on other accounts (a call-back works the account's task).
	h.event("cb-1", "cb-mine", now.Add(-time.Minute), &event.CallbackScheduled{CallbackID: "CB1", At: today.Time().Add(15 * time.Hour), Queue: "q-collector", Note: "after 3pm"})
	h.event("cb-2", "cb-other", now.Add(-time.Minute), &event.CallbackScheduled{CallbackID: "CB2", At: today.Time().Add(16 * time.Hour), Queue: "q-other"})
	h.event("cb-1", "cb-tomorrow", now.Add(-time.Minute), &event.CallbackScheduled{CallbackID: "CB3", At: today.Time().Add(40 * time.Hour), Queue: "q-collector"})
	h.event("cb-1", "call-cb-1", now, &event.CallLogged{CallID: "C1", Outcome: event.CallNoAnswer})
	h.land()

	var page struct {
		Items      []Task `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	st.call("collector", http.MethodGet, "/worklists/q-collector", nil, nil).json(t, &page)
	if len(page.Items) != 1 || page.Items[0].AccountID != acct || page.Items[0].ExpectedLoss != "25.0000" {
		t.Errorf("collector's worklist %+v", page)
	}
	if res := st.call("collector", http.MethodGet, "/worklists/q-other", nil, nil); res.code != http.StatusForbidden {
		t.Errorf("a collector on another queue: %d %s", res.code, res.body)
	}
	var qs struct{ Queues []QueueSummary }
	st.call("collector", http.MethodGet, "/worklists", nil, nil).json(t, &qs)
	if len(qs.Queues) != 1 || qs.Queues[0].Queue != "q-collector" || qs.Queues[0].OpenTasks != 1 {
		t.Errorf("collector's queues %+v", qs)
	}
	st.call("supervisor", http.MethodGet, "/worklists", nil, nil).json(t, &qs)
	if len(qs.Queues) != 2 || qs.Queues[0].Queue != "q-collector" || qs.Queues[1].Queue != "q-other" {
		t.Errorf("supervisor's queues %+v", qs)
	}

	var cbs struct {
		Due       string     `json:"due"`
		Callbacks []Callback `json:"callbacks"`
	}
	st.call("collector", http.MethodGet, "/callbacks?due="+today.String(), nil, nil).json(t, &cbs)
	if len(cbs.Callbacks) != 1 || cbs.Callbacks[0].CallbackID != "CB1" || cbs.Callbacks[0].Note != "after 3pm" ||
		cbs.Callbacks[0].ScheduledBy != "api:ann" || !cbs.Callbacks[0].Called {
		t.Errorf("collector's call-backs today %+v", cbs)
	}
	st.call("supervisor", http.MethodGet, "/callbacks?due="+today.String(), nil, nil).json(t, &cbs)
	if len(cbs.Callbacks) != 2 {
		t.Errorf("supervisor's call-backs today %+v", cbs)
	}
	st.call("collector", http.MethodGet, "/callbacks?due="+(today+1).String(), nil, nil).json(t, &cbs)
	if len(cbs.Callbacks) != 1 || cbs.Callbacks[0].CallbackID != "CB3" {
		t.Errorf("collector's call-backs tomorrow %+v", cbs)
	}

	var view AccountView
	st.call("viewer", http.MethodGet, "/accounts/"+acct, nil, nil).json(t, &view)
	if view.AccountID != acct || len(view.OpenItems) != 1 || view.OpenItems[0].InvoiceID != "INV-"+acct || view.Policy == nil {
		t.Errorf("account view %+v", view)
	}

	long := strings.Repeat("x", 200)
	for _, c := range []struct {
		role, path, field string
		code              int
		invalid           bool // the request breaks the document on purpose
	}{
		{"viewer", "/accounts?limit=0", "limit", 400, true},
		{"viewer", "/accounts?limit=many", "limit", 400, true},
		{"viewer", "/accounts?cursor=not-ours", "cursor", 400, false},
		{"viewer", "/accounts?segment=" + long, "segment", 400, true},
		{"viewer", "/accounts/" + long, "id", 400, true},
		{"viewer", "/accounts/" + acct + "/timeline?before=not-ours", "before", 400, false},
		{"collector", "/worklists/q-collector?cursor=not-ours", "cursor", 400, false},
		{"collector", "/worklists/q-collector?limit=501", "limit", 400, true},
		{"collector", "/callbacks?due=tomorrow", "due", 400, true},
		{"viewer", "/worklists", "", 403, false},
		{"viewer", "/worklists/q-viewer", "", 403, false},
		{"viewer", "/callbacks", "", 403, false},
	} {
		res := st.call(c.role, http.MethodGet, c.path, nil, &req{invalid: c.invalid})
		if res.code != c.code {
			t.Errorf("GET %s as %s: %d, want %d (%s)", c.path, c.role, res.code, c.code, res.body)
			continue
		}
		if p := res.problem(t); c.field != "" && !p.hasField(c.field) {
			t.Errorf("GET %s: the problem does not name %s: %+v", c.path, c.field, p)
		}
	}
}
