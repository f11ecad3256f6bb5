package api

import (
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// viewEnv is the deploy directory's policies and scorecard, explaining.
func viewEnv(t *testing.T) *core.Env {
	env := testkit.DeployEnv(t, "../../..")
	env.SkipExplanations = false
	return env
}

// book applies events to one postpaid account, waking it at each time.
func book(t *testing.T, env *core.Env, evs ...event.Event) *core.State {
	st := &core.State{Account: "ACC-1"}
	for _, ev := range evs {
		ev.Account = st.Account
		if ev.Source == "" {
			ev.Source = "billing"
		}
		if _, err := core.Apply(st, ev, ev.Time, env); err != nil {
			t.Fatalf("apply %s: %v", ev.ID, err)
		}
		if w := st.WakeAt(); !w.IsZero() && !w.After(ev.Time) {
			if _, err := core.Wake(st, st.Account, ev.Time, env); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st
}

// TestAccountViewPromise: an overdue account shows its balances, items,
// stage and the next escalation; after a promise to pay it shows dunning
// paused by the arrangement with the next action on the promise date, the
// day the core checks it after the grace days, and why.
func TestAccountViewPromise(t *testing.T) {
	env := viewEnv(t)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	now := t0.Add(40 * 24 * time.Hour)
	st := book(t, env,
		event.Event{ID: "up", Time: t0, Body: &event.AccountUpserted{Segment: "postpaid", ParentID: "HH-9", Currency: "EUR",
			Consents: []event.Channel{event.Email, event.SMS}}},
		event.Event{ID: "inv", Time: t0, Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("80"),
			IssueDate: event.DateOf(t0), DueDate: event.DateOf(t0) + 1}},
		event.Event{ID: "tick", Time: now, Body: &event.ClockTick{}},
	)
	v := NewAccountView(st, now, env)
	if v.AccountID != "ACC-1" || v.Segment != "postpaid" || v.ParentID != "HH-9" || v.Currency != "EUR" || v.Closed {
		t.Errorf("master: %+v", v)
	}
	if len(v.Balances) != 1 || v.Balances[0].Overdue == "0.0000" || v.Balances[0].Currency != "EUR" {
		t.Errorf("balances %+v", v.Balances)
	}
	if len(v.OpenItems) == 0 || v.OpenItems[0].InvoiceID != "I1" || v.OpenItems[0].DaysPastDue != 39 {
		t.Errorf("open items %+v", v.OpenItems)
	}
	if v.Stage == "" || v.Paused != PausedNone || v.NextAction == nil || v.NextAction.Explanation == "" {
		t.Fatalf("before the promise: stage %q paused %q next %+v", v.Stage, v.Paused, v.NextAction)
	}
	if v.Policy == nil || v.Policy.Name != "postpaid-standard" || v.Policy.Version == "" {
		t.Errorf("policy %+v", v.Policy)
	}
	if v.Risk.Score == nil || len(v.Risk.Reasons) == 0 {
		t.Errorf("risk %+v: want a score with reasons", v.Risk)
	}
	if len(v.Consents) != 2 || v.Consents[0] != string(event.Email) {
		t.Errorf("consents %v", v.Consents)
	}

	due := event.DateOf(now) + 5
	st2 := book(t, env,
		event.Event{ID: "up", Time: t0, Body: &event.AccountUpserted{Segment: "postpaid", Currency: "EUR"}},
		event.Event{ID: "inv", Time: t0, Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("80"),
			IssueDate: event.DateOf(t0), DueDate: event.DateOf(t0) + 1}},
		event.Event{ID: "tick", Time: now, Body: &event.ClockTick{}},
		event.Event{ID: "ptp", Time: now, Source: "api:ann", Body: &event.ArrangementCreated{ArrangementID: "P1", Type: event.Promise,
			Currency: "EUR", Installments: []event.Installment{{DueDate: due, Amount: event.MustAmount("80")}}}},
	)
	p := NewAccountView(st2, now, env)
	if p.Paused != PausedArrangement || p.CollectionsStatus != core.CollectionsInArrangement {
		t.Errorf("after the promise: paused %q, collections %q", p.Paused, p.CollectionsStatus)
	}
	if p.Arrangement == nil || p.Arrangement.ID != "P1" || p.Arrangement.Type != "PROMISE" || p.Arrangement.NextDue != due.String() || p.Arrangement.Amount != "80.0000" {
		t.Errorf("arrangement %+v", p.Arrangement)
	}
	n := p.NextAction
	if n == nil || n.Type != NextArrangementDue || event.DateOf(n.At) != due || n.Explanation == "" {
		t.Fatalf("next action %+v: want %s on %s", n, NextArrangementDue, due)
	}
	if n.DecidedAt.Before(n.At) || len(n.Actions) == 0 || n.Actions[0].Type != string(event.ActionArrangementBroken) {
		t.Errorf("next action %+v: want the check after the grace days deciding ARRANGEMENT_BROKEN", n)
	}
}

// TestAccountViewOperator: what operators recorded shows as the next
// evaluation reads it: a master flag cleared, an operator flag added (and
// gone once its time passed), consents replaced, cease-contact, the last
// call and a pending call-back.
func TestAccountViewOperator(t *testing.T) {
	env := viewEnv(t)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	op := func(id string, at time.Time, b event.Body) event.Event {
		return event.Event{ID: id, Time: at, Source: "api:ann", Body: b}
	}
	st := book(t, env,
		event.Event{ID: "up", Time: t0, Body: &event.AccountUpserted{Segment: "postpaid", Currency: "EUR",
			Consents: []event.Channel{event.Email}, Exemptions: []string{"VIP"}}},
		event.Event{ID: "inv", Time: t0, Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("80"),
			IssueDate: event.DateOf(t0), DueDate: event.DateOf(t0) + 1}},
		op("x1", t0.Add(time.Hour), &event.ExemptionCleared{Exemption: "VIP", Reason: "no longer"}),
		op("x2", t0.Add(time.Hour), &event.ExemptionSet{Exemption: "HARDSHIP", Until: t0.Add(72 * time.Hour), Reason: "job loss"}),
		op("x3", t0.Add(time.Hour), &event.ContactPreferencesChanged{Consents: []event.Channel{event.SMS, event.Letter}, Preferred: event.SMS}),
		op("x4", t0.Add(time.Hour), &event.CeaseContact{Active: true, Reason: "asked"}),
		op("x5", t0.Add(2*time.Hour), &event.CallLogged{CallID: "C1", Outcome: event.CallReached}),
		op("x6", t0.Add(2*time.Hour), &event.CallbackScheduled{CallbackID: "CB1", At: t0.Add(50 * time.Hour), Queue: "collections"}),
	)
	v := NewAccountView(st, t0.Add(3*time.Hour), env)
	if len(v.Exemptions) != 1 || v.Exemptions[0] != "HARDSHIP" {
		t.Errorf("exemptions %v, want [HARDSHIP] (VIP cleared)", v.Exemptions)
	}
	if len(v.Consents) != 2 || !slices.Contains(v.Consents, string(event.SMS)) || !slices.Contains(v.Consents, string(event.Letter)) ||
		v.Preferred != string(event.SMS) {
		t.Errorf("consents %v preferred %q", v.Consents, v.Preferred)
	}
	if !v.CeaseContact || v.LastCall == nil || v.LastCall.Outcome != "REACHED" || !v.LastCall.At.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("cease %v last call %+v", v.CeaseContact, v.LastCall)
	}
	if len(v.Callbacks) != 1 || v.Callbacks[0].ID != "CB1" || v.Callbacks[0].Queue != "collections" {
		t.Errorf("callbacks %+v", v.Callbacks)
	}
	if later := NewAccountView(st, t0.Add(100*time.Hour), env); len(later.Exemptions) != 0 {
		t.Errorf("after the exemption's end: %v", later.Exemptions)
	}
}
