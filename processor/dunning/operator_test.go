package dunning

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestGoldenOperator: a collector's account through the TimelyBill ladder.
// The customer prefers SMS (the email reminder goes by SMS), a call finds
// a wrong number, a cease-contact request withholds the follow-up SMS and
// is lifted before the final notice (a letter: not consented, so email), a
// VIP exemption routes the suspension to manual review until it ends, and
// a call-back asked for 22:30 (quiet hours) becomes the agent task at
// 08:00 the next morning, once.
func TestGoldenOperator(t *testing.T) {
	h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
	h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-OP", Currency: "USD", Amount: usd("89.90"), IssueDate: date("2024-07-15"), DueDate: date("2024-08-01")})
	h.ev("2024-08-02 10:00", &event.ContactPreferencesChanged{Consents: []event.Channel{event.SMS, event.Email}, Preferred: event.SMS})
	h.until("2024-08-06 12:00")
	h.ev("2024-08-06 12:30", &event.CallLogged{CallID: "CALL-1", Outcome: event.CallWrongNumber, Note: "not her number"})
	h.ev("2024-08-08 09:00", &event.CeaseContact{Active: true, Reason: "customer request"})
	h.until("2024-08-14 09:00")
	h.ev("2024-08-14 09:30", &event.CeaseContact{Active: false})
	h.until("2024-08-20 09:00")
	h.ev("2024-08-20 09:30", &event.ExemptionSet{Exemption: "VIP", Until: h.at("2024-08-30 12:00"), Reason: "key account review"})
	h.ev("2024-08-26 15:00", &event.CallbackScheduled{CallbackID: "CB-1", At: h.at("2024-08-27 22:30"), Note: "after work"})
	h.until("2024-09-05 00:00")
	h.check("operator")
	if cb := h.sim.State.Operator; cb == nil || len(cb.Callbacks) != 0 || cb.Calls != 1 || cb.Cease || len(cb.Exemptions) != 0 {
		t.Fatalf("operator state at the end: %+v", cb)
	}
	tasks := strings.Count(h.out.String(), "ACTION AGENT_TASK queue=pre_collections_call prio=1 stage=callback:CB-1")
	if tasks != 1 {
		t.Errorf("%d call-back tasks, want exactly 1", tasks)
	}
}

// TestGoldenCallbackCap: call-backs count against the contact cap (2 per
// 7 days): one asked for while two reminders are recent waits until the
// first ages out, and uses the event's queue.
func TestGoldenCallbackCap(t *testing.T) {
	pol := loadPolicy(t, "testdata/cap.yaml")
	acct := Input{Account: "ACC-CAP", Segment: event.Postpaid, Consents: allChannels}
	h := newHarness(t, pol, time.UTC, "2024-03-01 00:00", acct)
	h.ev("2024-03-01 09:00", &event.InvoiceIssued{InvoiceID: "INV-C", Currency: "EUR", Amount: event.MustAmount("40"), IssueDate: date("2024-03-01"), DueDate: date("2024-03-01")})
	h.until("2024-03-03 12:00")
	h.ev("2024-03-03 12:00", &event.CallbackScheduled{CallbackID: "CB-CAP", At: h.at("2024-03-03 13:00"), Queue: "retention"})
	h.until("2024-03-12 00:00")
	h.check("callback_cap")
	if n := strings.Count(h.out.String(), "stage=callback:CB-CAP"); n != 1 {
		t.Errorf("%d call-back tasks, want 1", n)
	}
}

func opEvent(body event.Body) event.Event {
	return event.Event{ID: "ev-op", Time: time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC), Source: "api:ann", Account: "ACC-OP", Body: body}
}

