package bench

import (
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// TestCoreReplay: the pure core replays a small book: every event is
// counted, dunning ran (wake-ups fired), every account has an encoded
// state, and CPU and allocations were measured.
func TestCoreReplay(t *testing.T) {
	env := testkit.DeployEnv(t, "../../..")
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
