package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// testBadInput: malformed requests on every kind of write get 400 (413
// for an oversize body) as problem+json naming the field, never a 500, and
// nothing reaches Kafka.
func (st *apiStack) testBadInput(t *testing.T) {
	acct := st.account(30)
	a := "/accounts/" + acct
	today := event.DateOf(time.Now().UTC())
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name, method, path string
		body               any
		field              string
		o                  *req
	}{
		{"amount as a number", "POST", a + "/promises", `{"currency":"EUR","amount":12.5,"date":"` + (today + 3).String() + `"}`, "amount", nil},
		{"unknown field", "POST", a + "/promises", map[string]string{"currency": "EUR", "amount": "1", "date": (today + 3).String(), "note": "x"}, "note", nil},
		{"unknown currency", "POST", a + "/promises", promiseBody("EURO", "10", today+3), "currency", nil},
		{"not a currency", "POST", a + "/promises", promiseBody("XYZ", "10", today+3), "currency", nil},
		{"cents of EUR", "POST", a + "/promises", promiseBody("EUR", "10.005", today+3), "amount", nil},
		{"decimals of JPY", "POST", a + "/promises", promiseBody("JPY", "5.5", today+3), "amount", nil},
		{"negative amount", "POST", a + "/promises", promiseBody("EUR", "-5", today+3), "amount", nil},
		{"zero amount", "POST", a + "/promises", promiseBody("EUR", "0", today+3), "amount", nil},
		{"amount with spaces", "POST", a + "/promises", promiseBody("EUR", " 5", today+3), "amount", nil},
		{"huge amount", "POST", a + "/promises", promiseBody("EUR", "1000000000000", today+3), "amount", nil},
		{"bad date", "POST", a + "/promises", map[string]string{"currency": "EUR", "amount": "1", "date": "2026-13-01"}, "date", nil},
		{"past date", "POST", a + "/promises", promiseBody("EUR", "1", today-1), "date", nil},
		{"date too far", "POST", a + "/promises", promiseBody("EUR", "1", today+400), "date", nil},
		{"missing fields", "POST", a + "/promises", map[string]string{}, "currency", nil},
		{"no Idempotency-Key", "POST", a + "/promises", promiseBody("EUR", "1", today+3), "Idempotency-Key", &req{key: "-"}},
		{"bad Idempotency-Key", "POST", a + "/notes", map[string]string{"text": "x"}, "Idempotency-Key", &req{key: "has space"}},
		{"bad wait", "POST", a + "/notes?wait=forever", map[string]string{"text": "x"}, "?wait", nil},
		{"wait too long", "POST", a + "/notes?wait=10m", map[string]string{"text": "x"}, "?wait", nil},
		{"not JSON", "POST", a + "/notes", `{"text": "x"`, "body", nil},
		{"two objects", "POST", a + "/notes", `{"text":"x"}{"text":"y"}`, "body", nil},
		{"an array", "POST", a + "/notes", `["x"]`, "body", nil},
		{"no body", "POST", a + "/notes", nil, "text", nil},
		{"text/plain", "POST", a + "/notes", map[string]string{"text": "x"}, "Content-Type", &req{headers: http.Header{"Content-Type": {"text/plain"}}}},
		{"empty note", "POST", a + "/notes", map[string]string{"text": ""}, "text", nil},
		{"control character", "POST", a + "/notes", map[string]string{"text": "a\x00b"}, "text", nil},
		{"note too long", "POST", a + "/notes", map[string]string{"text": strings.Repeat("x", 1001)}, "text", nil},
		{"one installment", "POST", a + "/plans", map[string]any{"currency": "EUR", "installments": []map[string]string{{"date": (today + 3).String(), "amount": "5"}}}, "installments", nil},
		{"installments out of order", "POST", a + "/plans", map[string]any{"currency": "EUR", "installments": []map[string]string{
			{"date": (today + 9).String(), "amount": "5"}, {"date": (today + 3).String(), "amount": "5"}}}, "installments[1].date", nil},
		{"installment amount", "POST", a + "/plans", map[string]any{"currency": "EUR", "installments": []map[string]string{
			{"date": (today + 3).String(), "amount": "5"}, {"date": (today + 9).String(), "amount": "x"}}}, "installments[1].amount", nil},
		{"call outcome", "POST", a + "/calls", map[string]string{"outcome": "MAYBE"}, "outcome", nil},
		{"call-back in the past", "POST", a + "/callbacks", map[string]string{"at": "2020-01-01T09:00:00Z"}, "at", nil},
		{"call-back not an instant", "POST", a + "/callbacks", map[string]string{"at": "tomorrow"}, "at", nil},
		{"hold in the past", "POST", a + "/holds", map[string]string{"until": "2020-01-01T00:00:00Z", "reason": "x"}, "until", nil},
		{"hold too long", "POST", a + "/holds", map[string]string{"until": time.Now().AddDate(1, 0, 0).UTC().Format(time.RFC3339), "reason": "x"}, "until", nil},
		{"hold without reason", "POST", a + "/holds", map[string]string{"until": soon}, "reason", nil},
		{"dispute outcome", "POST", a + "/disputes/dsp-1/resolve", map[string]string{"outcome": "WON"}, "outcome", nil},
		{"channel", "PUT", a + "/contact-preferences", map[string]any{"consents": []string{"fax"}}, "consents[0]", nil},
		{"preferred not consented", "PUT", a + "/contact-preferences", map[string]any{"consents": []string{"email"}, "preferred": "sms"}, "preferred", nil},
		{"consents missing", "PUT", a + "/contact-preferences", map[string]any{}, "consents", nil},
		{"cease without active", "POST", a + "/cease-contact", map[string]string{"reason": "x"}, "active", nil},
		{"active as a string", "POST", a + "/cease-contact", `{"active":"yes","reason":"x"}`, "active", nil},
		{"exemption name", "POST", a + "/exemptions", map[string]string{"exemption": "vip", "reason": "x"}, "exemption", nil},
		{"exemption path", "DELETE", a + "/exemptions/not-a-flag", nil, "exemption", nil},
		{"write-off amount", "POST", a + "/write-offs", map[string]string{"currency": "EUR", "amount": "-1", "reason": "x"}, "amount", nil},
		{"long account id", "POST", "/accounts/" + strings.Repeat("a", 200) + "/notes", map[string]string{"text": "x"}, "id", nil},
		{"approve body", "POST", "/approvals/apr-1/approve", `{"ok":true}`, "ok", nil},
		{"reject without reason", "POST", "/approvals/apr-1/reject", map[string]string{}, "reason", nil},
	}
	for _, c := range cases {
		o := c.o
		if o == nil {
			o = &req{}
		}
		o.invalid = true
		role := "admin"
		res := st.call(role, c.method, c.path, c.body, o)
		if res.code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", c.name, res.code, res.body)
			continue
		}
		if p := res.problem(t); !p.hasField(c.field) {
			t.Errorf("%s: problem %s does not name %q", c.name, res.body, c.field)
		}
	}
	big := `{"text":"` + strings.Repeat("x", 70<<10) + `"}`
	if res := st.call("admin", "POST", a+"/notes", big, &req{invalid: true}); res.code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body: %d", res.code)
	} else {
		res.problem(t)
	}
	// A chunked body (no Content-Length) over the limit is 413 too.
	if res := st.raw("admin", "POST", a+"/notes", io.MultiReader(strings.NewReader(big)), nil); res.code != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB chunked body: %d", res.code)
	}
	// The audit rows of the bad requests hold no unvalidated input.
	rows, err := st.ch.Query(context.Background(), "SELECT account_id, idempotency_key FROM "+st.ch.Table("audit")+
		" WHERE length(account_id) > 128 OR idempotency_key LIKE '% %'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, key string
		_ = rows.Scan(&id, &key)
		t.Errorf("an audit row holds invalid input: account %q, key %q", id, key)
	}
	rows.Close()
	if evs := st.events(acct); len(evs) != 2 {
		t.Errorf("bad input reached Kafka: %d records on %s, want the 2 seeded", len(evs), acct)
	}
}

func promiseBody(cur, amount string, d event.Date) map[string]string {
	return map[string]string{"currency": cur, "amount": amount, "date": d.String()}
}
