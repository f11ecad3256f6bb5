package api

import (
	"bufio"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestOperatorAPI runs the API on the real stack (one stack, shared by the
// subtests): no token, the role matrix of docs/api.md, idempotency, ?wait,
// approvals, bad input, state conflicts and the audit list, every request
// and answer validated against the OpenAPI document; at the end, every
// operation of the document must have been answered 2xx at least once.
func TestOperatorAPI(t *testing.T) {
	st := newAPIStack(t, func(c *Config) { c.SupervisorWriteOffLimit = "50" })
	t.Run("no token", func(t *testing.T) { st.with(t).testNoToken(t) })
	t.Run("roles", func(t *testing.T) { st.with(t).testRoles(t) })
	t.Run("idempotency", func(t *testing.T) { st.with(t).testIdempotency(t) })
	t.Run("wait", func(t *testing.T) { st.with(t).testWait(t) })
	t.Run("approvals", func(t *testing.T) { st.with(t).testApprovals(t) })
	t.Run("bad input", func(t *testing.T) { st.with(t).testBadInput(t) })
	t.Run("conflicts", func(t *testing.T) { st.with(t).testConflicts(t) })
	t.Run("reads", func(t *testing.T) { st.with(t).testReads(t) })
	t.Run("audit", func(t *testing.T) { st.with(t).testAudit(t) })
	if t.Failed() {
		return
	}
	for path, item := range st.doc.Paths.Map() {
		for method := range item.Operations() {
			if !st.seen[method+" "+path] {
				t.Errorf("%s %s: no test request was answered 2xx", method, path)
			}
		}
	}
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// testNoToken: every route of the table, and an unknown one, is 401
// without a token, and every route is in the document.
func (st *apiStack) testNoToken(t *testing.T) {
	for _, rt := range st.srv.routes() {
		p := pathParam.ReplaceAllString(path(rt.pattern), "x1")
		res := st.call("", method(rt.pattern), p, nil, &req{invalid: true})
		if res.code != http.StatusUnauthorized || res.hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without a token: %d %s", rt.pattern, res.code, res.body)
		}
		res.problem(t)
		bad := st.raw("", method(rt.pattern), p, nil, &req{headers: http.Header{"Authorization": {"Bearer arr_not-a-token"}}})
		if bad.code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown token: %d", rt.pattern, bad.code)
		}
	}
	if res := st.raw("", http.MethodGet, "/no/such/route", nil, nil); res.code != http.StatusUnauthorized {
		t.Errorf("unknown route without a token: %d", res.code)
	}
	if res := st.raw("viewer", http.MethodGet, "/no/such/route", nil, nil); res.code != http.StatusNotFound {
		t.Errorf("unknown route with a token: %d", res.code)
	} else {
		res.problem(t)
	}
	if res := st.raw("viewer", http.MethodPatch, "/me", nil, nil); res.code != http.StatusMethodNotAllowed {
		t.Errorf("PATCH /me: %d", res.code)
	}
}

// matrix reads the role table of docs/api.md: route pattern -> role ->
// "2xx" or "403".
func matrix(t *testing.T) map[string]map[string]string {
	f, err := os.Open("../../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string]string{}
	row := regexp.MustCompile("^\\| `((?:GET|POST|PUT|DELETE) /api/v1/[^`]+)` \\| (\\S+) \\| (\\S+) \\| (\\S+) \\| (\\S+) \\|$")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			out[m[1]] = map[string]string{"viewer": m[2], "collector": m[3], "supervisor": m[4], "admin": m[5]}
		}
	}
	return out
}

