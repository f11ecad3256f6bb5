package api

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// promise is a valid promise body for an account overdue in EUR.
func promise(days int, amount string) map[string]string {
	return map[string]string{"currency": "EUR", "amount": amount, "date": (event.DateOf(time.Now().UTC()) + event.Date(days)).String()}
}

// count is how many of evs have the id.
func count(evs []event.Event, id string) int {
	n := 0
	for _, ev := range evs {
		if ev.ID == id {
			n++
		}
	}
	return n
}

// testIdempotency: the same request twice is one event with one id; a
// different body with the same key is 422; the key is scoped by account.
func (st *apiStack) testIdempotency(t *testing.T) {
	acct, other := st.account(30), st.account(30)
	key := &req{key: "idem-" + acct}
	first := st.call("collector", http.MethodPost, "/accounts/"+acct+"/promises", promise(7, "40.00"), key)
	again := st.call("collector", http.MethodPost, "/accounts/"+acct+"/promises?wait=20s", promise(7, "40.00"), key)
	var a, b writeResult
	first.json(t, &a)
	again.json(t, &b)
	if first.code != http.StatusAccepted || a.EventID == "" || again.code != http.StatusOK || b.EventID != a.EventID || b.ID != a.ID {
		t.Fatalf("first %d %s, retry %d %s", first.code, first.body, again.code, again.body)
	}
	// The retry waited for the first request's event and shows it applied.
	if b.Account == nil || !strings.Contains(string(again.body), a.ID) {
		t.Errorf("the retry's view does not show arrangement %s: %s", a.ID, again.body)
	}
	diff := st.call("collector", http.MethodPost, "/accounts/"+acct+"/promises", promise(8, "40.00"), key)
	if diff.code != http.StatusUnprocessableEntity || !diff.problem(t).hasField("Idempotency-Key") {
		t.Errorf("same key, other body: %d %s", diff.code, diff.body)
	}
	// The same key on another account is another request.
	o := st.call("collector", http.MethodPost, "/accounts/"+other+"/promises", promise(7, "40.00"), key)
	var c writeResult
	o.json(t, &c)
	if o.code != http.StatusAccepted || c.EventID == a.EventID {
		t.Errorf("same key on another account: %d %s", o.code, o.body)
	}
	// Concurrent duplicates: one event.
	note := map[string]string{"text": "duplicate click"}
	nk := &req{key: "dup-" + acct}
	var wg sync.WaitGroup
	codes := make([]int, 4)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = st.raw("collector", http.MethodPost, "/accounts/"+acct+"/notes", note, nk).code
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != http.StatusAccepted && c != http.StatusConflict {
			t.Errorf("concurrent duplicates answered %v", codes)
		}
	}
	last := st.call("collector", http.MethodPost, "/accounts/"+acct+"/notes", note, nk)
	var n writeResult
	last.json(t, &n)
	evs := st.events(acct)
	if count(evs, a.EventID) != 1 || count(evs, n.EventID) != 1 {
		t.Errorf("events of %s: promise %s x%d, note %s x%d (want 1 each)", acct, a.EventID, count(evs, a.EventID), n.EventID, count(evs, n.EventID))
	}
	for _, ev := range evs {
		if ev.ID == a.EventID && ev.Source != "api:t-collector" {
			t.Errorf("event source %q", ev.Source)
		}
	}
}

// testWait: ?wait returns the applied view; a wait too short to see the
// processor apply the event is 202 pending.
func (st *apiStack) testWait(t *testing.T) {
	acct := st.account(30)
	res := st.call("collector", http.MethodPost, "/accounts/"+acct+"/promises?wait=20s", promise(7, "60.00"), nil)
	var w struct {
		writeResult
		Account AccountView `json:"account"`
	}
	res.json(t, &w)
	if res.code != http.StatusOK || w.Pending == nil || *w.Pending || w.Account.Arrangement == nil || w.Account.Arrangement.ID != w.ID ||
		w.Account.Paused != PausedArrangement {
		t.Fatalf("promise with wait: %d %s", res.code, res.body)
	}
	if next := w.Account.NextAction; next == nil || !strings.HasPrefix(next.At.Format("2006-01-02"), promise(7, "1")["date"]) {
		t.Errorf("next action %+v, want on the promise date %s", w.Account.NextAction, promise(7, "1")["date"])
	}
	short := st.call("collector", http.MethodPost, "/accounts/"+acct+"/notes?wait=1ns", map[string]string{"text": "quick"}, nil)
	var s writeResult
	short.json(t, &s)
	if short.code != http.StatusAccepted || s.Pending == nil || !*s.Pending || s.EventID == "" {
		t.Errorf("wait=1ns: %d %s", short.code, short.body)
	}
}

