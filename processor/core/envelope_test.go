package core

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
	"github.com/arrears/arrears/processor/ledger"
)

func upsert() event.Body {
	return &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin",
		Consents: []event.Channel{event.Email, event.SMS, event.Letter}}
}

func invoice(id string, at time.Time) event.Body {
	return &event.InvoiceIssued{InvoiceID: id, Currency: "EUR", Amount: event.MustAmount("100"), IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14}
}

func plan(id string, at time.Time, n int) *event.ArrangementCreated {
	a := &event.ArrangementCreated{ArrangementID: id, Type: event.InstallmentPlan, Currency: "EUR"}
	for i := range n {
		a.Installments = append(a.Installments, event.Installment{DueDate: event.DateOf(at) + event.Date(10*(i+1)), Amount: event.MustAmount("50")})
	}
	return a
}

func mustApply(t *testing.T, st *State, env *Env, e event.Event) Output {
	t.Helper()
	out, err := Apply(st, e, e.Time, env)
	if err != nil {
		t.Fatalf("%s %T: %v", e.ID, e.Body, err)
	}
	return out
}

func wantReject(t *testing.T, err error, code string) {
	t.Helper()
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Code() != code {
		t.Fatalf("err %v, want a rejection %s", err, code)
	}
}

// TestDunningKindsIdempotent: holds and arrangements obey the same event
// id rule as ledger kinds, and an arrangement id is remembered after the
// arrangement ended (before: a re-sent ArrangementCreated restarted a
// cancelled plan).
func TestDunningKindsIdempotent(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	mustApply(t, st, env, ev("i", day0, invoice("I1", day0)))
	mustApply(t, st, env, ev("h1", day0, &event.Hold{HoldID: "H1", Until: day0.AddDate(0, 0, 5)}))
	if out := mustApply(t, st, env, ev("h1", day0.Add(time.Hour), &event.Hold{HoldID: "H2", Until: day0.AddDate(0, 0, 5)})); !out.Duplicate || len(st.Dunning.Holds) != 1 {
		t.Fatalf("same event id, other hold: %+v, holds %+v", out, st.Dunning.Holds)
	}
	at := day0.AddDate(0, 0, 1)
	mustApply(t, st, env, ev("a1", at, plan("AR1", at, 2)))
	_, err := Apply(st, ev("a2", at, plan("AR1", at, 3)), at, env)
	wantReject(t, err, "ID_CONFLICT")
	mustApply(t, st, env, ev("c1", at.Add(time.Hour), &event.ArrangementCancelled{ArrangementID: "AR1"}))
	if st.Dunning.Arrangement != nil {
		t.Fatal("arrangement still active after cancel")
	}
	if out := mustApply(t, st, env, ev("a3", at.Add(2*time.Hour), plan("AR1", at, 2))); !out.Duplicate || st.Dunning.Arrangement != nil {
		t.Fatalf("cancelled arrangement re-sent under a new event id: %+v, arrangement %+v", out, st.Dunning.Arrangement)
	}
	b, _ := st.MarshalBinary()
	var back State
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if out, _ := Apply(&back, ev("a4", at.Add(3*time.Hour), plan("AR1", at, 2)), at.Add(3*time.Hour), env); !out.Duplicate {
		t.Fatal("arrangement id lost in the encoded state")
	}
}

// TestLimitsRefused: a hold until 9999 and a plan past the horizon are
// dead-lettered with stable codes; Env.Limits is honoured.
func TestLimitsRefused(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	_, err := Apply(st, ev("h", day0, &event.Hold{HoldID: "H", Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}), day0, env)
	wantReject(t, err, "HOLD_TOO_LONG")
	_, err = Apply(st, ev("a", day0, plan("AR", day0, 40)), day0, env) // 400 days
	wantReject(t, err, "ARRANGEMENT_TOO_LONG")
	env.Limits.MaxHoldDays = 3
	_, err = Apply(st, ev("h2", day0, &event.Hold{HoldID: "H", Until: day0.AddDate(0, 0, 4)}), day0, env)
	wantReject(t, err, "HOLD_TOO_LONG")
	_, err = Apply(st, ev("r", day0, &event.Release{HoldID: "nope"}), day0, env)
	wantReject(t, err, "UNKNOWN_HOLD")
	if len(st.Dunning.Holds) != 0 || st.Dunning.Arrangement != nil {
		t.Fatalf("a refused event changed the state: %+v", st.Dunning)
	}
}

// TestClosedAccount: a new invoice on a closed account is refused
// (CLOSED_ACCOUNT) until AccountReopened (before: accepted, and dunning
// started on a closed account).
func TestClosedAccount(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	mustApply(t, st, env, ev("c", day0, &event.AccountClosed{Reason: "churn"}))
	_, err := Apply(st, ev("i", day0, invoice("I1", day0)), day0, env)
	wantReject(t, err, "CLOSED_ACCOUNT")
	mustApply(t, st, env, ev("r", day0, &event.AccountReopened{}))
	mustApply(t, st, env, ev("i2", day0, invoice("I1", day0)))
	if st.Status(day0).Closed || st.Status(day0).OpenItems != 1 {
		t.Fatalf("status after reopening %+v", st.Status(day0))
	}
}

