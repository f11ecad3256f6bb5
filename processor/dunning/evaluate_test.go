package dunning

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestReplayDeterministic runs the TimelyBill scenario with and without
// the state going through MarshalBinary between steps: the decisions,
// action ids included, must be identical, and so must a second run.
func TestReplayDeterministic(t *testing.T) {
	run := func(roundTrip bool) string {
		h := newHarness(t, deployPolicy(t, "timelybill.yaml"), zone(t, "Europe/Berlin"), "2024-07-15 00:00", sarah())
		h.roundTrip = roundTrip
		h.ev("2024-07-15 09:00", &event.InvoiceIssued{InvoiceID: "INV-2407", Currency: "USD", Amount: usd("89.90"), DueDate: date("2024-08-01")})
		h.until("2024-08-27 10:00")
		h.ev("2024-08-27 10:30", &event.ArrangementCreated{ArrangementID: "PLAN-1", Type: event.InstallmentPlan, Currency: "USD",
			Installments: []event.Installment{{DueDate: date("2024-09-15"), Amount: usd("45")}, {DueDate: date("2024-10-15"), Amount: usd("44.90")}}})
		h.until("2024-11-01 00:00")
		return h.out.String()
	}
	a, b, c := run(false), run(true), run(true)
	if a != b || b != c {
		t.Fatalf("replay differs:\n%s\n----\n%s", a, b)
	}
	if !strings.Contains(a, "ARRANGEMENT_BROKEN") || !strings.Contains(a, "RESTORE") {
		t.Fatalf("scenario lost its point:\n%s", a)
	}
}

func TestStateCodec(t *testing.T) {
	now := time.UnixMilli(1722470400123).UTC()
	st := State{
		Episode: 3, InEpisode: true, Stage: "suspension", StageEntered: now, Actioned: []string{"a", "b"},
		Service: ServiceBarred,
		Arrangement: &Arrangement{ID: "P", Type: event.InstallmentPlan, Currency: "EUR", Created: now,
			Installments: []event.Installment{{DueDate: 20000, Amount: 5}, {DueDate: 20030, Amount: 7}},
			Paid:         5, Payments: []Payment{{ID: "x", Amount: 5}}, Met: 1},
		Holds:             []Hold{{ID: "h", Until: now.Add(time.Hour)}},
		DisputeGraceUntil: now.Add(2 * time.Hour), Resume: "final", ShiftDays: -2, PausedSince: now,
		Deferred: []Deferred{{Stage: "s", Index: 2, Channel: event.SMS, At: now}},
		Contacts: []time.Time{now, now.Add(time.Minute)}, NextWake: now.Add(24 * time.Hour),
	}
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, st)
	}
	var zero State
	zb, _ := zero.MarshalBinary()
	if len(zb) > 16 {
		t.Errorf("empty state encodes to %d bytes", len(zb))
	}
	if err := got.UnmarshalBinary(append([]byte{9}, b[1:]...)); !errors.Is(err, ErrStateVersion) {
		t.Errorf("bad version: %v", err)
	}
	for i := 0; i < len(b); i++ {
		var s State
		if err := s.UnmarshalBinary(b[:i]); err == nil {
			t.Errorf("truncated at %d accepted", i)
		}
	}
}

