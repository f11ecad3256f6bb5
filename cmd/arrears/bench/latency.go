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

// latency is what the latency phase measured.
type latency struct {
	ms      []float64
	seconds float64
}

// phaseLatency starts run and sink, replays recs at rate while a
// read_committed consumer of the actions topic times every action decided
// on a payment (same account, action time = payment time) from the moment
// the payment was handed to the producer.
func (s *stack) phaseLatency(ctx context.Context, codec *schemas.Codec, recs []*kgo.Record, pays map[payKey]int, rate int) (latency, error) {
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
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
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

	sentAt := make([]time.Time, len(recs))
	t0 := time.Now()
	if err := s.produce(ctx, recs, rate, func(i int, at time.Time) { sentAt[i] = at }); err != nil {
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
		if i, ok := pays[g.key]; ok && i < len(recs) {
			lat.ms = append(lat.ms, float64(g.at.Sub(sentAt[i]).Microseconds())/1000)
		}
	}
	return lat, nil
}
