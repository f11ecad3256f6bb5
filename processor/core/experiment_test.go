package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

const expID = "EXP-2026-12"

var expDay0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// book applies an upsert and an invoice to each of n accounts from first,
// round-tripping every state through its encoding (as the store does on a
// restart or a rebalance), and returns the states.
func book(t *testing.T, env *core.Env, states map[string]*core.State, first, n int, at time.Time) {
	t.Helper()
	for i := first; i < first+n; i++ {
		acct := fmt.Sprintf("ACC-%06d", i)
		st := states[acct]
		if st == nil {
			st = &core.State{Account: acct}
			states[acct] = st
		}
		for j, b := range []event.Body{
			&event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR", Consents: []event.Channel{event.Email, event.SMS, event.Letter}},
			&event.InvoiceIssued{InvoiceID: fmt.Sprintf("I-%d", at.Unix()), Currency: "EUR", Amount: event.MustAmount("80"), IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14},
		} {
			e := event.Event{ID: fmt.Sprintf("%s-%d-%d", acct, at.Unix(), j), Time: at, Source: "test", Account: acct, Body: b}
			out, err := core.Apply(st, e, at, env)
			if err != nil {
				t.Fatal(err)
			}
			if j == 1 && !out.Changed {
				t.Fatalf("%s: invoice did not change the state", acct)
			}
		}
		roundTrip(t, st)
	}
}

func roundTrip(t *testing.T, st *core.State) {
	t.Helper()
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := core.State{Account: st.Account}
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	*st = back
}

func arms(states map[string]*core.State) (challengers int, arm map[string]bool) {
	arm = map[string]bool{}
	for acct, st := range states {
		ch, ok := st.Dunning.ArmIn(expID)
		if !ok {
			continue
		}
		arm[acct] = ch
		if ch {
			challengers++
		}
	}
	return challengers, arm
}

// TestExperimentSticky: accounts are assigned when first evaluated under
// the experiment, by the hash, and the arm survives the state's encoding
// (restart, rebalance: the next owner restores the same bytes). Moving the
// share to 20% keeps every account already assigned where it was (the
// champions among them too) and assigns new accounts at 20%. Actions and
// status carry the experiment and arm, and challenger accounts are dunned
// by the challenger policy. Dropping the experiment (a policy change)
// takes it off the outputs.
func TestExperimentSticky(t *testing.T) {
	const n = 3000
	env10 := testkit.ExperimentEnv(t, "../..", expID, 0.10)
	states := map[string]*core.State{}
	book(t, env10, states, 0, n, expDay0)
	ch10, first := arms(states)
	if len(first) != n {
		t.Fatalf("%d of %d accounts assigned", len(first), n)
	}
	for acct, ch := range first {
		if ch != policy.Assign(expID, acct, 0.10) {
			t.Fatalf("%s: arm %v is not the hash's", acct, ch)
		}
		s := states[acct].Status(expDay0)
		if s.ExperimentID != expID || s.Arm != policy.Arm(ch) {
			t.Fatalf("%s: status experiment %q arm %q, want %s %s", acct, s.ExperimentID, s.Arm, expID, policy.Arm(ch))
		}
	}
	if share := float64(ch10) / n; share < 0.08 || share > 0.12 {
		t.Fatalf("challenger share %.3f at 10%%", share)
	}

	// Wake the accounts through the ladder: every action carries the arm,
	// and the challenger's ladder has no fee.
	fees := map[bool]int{}
	for acct, st := range states {
		for w := st.WakeAt(); !w.IsZero() && w.Before(expDay0.AddDate(0, 0, 40)); w = st.WakeAt() {
			out, err := core.Wake(st, acct, w, env10)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range out.Actions {
				if a.ExperimentID != expID || a.Arm != policy.Arm(first[acct]) {
					t.Fatalf("%s: action %s carries %q/%q", acct, a.Type, a.ExperimentID, a.Arm)
				}
				if want := map[bool]string{true: testkit.ExperimentChallenger, false: "postpaid-standard"}[first[acct]]; a.PolicyName != want {
					t.Fatalf("%s (%s): action by %s, want %s", acct, a.Arm, a.PolicyName, want)
				}
				if a.Type == event.ActionFee {
					fees[first[acct]]++
				}
			}
			roundTrip(t, st)
		}
	}
	if fees[true] != 0 || fees[false] == 0 {
		t.Fatalf("fees by arm %v: the challenger has none, the champion some", fees)
	}

	// Share 20%: the first n keep their arms; n new accounts get 20%.
	env20 := testkit.ExperimentEnv(t, "../..", expID, 0.20)
	later := expDay0.AddDate(0, 2, 0)
	book(t, env20, states, 0, 2*n, later)
	_, now := arms(states)
	moved, wouldMove, newCh := 0, 0, 0
	for acct, ch := range now {
		if was, ok := first[acct]; ok {
			if ch != was {
				moved++
			}
			if policy.Assign(expID, acct, 0.20) != was {
				wouldMove++
			}
			continue
		}
		if ch {
			newCh++
		}
	}
	if moved != 0 {
		t.Fatalf("%d accounts changed arm when the share moved", moved)
	}
	if wouldMove == 0 {
		t.Fatal("no account of the first book lies between 10% and 20%: the test proves nothing")
	}
	if share := float64(newCh) / n; share < 0.17 || share > 0.23 {
		t.Fatalf("new accounts' challenger share %.3f at 20%%", share)
	}
	t.Logf("first %d: %d challengers; %d would have moved without stickiness; next %d: %d challengers", n, ch10, wouldMove, n, newCh)

	// Drop: the champion without its challenger section (a policy
	// change). Outputs carry no experiment; the arm stays in the state.
	envDrop := testkit.DeployEnv(t, "../..")
	book(t, envDrop, states, 0, 10, later.AddDate(0, 1, 0))
	for i := 0; i < 10; i++ {
		st := states[fmt.Sprintf("ACC-%06d", i)]
		if s := st.Status(later); s.ExperimentID != "" || s.Arm != "" {
			t.Fatalf("after the drop the status carries %q/%q", s.ExperimentID, s.Arm)
		}
		if _, ok := st.Dunning.ArmIn(expID); !ok {
			t.Fatal("the drop forgot the assignment")
		}
	}
}