func FuzzStateUnmarshal(f *testing.F) {
	st := State{Episode: 1, InEpisode: true, Stage: "x", Actioned: []string{"x"}, Holds: []Hold{{ID: "h"}},
		Arrangement: &Arrangement{ID: "a", Installments: []event.Installment{{DueDate: 1, Amount: 1}}}}
	b, _ := st.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1})
	armed, _ := st.InExperiment("EXP-1", true) // version 3 (experiment.go)
	b, _ = armed.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if err := s.UnmarshalBinary(data); err != nil {
			return
		}
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 State
		if err := s2.UnmarshalBinary(b); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func TestApplyEventErrors(t *testing.T) {
	pol := deployPolicy(t, "timelybill.yaml")
	now := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	plan := &event.ArrangementCreated{ArrangementID: "A", Type: event.Promise, Currency: "USD",
		Installments: []event.Installment{{DueDate: date("2024-08-10"), Amount: usd("10")}}}
	base, err := ApplyEvent(State{}, event.Event{ID: "e0", Body: plan}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	base, err = ApplyEvent(base, event.Event{ID: "e1", Body: &event.Hold{HoldID: "H", Until: now.Add(time.Hour)}}, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body event.Body
		want error
	}{
		{"no arrangement id", &event.ArrangementCreated{Type: event.Promise, Currency: "USD", Installments: plan.Installments}, ErrInvalidArrangement},
		{"no installments", &event.ArrangementCreated{ArrangementID: "B", Type: event.Promise, Currency: "USD"}, ErrInvalidArrangement},
		{"negative installment", &event.ArrangementCreated{ArrangementID: "B", Type: event.Promise, Currency: "USD",
			Installments: []event.Installment{{DueDate: 1, Amount: -1}}}, ErrInvalidArrangement},
		{"unordered installments", &event.ArrangementCreated{ArrangementID: "B", Type: event.InstallmentPlan, Currency: "USD",
			Installments: []event.Installment{{DueDate: 5, Amount: 1}, {DueDate: 4, Amount: 1}}}, ErrInvalidArrangement},
		{"bad type", &event.ArrangementCreated{ArrangementID: "B", Currency: "USD", Installments: plan.Installments}, ErrInvalidArrangement},
		{"cancel unknown", &event.ArrangementCancelled{ArrangementID: "Z"}, ErrUnknownArrangement},
		{"hold without id", &event.Hold{Until: now}, ErrInvalidHold},
		{"release unknown", &event.Release{HoldID: "Z"}, ErrUnknownHold},
		{"repeat arrangement", plan, nil},
		{"invoice is a no-op", &event.InvoiceIssued{InvoiceID: "I"}, nil},
		{"cancel", &event.ArrangementCancelled{ArrangementID: "A"}, nil},
		{"release", &event.Release{HoldID: "H"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := base.MarshalBinary()
			got, err := ApplyEvent(base, event.Event{ID: "e", Body: tc.body}, pol, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			after, _ := base.MarshalBinary()
			if string(before) != string(after) {
				t.Fatal("ApplyEvent modified its input state")
			}
			if err != nil {
				if g, _ := got.MarshalBinary(); string(g) != string(before) {
					t.Fatal("state changed on error")
				}
			}
		})
	}
}

// step runs one evaluation of a single overdue invoice at days past due.
func step(t *testing.T, policyFile string, in Input, st State, dpd int) (State, Decision) {
	t.Helper()
	due := date("2024-08-01")
	in.Items = []Item{{InvoiceID: "INV-1", Currency: "EUR", DueDate: due, Open: usd("100")}}
	now := due.Time().Add(time.Duration(dpd)*24*time.Hour + 12*time.Hour) // noon UTC
	return Evaluate(st, in, deployPolicy(t, policyFile), now, time.UTC)
}

func types(d Decision) string {
	var s []string
	for _, a := range d.Actions {
		x := string(a.Type)
		if a.Channel != "" {
			x += ":" + string(a.Channel)
		}
		s = append(s, x)
	}
	return strings.Join(s, ",")
}

func TestEvaluateRules(t *testing.T) {
	in := Input{Account: "A", Segment: event.Postpaid, Consents: allChannels}
	t.Run("within grace nothing happens", func(t *testing.T) {
		_, d := step(t, "postpaid.yaml", in, State{}, 2)
		if len(d.Actions) != 0 || d.NextWake.IsZero() {
			t.Fatalf("actions %s wake %v", types(d), d.NextWake)
		}
	})
	t.Run("below minimum nothing happens", func(t *testing.T) {
		st, d := Evaluate(State{}, Input{Account: "A", Items: []Item{{InvoiceID: "I", Currency: "EUR", DueDate: date("2024-08-01"), Open: usd("4.99")}}},
			deployPolicy(t, "postpaid.yaml"), time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC), time.UTC)
		if len(d.Actions) != 0 || st.InEpisode || !strings.Contains(d.Explanation, "below minimum") {
			t.Fatalf("%s: %s", types(d), d.Explanation)
		}
	})
	t.Run("first look late in the ladder sends one notice", func(t *testing.T) {
		_, d := step(t, "postpaid.yaml", in, State{}, 22)
		if got := types(d); got != "FEE,BAR_OUTGOING,NOTIFY:sms" {
			t.Fatalf("actions %s: %s", got, d.Explanation)
		}
		if len(d.GL) != 1 || len(d.DebitNotes) != 1 || d.DebitNotes[0].Type != event.Debit || d.DebitNotes[0].InvoiceID != "INV-1" {
			t.Fatalf("fee effects %+v %+v", d.GL, d.DebitNotes)
		}
	})
	t.Run("grace_days condition shows the grace days", func(t *testing.T) {
		_, d := step(t, "postpaid.yaml", in, State{}, 5) // postpaid: grace_days 2
		if len(d.Actions) != 1 {
			t.Fatalf("actions %s", types(d))
		}
		var got []string
		for _, c := range d.Actions[0].Conditions {
			got = append(got, c.Name+" "+c.Value+" "+c.Rule)
		}
		if !slices.Contains(got, "grace_days 2 < days_past_due 5") || !slices.Contains(got, "days_past_due 5 >= 3") {
			t.Fatalf("conditions %q", got)
		}
	})
	t.Run("stages are not re-sent", func(t *testing.T) {
		st, d := step(t, "postpaid.yaml", in, State{}, 3)
		if types(d) != "NOTIFY:email" {
			t.Fatalf("first: %s", types(d))
		}
		_, d = step(t, "postpaid.yaml", in, st, 4)
		if len(d.Actions) != 0 {
			t.Fatalf("second: %s", types(d))
		}
	})
	t.Run("no consent falls back, then skips", func(t *testing.T) {
		x := in
		x.Consents = []event.Channel{event.Push}
		_, d := step(t, "postpaid.yaml", x, State{}, 3)
		if types(d) != "NOTIFY:push" || !strings.Contains(d.Actions[0].Reason, "instead of email") {
			t.Fatalf("fallback: %s %v", types(d), d.Actions)
		}
		x.Consents = nil
		_, d = step(t, "postpaid.yaml", x, State{}, 3)
		if len(d.Actions) != 0 || !strings.Contains(d.Explanation, "no consent") {
			t.Fatalf("skip: %s %s", types(d), d.Explanation)
		}
	})
	t.Run("exemption routes to manual review", func(t *testing.T) {
		x := in
		x.Exemptions = []string{"VIP"}
		_, d := step(t, "postpaid.yaml", x, State{}, 22)
		if types(d) != "MANUAL_REVIEW" || d.Actions[0].Queue != "customer_care_review" || len(d.GL) != 0 {
			t.Fatalf("%s %+v", types(d), d.Actions)
		}
	})
	t.Run("risk tier stage is skipped for others", func(t *testing.T) {
		st := State{Episode: 1, InEpisode: true, Stage: "collections_call", Actioned: []string{"collections_call"}, Service: ServiceSuspended}
		x := in
		x.RiskTier = "LOW"
		_, d := step(t, "postpaid.yaml", x, st, 46)
		if len(d.Actions) != 0 || !strings.Contains(d.Explanation, "high_risk_call passed over") {
			t.Fatalf("%s: %s", types(d), d.Explanation)
		}
		x.RiskTier = "HIGH"
		_, d = step(t, "postpaid.yaml", x, st, 46)
		if types(d) != "AGENT_TASK" || d.Actions[0].Queue != "collections_senior" {
			t.Fatalf("%s: %s", types(d), d.Explanation)
		}
	})
	t.Run("write-off", func(t *testing.T) {
		st := State{Episode: 1, InEpisode: true, Stage: "agency", Service: ServiceSuspended}
		_, d := step(t, "postpaid.yaml", in, st, 181)
		if types(d) != "WRITE_OFF" || len(d.GL) != 1 || d.GL[0].Kind != "WRITE_OFF" || d.GL[0].Amount != usd("100") ||
			d.GL[0].DebitAccount != "6800" || d.GL[0].CreditAccount != "1200" {
			t.Fatalf("%s %+v", types(d), d.GL)
		}
	})
	t.Run("no policy", func(t *testing.T) {
		_, d := Evaluate(State{}, in, nil, time.Now(), nil)
		if len(d.Actions) != 0 || !d.NextWake.IsZero() {
			t.Fatal(d)
		}
	})
	t.Run("full payment restores at once", func(t *testing.T) {
		st := State{Episode: 1, InEpisode: true, Stage: "suspension", Actioned: []string{"suspension"}, Service: ServiceSuspended}
		x := in
		x.Trigger = Trigger{Kind: event.KindPaymentReceived, PaymentID: "P", Currency: "EUR", Amount: usd("100")}
		st2, d := Evaluate(st, x, deployPolicy(t, "postpaid.yaml"), time.Date(2024, 9, 1, 12, 0, 0, 0, time.UTC), time.UTC)
		if types(d) != "RESTORE" || st2.InEpisode || st2.Service != ServiceActive || st.Service != ServiceSuspended {
			t.Fatalf("%s %+v", types(d), st2)
		}
	})
}

// TestQuietDecidesTheSame: SkipExplanation only drops the explanation; state, actions
// (with their reasons), wake-ups and effects are identical at every day of
// the ladder.
func TestQuietDecidesTheSame(t *testing.T) {
	in := Input{Account: "A", Segment: event.Postpaid, Consents: allChannels}
	quiet := in
	quiet.SkipExplanation = true
	var st, qst State
	for dpd := 0; dpd <= 60; dpd++ {
		var d, qd Decision
		st, d = step(t, "postpaid.yaml", in, st, dpd)
		qst, qd = step(t, "postpaid.yaml", quiet, qst, dpd)
		if qd.Explanation != "" || d.Explanation == "" {
			t.Fatalf("day %d: explanations %q (quiet) and %q", dpd, qd.Explanation, d.Explanation)
		}
		d.Explanation = ""
		if !reflect.DeepEqual(st, qst) || !reflect.DeepEqual(d, qd) {
			t.Fatalf("day %d: quiet decided differently:\n%+v\n%+v", dpd, d, qd)
		}
	}
}

// TestLimits: a hold until 9999, an arrangement past the horizon or with
// too many installments are refused (issue 11: a hold until 9999 was
// accepted); within the limits they are taken; a repeat of the active
// arrangement with other installments is a conflict.
func TestLimits(t *testing.T) {
	now := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	today := event.DateOf(now)
	plan := func(id string, n int, step event.Date) *event.ArrangementCreated {
		a := &event.ArrangementCreated{ArrangementID: id, Type: event.InstallmentPlan, Currency: "EUR"}
		for i := range n {
			a.Installments = append(a.Installments, event.Installment{DueDate: today + event.Date(i+1)*step, Amount: usd("10")})
		}
		return a
	}
	tests := []struct {
		name string
		lim  Limits
		body event.Body
		want error
	}{
		{"hold until 9999", Limits{}, &event.Hold{HoldID: "H", Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrHoldTooLong},
		{"hold of 91 days", Limits{}, &event.Hold{HoldID: "H", Until: now.AddDate(0, 0, 91)}, ErrHoldTooLong},
		{"hold of 90 days", Limits{}, &event.Hold{HoldID: "H", Until: now.AddDate(0, 0, 90)}, nil},
		{"hold of 10 days, max 5", Limits{MaxHoldDays: 5}, &event.Hold{HoldID: "H", Until: now.AddDate(0, 0, 10)}, ErrHoldTooLong},
		{"plan past the horizon", Limits{}, plan("A", 13, 30), ErrArrangementTooLong},
		{"plan within the horizon", Limits{}, plan("A", 12, 30), nil},
		{"too many installments", Limits{}, plan("A", 53, 6), ErrArrangementTooLong},
		{"52 installments", Limits{}, plan("A", 52, 7), nil},
		{"4 installments, max 3", Limits{MaxInstallments: 3}, plan("A", 4, 7), ErrArrangementTooLong},
		{"installment due in 1970", Limits{}, &event.ArrangementCreated{ArrangementID: "A", Type: event.Promise, Currency: "EUR",
			Installments: []event.Installment{{DueDate: 1, Amount: 1}}}, ErrArrangementTooLong},
		{"installment above the maximum amount", Limits{}, &event.ArrangementCreated{ArrangementID: "A", Type: event.Promise, Currency: "EUR",
			Installments: []event.Installment{{DueDate: today + 1, Amount: 1 << 61}}}, ErrInvalidArrangement},
	}
	for _, tc := range tests {
		_, err := tc.lim.ApplyEvent(State{}, event.Event{ID: "e", Body: tc.body}, nil, now)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	st, err := ApplyEvent(State{}, event.Event{ID: "e", Body: plan("A", 3, 30)}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyEvent(st, event.Event{ID: "f", Body: plan("A", 3, 30)}, nil, now); err != nil {
		t.Errorf("identical repeat: %v", err)
	}
	if _, err := ApplyEvent(st, event.Event{ID: "f", Body: plan("A", 2, 30)}, nil, now); !errors.Is(err, ErrArrangementConflict) {
		t.Errorf("repeat with other installments: %v", err)
	}
}

// richState sets every field of State (testdata/state_v1.bin is its
// version-1 encoding).
func richState() State {
	at := time.Date(2024, 8, 1, 10, 30, 15, 250_000_000, time.UTC)
	return State{Episode: 3, InEpisode: true, Stage: "suspension", StageEntered: at, Actioned: []string{"reminder", "suspension"},
		Service: ServiceSuspended,
		Arrangement: &Arrangement{ID: "AR-1", Type: event.InstallmentPlan, Currency: "EUR", Created: at.Add(time.Hour),
			Installments: []event.Installment{{DueDate: event.DateOf(at) + 10, Amount: 5000}, {DueDate: event.DateOf(at) + 40, Amount: 7000}},
			Paid:         5000, Payments: []Payment{{ID: "P1", Amount: 5000}}, Met: 1},
		Holds: []Hold{{ID: "H1", Until: at.AddDate(0, 0, 5)}}, DisputeGraceUntil: at.Add(-time.Minute), Resume: "reminder", ShiftDays: -2,
		PausedSince: at.Add(2 * time.Second), Deferred: []Deferred{{Stage: "suspension", Index: 1, Channel: event.SMS, At: at.Add(9 * time.Hour)}, {Stage: "other", Channel: event.Email, At: at}},
		Contacts: []time.Time{at.Add(-48 * time.Hour), at}, NextWake: at.AddDate(0, 0, 1)}
}

// TestStateVersion1: a version-1 state decodes to the same State, and the
// version-2 encoding is smaller and round-trips.
func TestStateVersion1(t *testing.T) {
	v1, err := os.ReadFile("testdata/state_v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	var got State
	if err := got.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	if want := richState(); !reflect.DeepEqual(got, want) {
		t.Fatalf("version 1 decodes to\n%+v\nwant\n%+v", got, want)
	}
	v2, _ := got.MarshalBinary()
	var back State
	if err := back.UnmarshalBinary(v2); err != nil || !reflect.DeepEqual(back, got) {
		t.Fatalf("version 2 round trip: %v\n%+v", err, back)
	}
	if len(v2) >= len(v1) {
		t.Errorf("version 2 takes %d bytes, version 1 %d", len(v2), len(v1))
	}
	t.Logf("version 1: %d bytes, version 2: %d bytes", len(v1), len(v2))
}
