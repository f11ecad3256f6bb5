package faults

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// Outputs is what one run produced: every committed output record counted
// by its id, and the final account states in Redis.
type Outputs struct {
	Actions map[string]int // ar.dunning.actions by action id
	Risk    map[string]int // ar.risk.events by event id
	GL      map[string]int // ar.gl by entry id
	States  map[string]string
}

// Collect reads every committed action, risk event and GL entry of topics
// (by id) and the account states under prefix.
func (s *Stack) Collect(tp kafkax.Topics, prefix string) Outputs {
	s.t.Helper()
	ctx := context.Background()
	out := Outputs{Actions: map[string]int{}, Risk: map[string]int{}, GL: map[string]int{}, States: s.states(prefix)}
	decode := map[string]func([]byte) (string, error){
		tp.Actions: func(b []byte) (string, error) { a, err := s.Codec.DecodeAction(ctx, b); return a.ActionID, err },
		tp.Risk:    func(b []byte) (string, error) { r, err := s.Codec.DecodeRisk(ctx, b); return r.EventID, err },
		tp.GL:      func(b []byte) (string, error) { g, err := s.Codec.DecodeGL(ctx, b); return g.EntryID, err },
	}
	into := map[string]map[string]int{tp.Actions: out.Actions, tp.Risk: out.Risk, tp.GL: out.GL}
	for _, r := range s.readAll(tp.Actions, tp.Risk, tp.GL) {
		k, err := decode[r.Topic](r.Value)
		if err != nil {
			s.t.Fatalf("decode %s: %v", r.Topic, err)
		}
		into[r.Topic][k]++
	}
	return out
}

// readAll reads every committed record of topics from the start, until
// nothing more arrived for 2 s (10 s while nothing arrived at all; 60 s at
// most).
func (s *Stack) readAll(topics ...string) []*kgo.Record {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Kafka.Brokers...), kgo.ConsumeTopics(topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []*kgo.Record
	last := time.Now()
	for ctx.Err() == nil && (time.Since(last) < 2*time.Second || len(out) == 0 && time.Since(last) < 10*time.Second) {
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if rs := fs.Records(); len(rs) > 0 {
			out, last = append(out, rs...), time.Now()
		}
	}
	return out
}

// states returns every account state under prefix (one hash per partition).
func (s *Stack) states(prefix string) map[string]string {
	s.t.Helper()
	out := map[string]string{}
	for p := 0; p < s.Kafka.Partitions; p++ {
		m, err := s.Redis.HGetAll(context.Background(), prefix+":{p"+strconv.Itoa(p)+"}:acct").Result()
		if err != nil {
			s.t.Fatalf("read states: %v", err)
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Reference runs one undisturbed `arrears run` over the stack's whole input
// (own group, Redis prefix and output topics, direct connections), waits
// until it has committed everything and returns what it produced.
func (s *Stack) Reference() Outputs {
	s.t.Helper()
	kc := s.withOutputs()
	prefix, group := s.Prefix+"ref", s.Group+"-ref"
	s.t.Cleanup(func() { testkit.DeletePrefix(s.Redis, prefix) })
	p := s.Run("reference", RunOpts{Kafka: &kc, Prefix: prefix, Group: group})
	if !s.WaitCaughtUp(group, 180*time.Second, kc.Topics.Events) || !s.WaitFired(prefix, 60*time.Second) {
		s.t.Fatalf("the undisturbed reference run did not catch up in 180 s\n%s", p.LogTail(30))
	}
	p.Stop()
	return s.Collect(kc.Topics, prefix)
}

// Diff counts how a run's outputs differ from the reference's.
type Diff struct {
	Lost       int // in the reference, missing here (ids or account states)
	Duplicated int // here more than once
	Unexpected int // here, not in the reference
	Differ     int // account present in both with a different state
	Detail     []string
}

// Compare compares got with the reference want.
func Compare(got, want Outputs) Diff {
	var d Diff
	ids := func(what string, g, w map[string]int) {
		lost, dup, extra := 0, 0, 0
		for id := range w {
			switch n := g[id]; {
			case n == 0:
				lost++
			case n > 1:
				dup++
			}
		}
		for id, n := range g {
			if w[id] == 0 {
				extra++
				if n > 1 {
					dup++
				}
			}
		}
		d.Lost, d.Duplicated, d.Unexpected = d.Lost+lost, d.Duplicated+dup, d.Unexpected+extra
		d.Detail = append(d.Detail, fmt.Sprintf("%s: %d of %d, %d lost, %d duplicated, %d unexpected", what, len(g), len(w), lost, dup, extra))
	}
	ids("actions", got.Actions, want.Actions)
	ids("risk events", got.Risk, want.Risk)
	ids("GL entries", got.GL, want.GL)
	lost, differ, extra := 0, 0, 0
	var bad []string
	for a, w := range want.States {
		switch g, ok := got.States[a]; {
		case !ok:
			lost++
		case g != w:
			differ++
			bad = append(bad, a)
		}
	}
	for a := range got.States {
		if _, ok := want.States[a]; !ok {
			extra++
		}
	}
	d.Lost, d.Differ, d.Unexpected = d.Lost+lost, differ, d.Unexpected+extra
	sort.Strings(bad)
	d.Detail = append(d.Detail, fmt.Sprintf("account states: %d of %d, %d missing, %d differ %v, %d unexpected",
		len(got.States), len(want.States), lost, differ, bad[:min(len(bad), 5)], extra))
	return d
}

// Equal says whether nothing was lost, duplicated, unexpected or different.
func (d Diff) Equal() bool { return d.Lost+d.Duplicated+d.Unexpected+d.Differ == 0 }

// Check fails the test unless got equals the reference, and fails it if
// the reference lacks any kind of output (then the comparison proves nothing).
func Check(t testing.TB, got, want Outputs) Diff {
	t.Helper()
	if len(want.Actions) == 0 || len(want.Risk) == 0 || len(want.GL) == 0 || len(want.States) == 0 {
		t.Errorf("the reference holds %d actions, %d risk events, %d GL entries, %d states: the workload does not exercise them all",
			len(want.Actions), len(want.Risk), len(want.GL), len(want.States))
	}
	d := Compare(got, want)
	for _, l := range d.Detail {
		t.Log(l)
	}
	if !d.Equal() {
		t.Errorf("outputs differ from the undisturbed run:\n  %s", strings.Join(d.Detail, "\n  "))
	}
	return d
}