// TestExperimentPromote: promoting the challenger is applying the champion
// with the challenger's ladder and no challenger section. From then on
// every account, of either arm, is dunned by the promoted ladder (no fee
// stage) under the champion's name and new version, with no experiment on
// its outputs.
func TestExperimentPromote(t *testing.T) {
	env := testkit.ExperimentEnv(t, "../..", expID, 0.5)
	states := map[string]*core.State{}
	book(t, env, states, 0, 200, expDay0)
	files, err := testkit.ExperimentFiles("../..", expID, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	var promoted []policy.File
	for _, f := range files {
		switch f.Name {
		case "postpaid-soft.yaml":
			text := strings.Replace(string(f.Data), "name: "+testkit.ExperimentChallenger, "name: postpaid-standard", 1)
			promoted = append(promoted, policy.File{Name: "postpaid.yaml", Data: []byte(strings.Replace(text, "  priority: -1\n", "  priority: 0\n", 1))})
		case "postpaid.yaml":
		default:
			promoted = append(promoted, f)
		}
	}
	set, err := policy.LoadSet(promoted)
	if err != nil {
		t.Fatal(err)
	}
	env.Policies = set
	version := set.Get("postpaid-standard").Version
	later := expDay0.AddDate(0, 2, 0)
	book(t, env, states, 0, 200, later)
	arms := map[bool]int{}
	actions := 0
	for acct, st := range states {
		ch, _ := st.Dunning.ArmIn(expID)
		arms[ch]++
		for w := st.WakeAt(); !w.IsZero() && w.Before(later.AddDate(0, 0, 40)); w = st.WakeAt() {
			out, err := core.Wake(st, acct, w, env)
			if err != nil {
				t.Fatal(err)
			}
			actions += len(out.Actions)
			for _, a := range out.Actions {
				if a.ExperimentID != "" || a.Arm != "" || a.PolicyName != "postpaid-standard" || a.PolicyVersion != version || a.Type == event.ActionFee {
					t.Fatalf("%s (was challenger %v): after the promotion %s by %s@%s carries %q/%q", acct, ch, a.Type, a.PolicyName, a.PolicyVersion, a.ExperimentID, a.Arm)
				}
			}
		}
		if s := st.Status(later); s.ExperimentID != "" {
			t.Fatalf("%s: status still in %s", acct, s.ExperimentID)
		}
	}
	if arms[true] == 0 || arms[false] == 0 || actions < len(states) {
		t.Fatalf("arms %v, %d actions: both arms must have been dunned after the promotion", arms, actions)
	}
}