// testApprovals: a collector's plan waits; a supervisor lists and approves
// it (the event then exists and the view shows the plan); a second
// decision is 409; a rejection is 200.
func (st *apiStack) testApprovals(t *testing.T) {
	acct := st.account(30)
	id := st.pendingPlan(t, acct)
	if n := len(st.events(acct)); n != 2 {
		t.Errorf("a pending plan produced events: %d records", n)
	}
	if res := st.call("collector", http.MethodGet, "/approvals", nil, nil); res.code != http.StatusForbidden {
		t.Errorf("collector lists approvals: %d", res.code)
	}
	res := st.call("supervisor", http.MethodGet, "/approvals?status=pending", nil, nil)
	var list struct{ Items []Approval }
	res.json(t, &list)
	found := false
	for _, a := range list.Items {
		if a.ID == id {
			found = a.AccountID == acct && a.RequestedBy == "t-collector" && len(a.Request.Installments) == 2 && a.Status == "pending"
		}
	}
	if !found {
		t.Fatalf("approval %s not listed right: %s", id, res.body)
	}
	ap := st.call("supervisor", http.MethodPost, "/approvals/"+id+"/approve?wait=20s", nil, nil)
	var w struct {
		writeResult
		Account AccountView `json:"account"`
	}
	ap.json(t, &w)
	if ap.code != http.StatusOK || w.EventID == "" || w.Account.Arrangement == nil || w.Account.Arrangement.Type != "INSTALLMENT_PLAN" {
		t.Fatalf("approve: %d %s", ap.code, ap.body)
	}
	if again := st.call("admin", http.MethodPost, "/approvals/"+id+"/approve", nil, nil); again.code != http.StatusConflict {
		t.Errorf("second approval: %d %s", again.code, again.body)
	}
	if rej := st.call("supervisor", http.MethodPost, "/approvals/"+id+"/reject", map[string]string{"reason": "late"}, nil); rej.code != http.StatusConflict {
		t.Errorf("reject after approve: %d", rej.code)
	}
	other := st.account(30)
	id2 := st.pendingPlan(t, other)
	rej := st.call("supervisor", http.MethodPost, "/approvals/"+id2+"/reject", map[string]string{"reason": "income too low"}, nil)
	var r writeResult
	rej.json(t, &r)
	if rej.code != http.StatusOK || r.Status != "rejected" || r.EventID != "" {
		t.Errorf("reject: %d %s", rej.code, rej.body)
	}
	if n := len(st.events(other)); n != 2 {
		t.Errorf("a rejected plan produced events: %d records", n)
	}
	if res := st.call("supervisor", http.MethodPost, "/approvals/apr-unknown/approve", nil, nil); res.code != http.StatusNotFound {
		t.Errorf("unknown approval: %d", res.code)
	}
	// A supervisor's own plan is an event at once.
	sup := st.call("supervisor", http.MethodPost, "/accounts/"+st.account(30)+"/plans", plan(event.DateOf(time.Now().UTC())), nil)
	var sw writeResult
	sup.json(t, &sw)
	if sup.code != http.StatusAccepted || sw.EventID == "" || sw.Status != "accepted" {
		t.Errorf("supervisor's plan: %d %s", sup.code, sup.body)
	}
}

