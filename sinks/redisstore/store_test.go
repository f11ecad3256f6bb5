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
			if string(got["A"]) != "state-a" || string(got["B"]) != "state-b" || got["C"] != nil {
				t.Fatalf("load = %q", got)
			}
			// a batch may load more accounts than Lua's unpack() takes
			many := make([]string, 20000)
			for i := range many {
				many[i] = fmt.Sprintf("X%d", i)
			}
			many[12345] = "B"
			if got, err := s.Load(ctx, 3, m.Epoch, many); err != nil || len(got) != 1 || string(got["B"]) != "state-b" {
				t.Fatalf("load of 20000 accounts = %d found, %v; want B only", len(got), err)
			}
			tm, err := s.Timers(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(tm) != 1 || tm["A"] != 5000 {
				t.Fatalf("timers = %v, want A at 5000 only", tm)
			}
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
			if got, _ := s.Load(ctx, 3, m2.Epoch, []string{"A"}); string(got["A"]) != "state-a" {
				t.Fatalf("zombie write changed A to %q", got["A"])
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
