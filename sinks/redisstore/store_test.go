package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestStoreSemantics checks the fenced, idempotent apply on standalone Redis
// and on the 3-master cluster.
func TestStoreSemantics(t *testing.T) {
	for name, open := range map[string]func(testing.TB) (redis.UniversalClient, string){
		"redis": testkit.Redis, "redis-cluster": testkit.RedisClusterClient,
	} {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := open(t)
			ctx := context.Background()
			s := redisstore.New(rdb, prefix)

			m, err := s.Claim(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now().UnixMicro()
			if !m.Fresh || m.Epoch < before-60_000_000 || m.Epoch > before+60_000_000 {
				t.Fatalf("first claim = %+v, want fresh with the clock in µs as epoch", m)
			}
			b := &processor.Batch{
				Applied: map[string]int64{"ar.events": 10}, Changelog: 5, Clock: 1000,
				Put:    map[string][]byte{"A": []byte("state-a"), "B": []byte("state-b")},
				Timers: map[string]int64{"A": 5000, "B": 0},
			}
			if err := s.Apply(ctx, 3, m.Epoch, b); err != nil {
				t.Fatal(err)
			}
			// the same batch again is a no-op
			b2 := *b
			b2.Put = map[string][]byte{"A": []byte("overwritten")}
			if err := s.Apply(ctx, 3, m.Epoch, &b2); !errors.Is(err, processor.ErrStale) {
				t.Fatalf("repeated batch: err = %v, want ErrStale", err)
			}
			got, err := s.Load(ctx, 3, m.Epoch, []string{"A", "B", "C"})
			if err != nil {
				t.Fatal(err)
			}
			if string(got["A"].State) != "state-a" || got["A"].Wake != 5000 || string(got["B"].State) != "state-b" || got["B"].Wake != 0 {
				t.Fatalf("load = %+v, want A with its timer at 5000, B without", got)
			}
			if _, ok := got["C"]; ok || len(got) != 2 {
				t.Fatalf("load = %+v: C was never written", got)
			}
			// a batch may load more accounts than Lua's unpack() takes
			many := make([]string, 20000)
			for i := range many {
				many[i] = fmt.Sprintf("X%d", i)
			}
			many[12345] = "B"
			if got, err := s.Load(ctx, 3, m.Epoch, many); err != nil || len(got) != 1 || string(got["B"].State) != "state-b" {
				t.Fatalf("load of 20000 accounts = %d found, %v; want B only", len(got), err)
			}
			tm, err := s.Timers(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(tm) != 1 || tm["A"] != 5000 {
				t.Fatalf("timers = %v, want A at 5000 only", tm)
			}
			checkDue(t, s, 3, m.Epoch)
			// a new owner fences the old one
			m2, err := s.Claim(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if m2.Epoch <= m.Epoch || m2.Fresh || m2.Applied["ar.events"] != 10 || m2.Changelog != 5 || m2.Clock != 1000 {
				t.Fatalf("second claim = %+v", m2)
			}
			b3 := &processor.Batch{Applied: map[string]int64{"ar.events": 20}, Put: map[string][]byte{"A": []byte("zombie")}}
			if err := s.Apply(ctx, 3, m.Epoch, b3); !errors.Is(err, processor.ErrFenced) {
				t.Fatalf("zombie write: err = %v, want ErrFenced", err)
			}
			if got, _ := s.Load(ctx, 3, m2.Epoch, []string{"A"}); string(got["A"].State) != "state-a" {
				t.Fatalf("zombie write changed A to %q", got["A"].State)
			}
			if _, err := s.Due(ctx, 3, m.Epoch, 1<<50, 10); !errors.Is(err, processor.ErrFenced) {
				t.Fatalf("zombie timer read: err = %v, want ErrFenced", err)
			}
			if _, err := s.Load(ctx, 3, m.Epoch, []string{"A"}); !errors.Is(err, processor.ErrFenced) {
				t.Fatalf("zombie read: err = %v, want ErrFenced", err)
			}
			if err := s.Apply(ctx, 3, m2.Epoch, b3); err != nil {
				t.Fatal(err)
			}
			// a flushed partition reports itself lost
			testkit.DeletePrefix(rdb, prefix)
			if err := s.Apply(ctx, 3, m2.Epoch, &processor.Batch{Applied: map[string]int64{"ar.events": 30}}); !errors.Is(err, processor.ErrLost) {
				t.Fatalf("after flush: err = %v, want ErrLost", err)
			}
			if _, err := s.Load(ctx, 3, m2.Epoch, []string{"A"}); !errors.Is(err, processor.ErrLost) {
				t.Fatalf("load after flush: err = %v, want ErrLost", err)
			}
			if _, err := s.Due(ctx, 3, m2.Epoch, 1<<50, 10); !errors.Is(err, processor.ErrLost) {
				t.Fatalf("timer read after flush: err = %v, want ErrLost", err)
			}
			if p, _ := s.Peek(ctx, 3); !p.Fresh {
				t.Fatalf("peek after flush = %+v, want fresh", p)
			}
			// the epoch keeps rising across the loss: the pre-loss owner stays fenced
			m3, err := s.Claim(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if !m3.Fresh || m3.Epoch <= m2.Epoch {
				t.Fatalf("claim after flush = %+v, want fresh with an epoch above %d", m3, m2.Epoch)
			}
		})
	}
}

// checkDue: Due pages the timer index by score, equal scores in account
// order, at most limit entries, none past until; the epoch-0 Load (tools)
// reads states and timers too.
func checkDue(t *testing.T, s *redisstore.Store, p int32, epoch int64) {
	t.Helper()
	ctx := context.Background()
	const at = 1_790_000_000_000 // unix ms: a double holds it exactly
	b := &processor.Batch{
		Applied: map[string]int64{"ar.due": 1}, Put: map[string][]byte{},
		Timers: map[string]int64{"D2": at, "D1": at, "D0": at - 1, "D3": at + 1, "D4": at + 1000},
	}
	if err := s.Apply(ctx, p, epoch, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Due(ctx, p, epoch, at+1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []processor.Timer{{At: 5000, Account: "A"}, {At: at - 1, Account: "D0"}, {At: at, Account: "D1"}, {At: at, Account: "D2"}, {At: at + 1, Account: "D3"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("due up to %d = %v, want %v", at+1, got, want)
	}
	if got, err := s.Due(ctx, p, epoch, at+1, 2); err != nil || fmt.Sprint(got) != fmt.Sprint(want[:2]) {
		t.Fatalf("due limit 2 = %v, %v; want %v", got, err, want[:2])
	}
	if got, err := s.Due(ctx, p, epoch, 4999, 10); err != nil || len(got) != 0 {
		t.Fatalf("due before the first timer = %v, %v; want none", got, err)
	}
	if tool, err := s.Load(ctx, p, 0, []string{"A", "D4"}); err != nil || tool["A"].Wake != 5000 {
		t.Fatalf("unfenced load = %+v, %v; want A's timer at 5000", tool, err)
	}
	clear := &processor.Batch{Applied: map[string]int64{"ar.due": 2}, Put: map[string][]byte{},
		Timers: map[string]int64{"D0": 0, "D1": 0, "D2": 0, "D3": 0, "D4": 0}}
	if err := s.Apply(ctx, p, epoch, clear); err != nil {
		t.Fatal(err)
	}
}
