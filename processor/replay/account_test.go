package replay_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/replay"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// seen is what an observer saw of one step.
type seen struct {
	at       time.Time
	wake     bool
	changed  bool
	next     time.Time
	actions  string
	balance  string
	deferred int
}

func observeInto(m map[string][]seen) replay.Observer {
	return func(acct string, st *core.State, out *core.Output, at time.Time, ev *event.Event) {
		var ids []string
		for _, a := range out.Actions {
			ids = append(ids, a.ActionID+"/"+string(a.Type)+"@"+a.Time.UTC().Format(time.RFC3339))
		}
		m[acct] = append(m[acct], seen{at: at, wake: ev == nil, changed: out.Changed, next: out.NextWake,
			actions: strings.Join(ids, ","), balance: fmt.Sprint(st.Ledger.Balances(at)), deferred: len(st.Dunning.Deferred)})
	}
}

// TestAccountMajorAgrees replays a generated book (12 partitions, hourly
// clock ticks, every ninth event made 30 hours late so that clocks and
// events disagree) through a Book in partition order and account by
// account with the partition clocks of one pass: every account sees the
// same steps (times, wake-ups, actions, next wake-ups, balance, deferred
// contacts) in the same order, with the same rejects and wake-up counts.
func TestAccountMajorAgrees(t *testing.T) {
	o := workload.Options{Seed: 5, Accounts: 800, Months: 3, Partitions: 12, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	env := testkit.DeployEnv(t, "../..")
	until := o.Start.AddDate(0, o.Months, 2)
	partOf := func(a string) int32 { return kafkax.PartitionFor([]byte(a), int32(o.Partitions)) }

	bookSaw := map[string][]seen{}
	b := replay.New(env, replay.Options{Partitions: o.Partitions, PartitionOf: partOf, Observe: observeInto(bookSaw)})
	clocks := make([]int64, o.Partitions)
	steps := map[string][]replay.Step{}
	last := map[string]int32{}
	n := 0
	for g := workload.New(o); ; n++ {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if n%9 == 4 && ev.Account != "" {
			ev.Time = ev.Time.Add(-30 * time.Hour)
		}
		if err := b.Step(ev); err != nil {
			t.Fatal(err)
		}
		p := int32(0)
		if tk, ok := ev.Body.(*event.ClockTick); ok {
			p = tk.Partition
		} else {
			p = partOf(ev.Account)
		}
		clocks[p] = max(clocks[p], ev.Time.UnixMilli())
		if ev.Account != "" {
			steps[ev.Account] = append(steps[ev.Account], replay.Step{Clock: clocks[p], Event: &ev})
			last[ev.Account] = p
		}
	}
	if err := b.AdvanceAll(until); err != nil {
		t.Fatal(err)
	}

	accSaw := map[string][]seen{}
	a := replay.NewAccount(env, observeInto(accSaw))
	for id, ss := range steps {
		if err := a.Replay(id, ss, max(clocks[last[id]], until.UnixMilli())); err != nil {
			t.Fatal(err)
		}
	}
	if a.Rejects != b.Rejects || a.Wakes != b.Wakes {
		t.Errorf("rejects %d, wake-ups %d account by account; %d and %d in a book", a.Rejects, a.Wakes, b.Rejects, b.Wakes)
	}
	if b.Wakes == 0 || b.Rejects == 0 {
		t.Errorf("a book that tests nothing: %d wake-ups, %d rejects", b.Wakes, b.Rejects)
	}
	actions := 0
	for id, want := range bookSaw {
		got := accSaw[id]
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("account %s, step %d of %d: %+v account by account, %+v in a book", id, i, len(want), got[i], want[i])
				}
			}
			t.Fatalf("account %s: %d steps account by account, %d in a book", id, len(got), len(want))
		}
		for _, s := range want {
			if s.actions != "" {
				actions++
			}
		}
	}
	if len(accSaw) != len(bookSaw) || actions == 0 {
		t.Errorf("%d accounts account by account, %d in a book; %d steps with actions", len(accSaw), len(bookSaw), actions)
	}
	t.Logf("%d events, %d accounts, %d wake-ups, %d rejects, %d steps with actions", n, len(bookSaw), b.Wakes, b.Rejects, actions)
}
