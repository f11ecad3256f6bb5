package core

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGoldenBlacklist (issue 15 item 7): the shipped postpaid policy with
// `blacklist: {on: [written_off], broken_promises: 1}`. An invoice of
// 100.00 due day 14 is dunned; a promise to pay it on day 30 is broken
// (blacklisted: one broken promise, something overdue); the write-off at
// 180 days past due keeps it blacklisted (written off); a payment of the
// whole 105.00 recovers the write-off and nothing is overdue: the flag
// ends. The same account under the policy without the section is never
// blacklisted. testdata/blacklist.golden holds each step's status.
func TestGoldenBlacklist(t *testing.T) {
	b, err := os.ReadFile("../../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	withSection := append(append([]byte{}, b...), "\nblacklist:\n  on: [written_off]\n  broken_promises: 1\n"...)
	var out strings.Builder
	for _, tc := range []struct {
		name string
		yaml []byte
	}{{"with blacklist", withSection}, {"without", b}} {
		env := testEnv(t)
		d := Defaults()
		env.Rules, env.Limits = d.Rules(), d.Limits()
		if env.Policies, err = policy.LoadFS(fstest.MapFS{"postpaid.yaml": {Data: tc.yaml}}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "# postpaid %s\n", tc.name)
		st := &State{}
		at := func(days int) time.Time { return day0.AddDate(0, 0, days) }
		line := func(what string, now time.Time) {
			s := st.Status(now)
			fmt.Fprintf(&out, "day %3d %-28s collections=%-14s dpd=%-3d broken=%d blacklisted=%v\n",
				int(now.Sub(day0).Hours()/24), what, s.CollectionsStatus, s.DaysPastDue,
				st.Ledger.Counters().BrokenPromises, env.Blacklisted(st, now))
		}
		n := 0
		apply := func(days int, what string, body event.Body) {
			t.Helper()
			n++
			e := ev(fmt.Sprintf("b%d", n), at(days), body)
			if _, err := Apply(st, e, e.Time, env); err != nil {
				t.Fatal(err)
			}
			line(what, e.Time)
		}
		wakeTo := func(days int) {
			t.Helper()
			for w := st.WakeAt(); !w.IsZero() && w.Before(at(days)); w = st.WakeAt() {
				before := st.Status(w).CollectionsStatus + st.Dunning.Stage
				if _, err := Wake(st, "A1", w, env); err != nil {
					t.Fatal(err)
				}
				if st.Status(w).CollectionsStatus+st.Dunning.Stage != before {
					line("wake: stage "+st.Dunning.Stage, w)
				}
			}
			line("(time passes)", at(days))
		}
		amt := event.MustAmount
		apply(0, "upsert", &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR"})
		apply(0, "invoice I1 100.00 due day 14", &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: amt("100"),
			IssueDate: event.DateOf(day0), DueDate: event.DateOf(day0) + 14})
		wakeTo(20)
		apply(20, "promise P1 100.00 by day 30", &event.ArrangementCreated{ArrangementID: "P1", Type: event.Promise, Currency: "EUR",
			Installments: []event.Installment{{DueDate: event.DateOf(day0) + 30, Amount: amt("100")}}})
		wakeTo(40)
		wakeTo(200)
		apply(200, "payment 105.00", &event.PaymentReceived{PaymentID: "PAY1", Currency: "EUR", Amount: amt("105"), Method: "card"})
		wakeTo(210)
		fmt.Fprintf(&out, "policy version %s\n\n", env.PolicyVersion(st, at(210)))
	}
	golden := "testdata/blacklist.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("blacklist statuses differ from %s (-update rewrites it):\n%s", golden, got)
	}
}
