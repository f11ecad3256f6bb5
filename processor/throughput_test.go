package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/sinks/redisstore"
)

// BenchmarkPipeline measures the processor on the real Kafka and Redis:
// 200k events (plus account upserts and daily ticks) are produced first,
// then one processor instance consumes them with exactly-once on; the
// figure is input records per second from start to the last committed
// offset, and the Redis bytes per account. Run with -benchtime 1x:
//
//	go test -run '^$' -bench BenchmarkPipeline -benchtime 1x ./processor/
func BenchmarkPipeline(b *testing.B) {
	for b.Loop() {
		h := newHarness(b, 12)
		h.env = fullEnv(b)
		h.poll = 50000
		recs := h.workload(9, 200000, 20000, 0)
		h.produceAll(recs)
		start := time.Now()
		stop := h.start("bench")
		h.waitCaughtUp(h.group, 10*time.Minute)
		el := time.Since(start)
		stop()
		b.ReportMetric(float64(len(recs))/el.Seconds(), "events/s")
		b.ReportMetric(redisBytesPerAccount(b, h), "redis_bytes/account")
	}
}

// redisBytesPerAccount is Redis's own memory accounting of the account
// hashes divided by the accounts in them.
func redisBytesPerAccount(b *testing.B, h *harness) float64 {
	v, _, err := redisstore.New(h.rdb, h.pref).BytesPerAccount(context.Background(), h.kcfg.Partitions)
	if err != nil {
		b.Fatal(err)
	}
	return v
}