// TestUnknownInvoiceExplained: a payment naming an invoice the account
// does not hold says so in the explanation and on the status.
func TestUnknownInvoiceExplained(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	mustApply(t, st, env, ev("i", day0, invoice("I1", day0)))
	out := mustApply(t, st, env, ev("p", day0, &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("40"), InvoiceIDs: []string{"GHOST"}}))
	if !strings.Contains(out.Explanation, "payment P1 names GHOST, which the account does not hold: allocated oldest due first") {
		t.Fatalf("explanation %q", out.Explanation)
	}
	if s := st.Status(day0); s.UnknownInvoiceRefs != 1 || s.Balances[0].Open != event.MustAmount("60") {
		t.Fatalf("status %+v", s)
	}
}

// TestSkipExplanations: the renamed switch still drops only the explanation.
func TestSkipExplanations(t *testing.T) {
	env := testEnv(t)
	env.SkipExplanations = true
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	mustApply(t, st, env, ev("i", day0, invoice("I1", day0)))
	out, _ := Wake(st, "A1", day0.AddDate(0, 0, 20), env)
	if out.Explanation != "" || len(out.Actions) == 0 {
		t.Fatalf("explanation %q, %d actions", out.Explanation, len(out.Actions))
	}
}

func TestConfig(t *testing.T) {
	c := Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r, l := c.Rules(), c.Limits()
	if r.DedupeDays != 35 || r.TombstoneDays != 120 || r.ReversalWindowDays != 120 || l.MaxHoldDays != 90 || l.MaxArrangementDays != 366 || l.MaxInstallments != 52 {
		t.Fatalf("rules %+v limits %+v", r, l)
	}
	c.DedupeDays, c.MaxHoldDays = -1, 5000
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "core.dedupe_days: -1") || !strings.Contains(err.Error(), "core.max_hold_days: 5000") {
		t.Fatalf("validate: %v", err)
	}
}

// TestStateVersion2: a version-2 state (account id inside) still decodes;
// version 3 leaves the id to the caller, and Apply fills it.
func TestStateVersion2(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	mustApply(t, st, env, ev("u", day0, upsert()))
	mustApply(t, st, env, ev("i", day0, invoice("I1", day0)))
	v3, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	v2 := varint.AppendString([]byte{stateVersionV2}, "A1")
	v2 = append(v2, v3[1:]...)
	var back State
	if err := back.UnmarshalBinary(v2); err != nil || back.Account != "A1" || back.Ledger.OpenItems() != 1 {
		t.Fatalf("version 2: %v, account %q", err, back.Account)
	}
	fresh := State{}
	if err := fresh.UnmarshalBinary(v3); err != nil || fresh.Account != "" {
		t.Fatalf("version 3: %v, account %q", err, fresh.Account)
	}
	mustApply(t, &fresh, env, ev("p", day0, &event.PaymentReceived{PaymentID: "P", Currency: "EUR", Amount: event.MustAmount("1")}))
	if fresh.Account != "A1" {
		t.Fatalf("Apply left account %q", fresh.Account)
	}
	if len(v2)-len(v3) != 3 {
		t.Errorf("version 3 saves %d bytes", len(v2)-len(v3))
	}
}

// TestOldStateDecodes: a state written by the previous build (core v2 with
// a version-1 ledger and dunning part: testdata/state_v2.bin, an account
// in final_notice with an open dispute, a settled invoice and an expired
// hold) decodes to the same status, and its next wake-up decides the same
// as after a round trip through today's encoding; the upsert's event id
// (in the old ring) is in the event log.
func TestOldStateDecodes(t *testing.T) {
	b, err := os.ReadFile("testdata/state_v2.bin")
	if err != nil {
		t.Fatal(err)
	}
	var old State
	if err := old.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)
	s := old.Status(now)
	if old.Account != "A1" || s.Stage != "final_notice" || s.ServiceState != "ACTIVE" || s.Balances[0].Open != event.MustAmount("195") ||
		!old.WakeAt().Equal(time.Date(2026, 4, 4, 22, 0, 0, 0, time.UTC)) || !DefaultRules().SeenEvent(&old.Ledger, "e1", now) {
		t.Fatalf("old state: %+v wake %s", s, old.WakeAt())
	}
	enc, err := old.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := State{Account: "A1"}
	if err := back.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	o1, _ := Wake(&old, "A1", old.WakeAt(), env)
	o2, _ := Wake(&back, "A1", back.WakeAt(), env)
	if !reflect.DeepEqual(o1, o2) || len(o1.Actions) == 0 {
		t.Fatalf("wake after decode differs or did nothing:\n%+v\n%+v", o1, o2)
	}
	t.Logf("previous encoding %d bytes, today's %d", len(b), len(enc))
}

func DefaultRules() *ledger.Rules {
	r := ledger.DefaultRules()
	return &r
}