// TestApplyOperatorRefuses: what dunning refuses, with the sentinel the
// core maps to a dead-letter reason; the state is unchanged.
func TestApplyOperatorRefuses(t *testing.T) {
	pol := deployPolicy(t, "timelybill.yaml")
	now := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
	full := State{Operator: &Operator{}}
	for i := range MaxCallbacks {
		full.Operator.Callbacks = append(full.Operator.Callbacks, Callback{ID: string(rune('a' + i)), At: now.Add(time.Hour)})
	}
	m := Master{Exemptions: []string{"GOVERNMENT"}, Open: usd("50")}
	for name, tc := range map[string]struct {
		st    State
		body  event.Body
		noPol bool
		want  error
	}{
		"no flag":              {body: &event.ExemptionSet{}, want: ErrInvalidOperator},
		"clear unknown":        {body: &event.ExemptionCleared{Exemption: "VIP"}, want: ErrUnknownExemption},
		"preferred no consent": {body: &event.ContactPreferencesChanged{Consents: []event.Channel{event.Email}, Preferred: event.SMS}, want: ErrInvalidOperator},
		"unknown outcome":      {body: &event.CallLogged{CallID: "C"}, want: ErrInvalidOperator},
		"callback no policy":   {body: &event.CallbackScheduled{CallbackID: "CB", At: now}, noPol: true, want: ErrNoPolicy},
		"callback too far":     {body: &event.CallbackScheduled{CallbackID: "CB", At: now.AddDate(2, 0, 0)}, want: ErrOperatorLimit},
		"too many callbacks":   {st: full, body: &event.CallbackScheduled{CallbackID: "z", At: now}, want: ErrOperatorLimit},
		"write-off too large":  {body: &event.WriteOffRequested{WriteOffID: "W", Currency: "USD", Amount: usd("50.01")}, want: ErrWriteOffExceedsBalance},
		"write-off negative":   {body: &event.WriteOffRequested{WriteOffID: "W", Currency: "USD", Amount: -1}, want: ErrInvalidOperator},
		"write-off no policy":  {body: &event.WriteOffRequested{WriteOffID: "W", Currency: "USD"}, noPol: true, want: ErrNoPolicy},
	} {
		p := pol
		if tc.noPol {
			p = nil
		}
		got, err := ApplyOperator(tc.st, opEvent(tc.body), m, p, now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if !reflect.DeepEqual(got, tc.st) {
			t.Errorf("%s: state changed on error: %+v", name, got.Operator)
		}
	}
	// A write-off with nothing open in its currency.
	if _, err := ApplyOperator(State{}, opEvent(&event.WriteOffRequested{WriteOffID: "W", Currency: "EUR"}), Master{}, pol, now); !errors.Is(err, ErrWriteOffExceedsBalance) {
		t.Errorf("nothing open: %v", err)
	}
	// Other kinds pass unchanged.
	if got, err := ApplyOperator(State{Episode: 3}, opEvent(&event.NoteAdded{NoteID: "N", Text: "x"}), m, pol, now); err != nil || got.Episode != 3 || got.Operator != nil {
		t.Errorf("NoteAdded: %+v %v", got, err)
	}
}

// TestOperatorMasterData: operator exemptions and consents sit on the
// master data until newer master data with another list supersedes them.
func TestOperatorMasterData(t *testing.T) {
	pol := deployPolicy(t, "timelybill.yaml")
	now := time.Date(2024, 8, 20, 10, 0, 0, 0, time.UTC)
	in := sarah()
	in.Exemptions = []string{"GOVERNMENT"}
	in.Items = []Item{{InvoiceID: "I", Currency: "USD", DueDate: date("2024-07-26"), Open: usd("10")}}
	st := State{InEpisode: true, Episode: 1, Stage: "final_reminder", Actioned: []string{"initial_reminder", "follow_up_reminder", "final_reminder"}}
	var err error
	for _, b := range []event.Body{&event.ExemptionCleared{Exemption: "GOVERNMENT"}, &event.ContactPreferencesChanged{Consents: []event.Channel{event.Letter}}} {
		if st, err = ApplyOperator(st, opEvent(b), MasterOf(in, b), pol, now); err != nil {
			t.Fatal(err)
		}
	}
	// The master's GOVERNMENT is cleared: the suspension runs (no manual review).
	s1, d := Evaluate(st, in, pol, now, nil)
	if len(d.Actions) != 1 || d.Actions[0].Type != event.ActionSuspend {
		t.Fatalf("cleared exemption: %v (%s)", d.Actions, d.Explanation)
	}
	if s1.Operator == nil || !s1.Operator.ConsentsSet || len(s1.Operator.Cleared) != 1 {
		t.Fatalf("operator state lost: %+v", s1.Operator)
	}
	// New master data (another exemption list, other consents) wins.
	in.Exemptions, in.Consents = []string{"GOVERNMENT", "VIP"}, []event.Channel{event.Email}
	s2, d := Evaluate(st, in, pol, now, nil)
	if len(d.Actions) != 1 || d.Actions[0].Type != event.ActionManualReview {
		t.Fatalf("master exemptions again: %v (%s)", d.Actions, d.Explanation)
	}
	if s2.Operator != nil {
		t.Errorf("superseded operator state kept: %+v", s2.Operator)
	}
	if !strings.Contains(d.Explanation, "superseded by newer master data") {
		t.Errorf("explanation: %s", d.Explanation)
	}
}

// TestOperatorStateEncoding: the operator state round-trips (version 3,
// flags bit 16); a state without it encodes as before (version 2).
func TestOperatorStateEncoding(t *testing.T) {
	at := time.Date(2024, 8, 1, 10, 0, 0, 0, time.UTC)
	st := State{Episode: 2, InEpisode: true, Stage: "s", Actioned: []string{"s"}, NextWake: at.Add(time.Hour),
		Operator: &Operator{
			Exemptions: []Exemption{{Flag: "HARDSHIP", Until: at.Add(48 * time.Hour)}, {Flag: "VIP"}},
			Cleared:    []string{"GOVERNMENT"}, ClearedBase: []string{"GOVERNMENT", "X"},
			ConsentsSet: true, Consents: []event.Channel{event.Letter}, ConsentsBase: []event.Channel{event.Email, event.SMS},
			Preferred: event.Letter, Cease: true, CeaseSince: at.Add(-time.Minute),
			LastCall: event.CallRefused, LastCallAt: at.Add(-90 * time.Second), Calls: 7,
			Callbacks: []Callback{{ID: "CB-1", At: at.Add(26 * time.Hour), Queue: "q", Source: "api:ann"}, {ID: "CB-2", At: at.Add(27 * time.Hour)}},
		}}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != stateVersionV3 {
		t.Errorf("version %d, want %d", b[0], stateVersionV3)
	}
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got.Operator, st.Operator)
	}
	for n := 1; n < len(b); n++ { // every truncation is refused
		if err := new(State).UnmarshalBinary(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: accepted", n)
		}
	}
	st.Operator = nil
	if b, _ := st.MarshalBinary(); b[0] != stateVersion {
		t.Errorf("without operator state: version %d, want %d", b[0], stateVersion)
	}
}

