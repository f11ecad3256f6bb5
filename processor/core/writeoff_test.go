package core

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// TestWriteOffLifecycle (issue 15 item 3) on the shipped postpaid policy
// (fee 5.00 EUR at final_notice, suspension at 28 days past due, write-off
// at 180, gl: receivables 1200, bad_debt 6800, no bad_debt_recovery):
//
//   - invoice I1 of 100.00 due 2026-03-15, never paid: the fee makes 105.00
//     open, and the write-off stage (180 dpd) writes off 105.00;
//   - an AccountUpserted afterwards restores nothing (it used to emit
//     RESTORE: nothing was overdue any more), and a new invoice I2 of 50.00
//     is not dunned: the account is written off;
//   - P1 of 80.00 first settles I2 (50.00, the ledger's allocation), the
//     30.00 left recovers 30.00 of I1's write-off: a debit note reinstates
//     it and that cash settles it (no customer credit), GL
//     BAD_DEBT_RECOVERY 30.00 debit 1200 credit 6800; 75.00 unrecovered;
//   - P2 of 75.00 recovers the rest: 105.00 recovered in all, the account
//     is dunned again, nothing is overdue, the episode ends and the
//     suspended service is restored;
//   - P2 reversed: the 75.00 it settled on I1 is written off again (GL
//     RECOVERY_REVERSED 75.00 debit 6800 credit 1200), nothing is open.
func TestWriteOffLifecycle(t *testing.T) {
	env := testEnv(t)
	d := Defaults()
	env.Rules, env.Limits = d.Rules(), d.Limits()
	st := &State{}
	amt := event.MustAmount
	var actions []event.DunningAction
	var gl []event.GLEntry
	take := func(out Output, err error) Output {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		actions, gl = append(actions, out.Actions...), append(gl, out.GL...)
		return out
	}
	at := func(days int) time.Time { return day0.AddDate(0, 0, days) }
	n := 0
	apply := func(days int, b event.Body) Output {
		t.Helper()
		n++
		e := ev("w"+string(rune('a'+n)), at(days), b)
		return take(Apply(st, e, e.Time, env))
	}
	wakeTo := func(days int) {
		t.Helper()
		for w := st.WakeAt(); !w.IsZero() && w.Before(at(days)); w = st.WakeAt() {
			take(Wake(st, "A1", w, env))
		}
	}
	types := func() []event.ActionType {
		var out []event.ActionType
		for _, a := range actions {
			out = append(out, a.Type)
		}
		actions = nil
		return out
	}
	entries := func() []string {
		var out []string
		for _, g := range gl {
			out = append(out, g.Kind+" "+g.Amount.String()+" "+g.DebitAccount+"/"+g.CreditAccount)
		}
		gl = nil
		return out
	}
	status := func(days int, want string, open, unapplied event.Amount) {
		t.Helper()
		s := st.Status(at(days))
		var o, u event.Amount
		for _, b := range s.Balances {
			o, u = o+b.Open, u+b.Unapplied
		}
		if s.CollectionsStatus != want || o != open || u != unapplied {
			t.Fatalf("day %d: collections status %s, open %s, unapplied %s; want %s, %s, %s", days, s.CollectionsStatus, o, u, want, open, unapplied)
		}
	}

	apply(0, &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email, event.SMS, event.Letter}})
	apply(0, &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: amt("100"), IssueDate: event.DateOf(day0), DueDate: event.DateOf(day0) + 14})
	wakeTo(200)
	if got := types(); len(got) == 0 || got[len(got)-1] != event.ActionWriteOff {
		t.Fatalf("actions up to day 200: %v, want the ladder ending in WRITE_OFF", got)
	}
	if got, want := entries(), []string{"FEE 5.0000 1200/4100", "WRITE_OFF 105.0000 6800/1200"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("GL up to day 200: %v, want %v", got, want)
	}
	status(200, CollectionsWrittenOff, 0, 0)
	if st.Dunning.Service.String() != "SUSPENDED" {
		t.Fatalf("service %s after the write-off, want SUSPENDED", st.Dunning.Service)
	}

	out := apply(201, &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email}})
	apply(201, &event.InvoiceIssued{InvoiceID: "I2", Currency: "EUR", Amount: amt("50"), IssueDate: event.DateOf(at(201)), DueDate: event.DateOf(at(201)) + 14})
	wakeTo(260)
	if got := types(); len(got) != 0 {
		t.Fatalf("a written-off account got %v after an upsert, a new invoice and 45 days", got)
	}
	if !strings.Contains(out.Explanation, "written off: 105.0000 EUR unrecovered") {
		t.Errorf("explanation %q does not say the account is written off", out.Explanation)
	}
	status(260, CollectionsWrittenOff, amt("50"), 0)

	apply(261, &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: amt("80")})
	if got, want := entries(), []string{"BAD_DEBT_RECOVERY 30.0000 1200/6800"}; !reflect.DeepEqual(got, want) || len(types()) != 0 {
		t.Fatalf("P1: GL %v, want %v, and no action", got, want)
	}
	status(261, CollectionsWrittenOff, 0, 0)

	apply(262, &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: amt("75")})
	if got, want := entries(), []string{"BAD_DEBT_RECOVERY 75.0000 1200/6800"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("P2: GL %v, want %v", got, want)
	}
	if got := types(); !reflect.DeepEqual(got, []event.ActionType{event.ActionRestore}) {
		t.Fatalf("P2 recovered the write-off in full: actions %v, want [RESTORE]", got)
	}
	status(262, CollectionsNone, 0, 0)

	apply(263, &event.PaymentReversed{PaymentID: "P2", Reason: "chargeback"})
	if got, want := entries(), []string{"RECOVERY_REVERSED 75.0000 6800/1200"}; !reflect.DeepEqual(got, want) || len(types()) != 0 {
		t.Fatalf("P2 reversed: GL %v, want %v, and no action", got, want)
	}
	status(263, CollectionsWrittenOff, 0, 0)

	b := mustMarshal(t, st)
	back := State{Account: "A1"}
	if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(back.Dunning, st.Dunning) {
		t.Fatalf("the written-off state does not round-trip: %v\n%+v\n%+v", err, back.Dunning, st.Dunning)
	}
}

