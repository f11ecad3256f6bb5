package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/schemas"
)

// latency is what a phase timing payments measured.
type latency struct {
	samples []sample
	seconds float64
}

// sample is one payment's latency and when it was handed to the producer.
type sample struct {
	sent time.Time
	ms   float64
}

// ms is the latencies (ms) of the payments sent in [from, to] (zero
// times: no bound).
func (l latency) ms(from, to time.Time) []float64 {
	var ms []float64
	for _, s := range l.samples {
		if (from.IsZero() || !s.sent.Before(from)) && (to.IsZero() || !s.sent.After(to)) {
			ms = append(ms, s.ms)
		}
	}
	return ms
}

// phaseLatency replays recs at rate and times every payment in them.
func (s *stack) phaseLatency(ctx context.Context, codec *schemas.Codec, recs []*kgo.Record, pays map[payKey]int, rate int) (latency, error) {
	return s.timePayments(ctx, codec, len(recs), pays, func(ctx context.Context, _ *child, sent func(int, time.Time)) error {
		return s.produce(ctx, recs, rate, sent)
	})
}

// timePayments starts run and sink and calls produce, which sends the
// records of which pays indexes the payments (n records in all), calling
// sent with each one's index and send time; meanwhile a read_committed
// consumer of the actions topic (from the phase's start) times every
// action decided on a payment (same account, action time = payment time)
// from the moment the payment was handed to the producer.
func (s *stack) timePayments(ctx context.Context, codec *schemas.Codec, n int, pays map[payKey]int,
	produce func(ctx context.Context, run *child, sent func(i int, at time.Time)) error) (latency, error) {
	start := time.Now()
	run, _, stop, err := s.startPipeline(ctx)
	if err != nil {
		return latency{}, err
	}
	defer stop()

	type seen struct {
		key payKey
		at  time.Time
	}
	var mu sync.Mutex
	var got []seen
	cl, err := kgo.NewClient(append(s.cfg.Kafka.ClientOpts(), kgo.ConsumeTopics(s.cfg.Kafka.Topics.Actions),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(start.UnixMilli())),
		kgo.FetchMaxWait(20*time.Millisecond))...)
	if err != nil {
		return latency{}, err
	}
	defer cl.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	var last atomic.Int64 // unix ns of the last action received
	go func() {
		for {
			fs := cl.PollFetches(cctx)
			now := time.Now()
			if cctx.Err() != nil {
				done <- nil
				return
			}
			var derr error
			fs.EachRecord(func(r *kgo.Record) {
				a, err := codec.DecodeAction(cctx, r.Value)
				if err != nil {
					derr = err
					return
				}
				mu.Lock()
				got = append(got, seen{payKey{a.Account, a.Time.UnixMilli()}, now})
				mu.Unlock()
				last.Store(now.UnixNano())
			})
			if derr != nil {
				done <- fmt.Errorf("decode action: %w", derr)
				return
			}
		}
	}()

	sentAt := make([]time.Time, n)
	t0 := time.Now()
	if err := produce(ctx, run, func(i int, at time.Time) { sentAt[i] = at }); err != nil {
		return latency{}, err
	}
	if _, err := caughtUp(ctx, s.cfg.Kafka, s.cfg.Processor.GroupID, run); err != nil {
		return latency{}, err
	}
	// the consumer sees committed actions within its fetch wait; give it a
	// quiet second after the processor's last commit
	for time.Since(time.Unix(0, last.Load())) < time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		return latency{}, err
	}
	lat := latency{seconds: time.Since(t0).Seconds()}
	mu.Lock()
	defer mu.Unlock()
	for _, g := range got {
		if i, ok := pays[g.key]; ok && i < n && !sentAt[i].IsZero() {
			lat.samples = append(lat.samples, sample{sentAt[i], float64(g.at.Sub(sentAt[i]).Microseconds()) / 1000})
		}
	}
	return lat, nil
}
