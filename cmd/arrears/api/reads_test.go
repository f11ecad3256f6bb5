package api

import (
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
