package processor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

// TestExperimentAssignmentSurvives is the split test's real-stack part: a
// small postpaid book through the processor under a 10% challenger. The
// arms kept in Redis are the hash's; the processor is stopped (restart),
// Redis loses everything (the next owners restore the states from the
// status changelog), two instances share the partitions (rebalance) and
// the share moves to 20%: every account assigned before keeps its arm,
// the champions between 10% and 20% included, new accounts are assigned
// at 20%, and every action and the last status of every account carry
// the account's experiment and arm.
func TestExperimentAssignmentSurvives(t *testing.T) {
	const exp = "EXP-E2E"
	h := newHarness(t, 4)
	h.env = testkit.ExperimentEnv(t, "..", exp, 0.10)
	accts := func(from, n int) []string {
		var out []string
		for i := from; i < from+n; i++ {
			out = append(out, fmt.Sprintf("X-%04d", i))
		}
		return out
	}
	book := func(ids []string, at time.Time, tag string) []*kgo.Record {
		var recs []*kgo.Record
		for _, a := range ids {
			for j, b := range []event.Body{
				&event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email, event.SMS, event.Letter}},
				&event.InvoiceIssued{InvoiceID: "I" + tag + a, Currency: "EUR", Amount: event.MustAmount("60"), IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14},
			} {
				v, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, event.Event{
					ID: fmt.Sprintf("%s-%s-%d", tag, a, j), Time: at, Source: "test", Account: a, Body: b})
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, &kgo.Record{Key: []byte(a), Value: v})
			}
		}
		return recs
	}
	first, second := accts(0, 400), accts(400, 400)

	stop := h.start("a")
	h.produceAll(book(first, t0, "1"))
	h.produceAll(h.ticks(t0.Add(24 * time.Hour)))
	h.waitCaughtUp(h.group, 90*time.Second)
	stop()
	arms := map[string]bool{}
	challengers := 0
	for _, a := range first {
		st := h.state(a)
		if st == nil {
			t.Fatalf("%s: no state", a)
		}
		ch, ok := st.Dunning.ArmIn(exp)
		if !ok || ch != policy.Assign(exp, a, 0.10) {
			t.Fatalf("%s: arm %v (kept %v), the hash says %v", a, ch, ok, policy.Assign(exp, a, 0.10))
		}
		arms[a] = ch
		if ch {
			challengers++
		}
	}

	testkit.DeletePrefix(h.rdb, h.pref) // Redis lost everything: restore from the changelog
	h.env = testkit.ExperimentEnv(t, "..", exp, 0.20)
	stopB := h.start("b")
	stopC := h.start("c")
	later := t0.Add(35 * 24 * time.Hour)
	h.produceAll(append(book(first, later, "2"), book(second, later, "2")...))
	for d := 1; d <= 30; d++ { // the ladder's first stages for both invoices
		h.produceAll(h.ticks(later.Add(time.Duration(d) * 24 * time.Hour)))
	}
	h.waitCaughtUp(h.group, 120*time.Second)
	stopB()
	stopC()

	moved := 0
	for _, a := range first {
		ch, ok := h.state(a).Dunning.ArmIn(exp)
		if !ok || ch != arms[a] {
			t.Errorf("%s: arm %v after restart, rebalance and the share change, was %v", a, ch, arms[a])
		}
		if policy.Assign(exp, a, 0.20) != arms[a] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no account of the first book lies between 10% and 20%: the test proves nothing")
	}
	for _, a := range second {
		arms[a] = policy.Assign(exp, a, 0.20)
		if ch, ok := h.state(a).Dunning.ArmIn(exp); !ok || ch != arms[a] {
			t.Errorf("%s (new): arm %v kept %v, want the hash's at 20%% (%v)", a, ch, ok, arms[a])
		}
	}

	ctx := context.Background()
	byArm := map[string]int{}
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		a, err := h.codec.DecodeAction(ctx, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if a.ExperimentID != exp || a.Arm != policy.Arm(arms[a.Account]) {
			t.Fatalf("%s: action %s carries %q/%q, want %s/%s", a.Account, a.Type, a.ExperimentID, a.Arm, exp, policy.Arm(arms[a.Account]))
		}
		byArm[a.Arm]++
	}
	if byArm["champion"] == 0 || byArm["challenger"] == 0 {
		t.Fatalf("actions by arm %v", byArm)
	}
	last := map[string]event.AccountStatus{}
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Status, 1<<30, 5*time.Second) {
		if r.Value == nil {
			continue
		}
		s, err := h.codec.DecodeStatus(ctx, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		last[s.Account] = s
	}
	for a, ch := range arms {
		if s := last[a]; s.ExperimentID != exp || s.Arm != policy.Arm(ch) {
			t.Errorf("%s: last status carries %q/%q, want %s/%s", a, s.ExperimentID, s.Arm, exp, policy.Arm(ch))
		}
	}
	t.Logf("first book: %d of %d challengers at 10%%, %d would have moved at 20%%; actions by arm %v", challengers, len(first), moved, byArm)
}
