package bench

import (
	"os"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/workload"
)

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