// testConflicts: 404 unknown account, 409 for what the state does not
// allow, 403 beyond the role.
func (st *apiStack) testConflicts(t *testing.T) {
	current, overdue := st.account(-10), st.account(30)
	cases := []struct {
		name, role, method, path string
		body                     any
		want                     int
	}{
		{"unknown account", "collector", http.MethodPost, "/accounts/nobody-" + overdue + "/promises", promise(7, "10"), 404},
		{"nothing overdue", "collector", http.MethodPost, "/accounts/" + current + "/promises", promise(7, "10"), 409},
		{"unknown dispute", "supervisor", http.MethodPost, "/accounts/" + overdue + "/disputes/dsp-none/resolve", map[string]string{"outcome": "UPHELD"}, 409},
		{"unknown hold", "supervisor", http.MethodPost, "/accounts/" + overdue + "/holds/hold-none/release", nil, 409},
		{"no arrangement", "supervisor", http.MethodPost, "/accounts/" + overdue + "/arrangements/arr-none/cancel", map[string]string{"reason": "x"}, 409},
		{"exemption not set", "supervisor", http.MethodDelete, "/accounts/" + overdue + "/exemptions/HARDSHIP", nil, 409},
		{"unknown invoice", "collector", http.MethodPost, "/accounts/" + overdue + "/disputes", map[string]string{"invoice_id": "INV-none", "currency": "EUR", "amount": "1", "reason": "x"}, 409},
		{"dispute over open", "collector", http.MethodPost, "/accounts/" + overdue + "/disputes", map[string]string{"invoice_id": "INV-" + overdue, "currency": "EUR", "amount": "1000", "reason": "x"}, 409},
		{"write-off over open", "admin", http.MethodPost, "/accounts/" + overdue + "/write-offs", map[string]string{"currency": "EUR", "amount": "1000", "reason": "x"}, 409},
		{"write-off over the supervisor limit", "supervisor", http.MethodPost, "/accounts/" + overdue + "/write-offs", map[string]string{"currency": "EUR", "amount": "60", "reason": "x"}, 403},
		{"whole balance over the supervisor limit", "supervisor", http.MethodPost, "/accounts/" + overdue + "/write-offs", map[string]string{"currency": "EUR", "amount": "0", "reason": "x"}, 403},
		{"call-back into another queue", "collector", http.MethodPost, "/accounts/" + overdue + "/callbacks", map[string]string{"at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "queue": "q-admin"}, 403},
	}
	for _, c := range cases {
		res := st.call(c.role, c.method, c.path, c.body, nil)
		if res.code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, res.code, res.body, c.want)
			continue
		}
		res.problem(t)
	}
	if res := st.call("admin", http.MethodPost, "/accounts/"+overdue+"/write-offs", map[string]string{"currency": "EUR", "amount": "60", "reason": "x"}, nil); res.code != http.StatusAccepted {
		t.Errorf("admin's write-off over the supervisor limit: %d %s", res.code, res.body)
	}
	if n := len(st.events(current)); n != 2 {
		t.Errorf("refused writes produced events: %d records on %s", n, current)
	}
}

// testReads exercises the read routes with valid requests (their
// behaviour is tested in reads*_test.go; here their answers are checked
// against the document).
func (st *apiStack) testReads(t *testing.T) {
	acct := st.account(30)
	for _, p := range []struct{ role, path string }{
		{"viewer", "/me"}, {"viewer", "/openapi.json"}, {"viewer", "/accounts?prefix=acc-&limit=5"}, {"viewer", "/accounts/" + acct},
		{"viewer", "/accounts/" + acct + "/timeline?limit=5"}, {"supervisor", "/worklists"},
		{"collector", "/worklists/q-collector?limit=5"}, {"collector", "/callbacks?due=" + event.DateOf(time.Now().UTC()).String()},
		{"supervisor", "/approvals"}, {"viewer", "/accounts/" + acct + "/audit"},
	} {
		if res := st.call(p.role, http.MethodGet, p.path, nil, nil); res.code != http.StatusOK {
			t.Errorf("GET %s as %s: %d %s", p.path, p.role, res.code, res.body)
		}
	}
	var me Principal
	st.call("collector", http.MethodGet, "/me", nil, nil).json(t, &me)
	if me.Name != "t-collector" || me.Role != "collector" || len(me.Queues) != 1 || me.Queues[0] != "q-collector" {
		t.Errorf("/me %+v", me)
	}
	if res := st.call("viewer", http.MethodGet, "/accounts/nobody-"+acct, nil, nil); res.code != http.StatusNotFound {
		t.Errorf("unknown account: %d", res.code)
	}
}