// TestManualWriteOffDecision: a partial write-off covers the oldest
// invoice in full (the action lists it) and the next in part (a credit
// note, recorded as written off here); the account is then written off.
func TestManualWriteOffDecision(t *testing.T) {
	pol := deployPolicy(t, "timelybill.yaml")
	now := time.Date(2024, 8, 20, 10, 0, 0, 0, time.UTC)
	in := sarah()
	in.Items = []Item{{InvoiceID: "B", Currency: "USD", DueDate: date("2024-08-10"), Open: usd("30")},
		{InvoiceID: "A", Currency: "USD", DueDate: date("2024-07-10"), Open: usd("20")},
		{InvoiceID: "E", Currency: "EUR", DueDate: date("2024-07-01"), Open: usd("99")}}
	ev := opEvent(&event.WriteOffRequested{WriteOffID: "WO-1", Currency: "USD", Amount: usd("25"), Reason: "small balance"})
	st, err := ApplyOperator(State{}, ev, MasterOf(in, ev.Body), pol, now)
	if err != nil {
		t.Fatal(err)
	}
	in.Trigger = Trigger{Kind: event.KindWriteOffRequested, EventID: ev.ID}
	st, d := Evaluate(st, in, pol, now, nil)
	if len(d.Actions) != 1 || d.Actions[0].Type != event.ActionWriteOff || d.Actions[0].Amount != usd("25") ||
		!reflect.DeepEqual(d.Actions[0].Invoices, []string{"A"}) || d.Actions[0].Stage != "writeoff:WO-1" {
		t.Fatalf("actions %+v", d.Actions)
	}
	if !strings.Contains(d.Actions[0].Reason, "requested by api:ann: small balance") {
		t.Errorf("reason %q", d.Actions[0].Reason)
	}
	if len(d.GL) != 1 || d.GL[0].Amount != usd("25") || d.GL[0].DebitAccount != pol.GL.BadDebt || d.GL[0].CreditAccount != pol.GL.Receivables {
		t.Errorf("GL %+v", d.GL)
	}
	if len(d.CreditNotes) != 1 || d.CreditNotes[0].InvoiceID != "B" || d.CreditNotes[0].Amount != usd("5") {
		t.Errorf("credit notes %+v", d.CreditNotes)
	}
	if !st.IsWrittenOff() || st.Operator != nil {
		t.Errorf("after: written off %v, operator %+v", st.IsWrittenOff(), st.Operator)
	}
}
