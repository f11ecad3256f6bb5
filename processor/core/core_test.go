package core

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
)

// testEnv loads the shipped policies and scorecard.
func testEnv(t testing.TB) *Env {
	t.Helper()
	set, err := policy.LoadFS(os.DirFS("../../deploy/policies"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../deploy/risk/scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := risk.Load(b, "scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Policies: set, Scorecard: sc, Risk: risk.DefaultConfig(), Zone: CachedZones(time.LoadLocation)}
}

var day0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func ev(id string, at time.Time, body event.Body) event.Event {
	return event.Event{ID: id, Time: at, Source: "test", Account: "A1", Body: body}
}

// TestStepAndRoundTrip drives an account through upsert, invoice, time
// passing (wake-ups) and a payment, and checks the encoded state round-trips
// at every step and that dunning acted and then restored.
func TestStepAndRoundTrip(t *testing.T) {
	env := testEnv(t)
	st := &State{}
	check := func(step string) {
		t.Helper()
		b, err := st.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: marshal: %v", step, err)
		}
		var back State
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: unmarshal: %v", step, err)
		}
		b2, _ := back.MarshalBinary()
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("%s: state does not round-trip", step)
		}
	}
	steps := []event.Event{
		ev("e1", day0, &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email, event.SMS, event.Letter}}),
		ev("e2", day0, &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("120"), IssueDate: event.DateOf(day0), DueDate: event.DateOf(day0) + 14}),
	}
	for _, e := range steps {
		if _, err := Apply(st, e, e.Time, env); err != nil {
			t.Fatal(err)
		}
		check(e.ID)
	}
	var actions []event.DunningAction
	now := day0
	for i := 0; i < 60 && !st.WakeAt().IsZero(); i++ {
		now = st.WakeAt()
		out, err := Wake(st, "A1", now, env)
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, out.Actions...)
		check("wake")
		if st.Dunning.Service.String() != "ACTIVE" {
			break
		}
	}
	if len(actions) == 0 {
		t.Fatalf("no dunning action for an invoice %d days overdue", int(event.DateOf(now))-int(event.DateOf(day0)+14))
	}
	owed := st.Ledger.Balance("EUR", now).Open // the invoice plus any dunning fee
	out, err := Apply(st, ev("e3", now.Add(time.Hour), &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: owed}), now.Add(time.Hour), env)
	if err != nil {
		t.Fatal(err)
	}
	check("paid")
	if st.Dunning.Stage != "" && st.Dunning.InEpisode {
		t.Errorf("after full payment the account is still in stage %q", st.Dunning.Stage)
	}
	if b := st.Status(now).Balances; len(b) != 0 && b[0].Open != 0 {
		t.Errorf("balance after full payment = %+v", st.Status(now).Balances)
	}
	restored := false
	for _, a := range out.Actions {
		restored = restored || a.Type == event.ActionRestore
	}
	if !restored {
		t.Errorf("full payment of a suspended or barred account gave actions %+v, want a RESTORE", out.Actions)
	}
	t.Logf("%d actions before payment; state %d bytes", len(actions), len(mustMarshal(t, st)))
}

func mustMarshal(t testing.TB, st *State) []byte {
	b, err := st.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}