// TestNoPolicyClearsWake: an account whose segment no policy selects any
// more (only postpaid's policy is loaded; it becomes prepaid) keeps no
// wake-up in its state (restore rebuilds timers from it; the
// live path had none: Output.NextWake is zero).
func TestNoPolicyClearsWake(t *testing.T) {
	env := testEnv(t)
	b, err := os.ReadFile("../../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if env.Policies, err = policy.LoadFS(fstest.MapFS{"postpaid.yaml": {Data: b}}); err != nil {
		t.Fatal(err)
	}
	st := &State{}
	for _, e := range []event.Event{
		ev("n1", day0, &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR"}),
		ev("n2", day0, &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("100"), IssueDate: event.DateOf(day0), DueDate: event.DateOf(day0) + 14}),
	} {
		if _, err := Apply(st, e, e.Time, env); err != nil {
			t.Fatal(err)
		}
	}
	if st.WakeAt().IsZero() {
		t.Fatal("no wake-up for an open invoice under the postpaid policy")
	}
	at := day0.Add(time.Hour)
	if _, err := Apply(st, ev("n3", at, &event.AccountUpserted{Segment: event.Prepaid, Currency: "EUR"}), at, env); err != nil {
		t.Fatal(err)
	}
	if env.policy(st, at) != nil {
		t.Fatal("a policy still selects the account")
	}
	// The upsert was decided under the policy of before; the next wake-up
	// finds none.
	out, err := Wake(st, "A1", st.WakeAt(), env)
	if err != nil {
		t.Fatal(err)
	}
	if !out.NextWake.IsZero() || !st.WakeAt().IsZero() || !out.Changed {
		t.Fatalf("no policy: output wake %s, state wake %s, changed %v; want none, none, true", out.NextWake, st.WakeAt(), out.Changed)
	}
}
