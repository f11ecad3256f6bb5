package bench

import (
	"cmp"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/workload"
)

// TestWakesOrder: wake-ups set, moved and cleared at random pop in (time,
// account) order, each live one exactly once, none that moved or was
// cleared.
func TestWakesOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := newWakes()
	want := map[string]int64{}
	for range 5000 {
		a := string(rune('a' + r.IntN(26)))
		a += string(rune('a' + r.IntN(26)))
		ms := int64(r.IntN(40)) // few instants, as policies make them; 0 clears
		w.set(a, ms)
		if ms == 0 {
			delete(want, a)
		} else {
			want[a] = ms
		}
	}
	type wake struct {
		at   int64
		acct string
	}
	var exp []wake
	for a, at := range want {
		if at <= 30 {
			exp = append(exp, wake{at, a})
		}
	}
	slices.SortFunc(exp, func(x, y wake) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.acct, y.acct)) })
	var got []wake
	for {
		a, at, ok := w.popDue(30)
		if !ok {
			break
		}
		got = append(got, wake{at, a})
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("popped %d wake-ups %v..., want %d %v...", len(got), got[:min(len(got), 5)], len(exp), exp[:min(len(exp), 5)])
	}
	for a, at := range want {
		if at > 30 && w.at[a] != at {
			t.Errorf("%s: wake-up %d lost after popping up to 30", a, at)
		}
	}
}

// TestCoreReplay: the pure core replays a small book: every event is
// counted, dunning ran (wake-ups fired), every account has an encoded
// state, and CPU and allocations were measured.
func TestCoreReplay(t *testing.T) {
	env := deployEnv(t)
	w := workload.Options{Seed: 7, Accounts: 300, Months: 3, Partitions: 3, TickEvery: time.Hour}
	n := 0
	for g := workload.New(w); ; n++ {
		if _, ok := g.Next(); !ok {
			break
		}
	}
	c, err := coreReplay(w, env, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if c.events != n || c.wakes == 0 || c.accounts != w.Accounts {
		t.Errorf("replayed %d of %d events, %d wake-ups, %d accounts encoded (want %d)", c.events, n, c.wakes, c.accounts, w.Accounts)
	}
	t.Logf("%d events, %d rejects, %d wake-ups: %.1f us CPU, %.1f allocs an event", c.events, c.rejects, c.wakes, us(c.cpu)/float64(c.events), float64(c.allocs)/float64(c.events))
	if c.cpu <= 0 || c.wall <= 0 || c.allocs == 0 {
		t.Errorf("cost not measured: %+v", c)
	}
}

// deployEnv is the core environment of the deploy directory's policies and
// scorecard.
func deployEnv(t *testing.T) *core.Env {
	t.Helper()
	cc := core.Defaults()
	env := &core.Env{Rules: cc.Rules(), Limits: cc.Limits(), Zone: core.CachedZones(time.LoadLocation), SkipExplanations: true}
	var err error
	if env.Policies, err = policy.LoadFS(os.DirFS("../../../deploy/policies")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../../deploy/risk/scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if env.Scorecard, err = risk.Load(b, "scorecard.yaml"); err != nil {
		t.Fatal(err)
	}
	return env
}