// testRoles sends each role a valid request on each write route (on a
// fresh account, prepared as admin where the route needs something to
// exist) and checks 2xx or 403 as docs/api.md's table says.
func (st *apiStack) testRoles(t *testing.T) {
	m := matrix(t)
	for _, rt := range st.srv.routes() {
		if rt.write {
			if _, ok := m[method(rt.pattern)+" "+Prefix+path(rt.pattern)]; !ok {
				t.Errorf("%s is not in docs/api.md's role table", rt.pattern)
			}
		}
	}
	for pattern, want := range m {
		for _, role := range roles {
			acct := st.account(30)
			meth, p, body := st.validWrite(t, pattern, acct)
			res := st.call(role, meth, p, body, nil)
			got := "2xx"
			if res.code >= 300 {
				got = itoa(res.code)
			}
			if got != want[role] {
				t.Errorf("%s as %s: %d, docs/api.md says %s: %s", pattern, role, res.code, want[role], res.body)
			}
		}
	}
}

// validWrite is a request on the route that acct's state allows.
func (st *apiStack) validWrite(t *testing.T, pattern, acct string) (string, string, any) {
	t.Helper()
	today := event.DateOf(time.Now().UTC())
	a := "/accounts/" + acct
	reason := map[string]string{"reason": "customer asked"}
	switch strings.TrimPrefix(pattern, "POST "+Prefix) {
	case "/accounts/{id}/promises":
		return http.MethodPost, a + "/promises", map[string]string{"currency": "EUR", "amount": "50.00", "date": (today + 7).String()}
	case "/accounts/{id}/plans":
		return http.MethodPost, a + "/plans", plan(today)
	case "/accounts/{id}/arrangements/{arrangement_id}/cancel":
		id := st.prepare(t, a+"/promises", map[string]string{"currency": "EUR", "amount": "50.00", "date": (today + 7).String()})
		return http.MethodPost, a + "/arrangements/" + id + "/cancel", reason
	case "/accounts/{id}/holds":
		return http.MethodPost, a + "/holds", map[string]string{"until": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "reason": "complaint"}
	case "/accounts/{id}/holds/{hold_id}/release":
		id := st.prepare(t, a+"/holds", map[string]string{"until": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "reason": "complaint"})
		return http.MethodPost, a + "/holds/" + id + "/release", nil
	case "/accounts/{id}/disputes":
		return http.MethodPost, a + "/disputes", dispute(acct)
	case "/accounts/{id}/disputes/{dispute_id}/resolve":
		id := st.prepare(t, a+"/disputes", dispute(acct))
		return http.MethodPost, a + "/disputes/" + id + "/resolve", map[string]string{"outcome": "REJECTED"}
	case "/accounts/{id}/write-offs":
		return http.MethodPost, a + "/write-offs", map[string]string{"currency": "EUR", "amount": "10.00", "reason": "small balance"}
	case "/accounts/{id}/exemptions":
		return http.MethodPost, a + "/exemptions", map[string]string{"exemption": "VIP", "reason": "key account"}
	case "/accounts/{id}/cease-contact":
		return http.MethodPost, a + "/cease-contact", map[string]any{"active": true, "reason": "letter received"}
	case "/accounts/{id}/calls":
		return http.MethodPost, a + "/calls", map[string]string{"outcome": "NO_ANSWER"}
	case "/accounts/{id}/callbacks":
		return http.MethodPost, a + "/callbacks", map[string]string{"at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	case "/accounts/{id}/notes":
		return http.MethodPost, a + "/notes", map[string]string{"text": "called, will pay Friday"}
	case "/accounts/{id}/agency-recalls":
		return http.MethodPost, a + "/agency-recalls", reason
	case "/approvals/{approval_id}/approve":
		return http.MethodPost, "/approvals/" + st.pendingPlan(t, acct) + "/approve", nil
	case "/approvals/{approval_id}/reject":
		return http.MethodPost, "/approvals/" + st.pendingPlan(t, acct) + "/reject", reason
	}
	switch pattern {
	case "DELETE " + Prefix + "/accounts/{id}/exemptions/{exemption}":
		st.prepare(t, a+"/exemptions", map[string]string{"exemption": "VIP", "reason": "key account"})
		return http.MethodDelete, a + "/exemptions/VIP", nil
	case "PUT " + Prefix + "/accounts/{id}/contact-preferences":
		return http.MethodPut, a + "/contact-preferences", map[string]any{"consents": []string{"email", "sms"}, "preferred": "sms"}
	}
	t.Fatalf("no valid request for %s", pattern)
	return "", "", nil
}

func plan(today event.Date) map[string]any {
	return map[string]any{"currency": "EUR", "installments": []map[string]string{
		{"date": (today + 7).String(), "amount": "50.00"}, {"date": (today + 37).String(), "amount": "50.00"}}}
}

func dispute(acct string) map[string]string {
	return map[string]string{"invoice_id": "INV-" + acct, "currency": "EUR", "amount": "20.00", "reason": "wrong tariff"}
}

// prepare posts as admin with ?wait and returns the id of what it created.
func (st *apiStack) prepare(t *testing.T, p string, body any) string {
	t.Helper()
	res := st.call("admin", http.MethodPost, p+"?wait=20s", body, nil)
	var w writeResult
	res.json(t, &w)
	if res.code != http.StatusOK || w.Pending == nil || *w.Pending {
		t.Fatalf("prepare %s: %d %s", p, res.code, res.body)
	}
	return w.ID
}

// pendingPlan has the collector propose a plan and returns its approval id.
func (st *apiStack) pendingPlan(t *testing.T, acct string) string {
	t.Helper()
	res := st.call("collector", http.MethodPost, "/accounts/"+acct+"/plans", plan(event.DateOf(time.Now().UTC())), nil)
	var w writeResult
	res.json(t, &w)
	if res.code != http.StatusAccepted || w.Status != "pending_approval" || w.ApprovalID == "" || w.EventID != "" {
		t.Fatalf("collector's plan: %d %s", res.code, res.body)
	}
	return w.ApprovalID
}

// testAudit: the audit list shows allowed and denied writes with actor,
// role, route pattern, event id, status, and no request text.
func (st *apiStack) testAudit(t *testing.T) {
	acct := st.account(30)
	ok := st.call("collector", http.MethodPost, "/accounts/"+acct+"/notes", map[string]string{"text": "secret phone 0123"},
		&req{headers: http.Header{"X-Request-Id": {"req-audit-1"}}})
	denied := st.call("viewer", http.MethodPost, "/accounts/"+acct+"/notes", map[string]string{"text": "x"}, nil)
	if ok.code != http.StatusAccepted || denied.code != http.StatusForbidden {
		t.Fatalf("note %d, viewer's note %d", ok.code, denied.code)
	}
	var w writeResult
	ok.json(t, &w)
	res := st.call("viewer", http.MethodGet, "/accounts/"+acct+"/audit?limit=10", nil, nil)
	var list struct{ Items []AuditRow }
	res.json(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("audit of %s: %s", acct, res.body)
	}
	d, a := list.Items[0], list.Items[1] // newest first
	route := "POST " + Prefix + "/accounts/{id}/notes"
	if a.Actor != "t-collector" || a.Role != "collector" || a.Route != route || a.Status != 202 || a.EventID != w.EventID ||
		a.RequestID != "req-audit-1" || a.Detail != "NoteAdded" || a.AccountID != acct || a.IdempotencyKey == "" {
		t.Errorf("allowed row %+v", a)
	}
	if d.Actor != "t-viewer" || d.Status != 403 || d.EventID != "" || d.Route != route {
		t.Errorf("denied row %+v", d)
	}
	if strings.Contains(string(res.body), "0123") {
		t.Errorf("the audit list holds request text: %s", res.body)
	}
	if res := st.call("viewer", http.MethodGet, "/accounts/"+acct+"/audit?limit=0", nil, &req{invalid: true}); res.code != http.StatusBadRequest ||
		!res.problem(t).hasField("?limit") {
		t.Errorf("limit=0: %d %s", res.code, res.body)
	}
}
