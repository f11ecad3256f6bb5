package faults

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// Input builds the workload's records for the stack's events topic: the
// generated book (accounts, bills, payments, promises, disputes, ticks every
// six simulated hours), then one ClockTick per partition 120 days after its
// end so every pending timer fires. Same seed and size, same records.
func (s *Stack) Input(seed uint64, accounts, months int) []*kgo.Record {
	s.t.Helper()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := workload.New(workload.Options{Seed: seed, Accounts: accounts, Months: months, Start: start,
		Partitions: s.Kafka.Partitions, TickEvery: 6 * time.Hour})
	var recs []*kgo.Record
	last := start
	for ev, ok := g.Next(); ok; ev, ok = g.Next() {
		recs = append(recs, s.record(ev))
		last = ev.Time
	}
	end := last.Add(120 * 24 * time.Hour)
	for p := 0; p < s.Kafka.Partitions; p++ {
		recs = append(recs, s.record(event.Event{ID: "faults-final-tick-" + itoa(p), Time: end, Source: "faults",
			Body: &event.ClockTick{Partition: int32(p)}}))
	}
	return recs
}

// record encodes ev as `arrears gen` does: keyed by account, ticks to their
// own partition.
func (s *Stack) record(ev event.Event) *kgo.Record {
	b, err := s.Codec.EncodeEvent(context.Background(), s.Kafka.Topics.Events, ev)
	if err != nil {
		s.t.Fatal(err)
	}
	rec := &kgo.Record{Key: []byte(ev.Account), Value: b}
	if tk, ok := ev.Body.(*event.ClockTick); ok {
		rec.Key, rec.Partition = nil, tk.Partition
	}
	return rec
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Produce writes recs to the events topic in the background: the first
// burst records at once (a backlog), the rest spread evenly over `over` (in
// 100 chunks); the returned function waits for the last acknowledgement. The
// producer retries without limit, so a broker that is down only delays it.
func (s *Stack) Produce(recs []*kgo.Record, burst int, over time.Duration) (wait func()) {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Kafka.Brokers...), kgo.DefaultProduceTopic(s.Kafka.Topics.Events),
		kgo.RecordPartitioner(kafkax.KeyOrExplicit()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		s.t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := cl.ProduceSync(ctx, recs[:burst]...).FirstErr()
		cancel()
		if err != nil {
			errc <- err
			return
		}
		recs := recs[burst:]
		const chunks = 100
		started := time.Now()
		for i := 0; i < chunks; i++ {
			lo, hi := i*len(recs)/chunks, (i+1)*len(recs)/chunks
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			err := cl.ProduceSync(ctx, recs[lo:hi]...).FirstErr()
			cancel()
			if err != nil {
				errc <- err
				return
			}
			if d := time.Until(started.Add(over * time.Duration(i+1) / chunks)); d > 0 {
				time.Sleep(d)
			}
		}
		errc <- nil
	}()
	return func() {
		s.t.Helper()
		if err := <-errc; err != nil {
			s.t.Fatalf("produce input: %v", err)
		}
	}
}

// Progress samples how far a consumer group has committed on a topic.
type Progress struct {
	mu      sync.Mutex
	samples []sample
	stop    func()
	// markers is 1 for a topic written in transactions: its last offset may
	// be a commit marker no consumer gets past.
	markers int64
}

type sample struct {
	at        time.Time
	committed int64 // sum over partitions
	end       int64 // sum of end offsets
	parts     map[int32][2]int64
}

// Watch samples group's committed offsets on topic every 250 ms until the
// test ends.
func (s *Stack) Watch(group, topic string) *Progress {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Kafka.Brokers...))
	if err != nil {
		s.t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithCancel(context.Background())
	p := &Progress{}
	if topic != s.Kafka.Topics.Events { // only the input is produced outside transactions
		p.markers = 1
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for {
			if c, e, parts, ok := committed(ctx, adm, group, topic); ok {
				p.mu.Lock()
				p.samples = append(p.samples, sample{at: time.Now(), committed: c, end: e, parts: parts})
				p.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	p.stop = func() { cancel(); <-done; cl.Close() }
	s.t.Cleanup(p.stop)
	return p
}

// committed sums group's committed and the topic's end offsets, and gives
// both per partition; ok is false if either could not be read.
func committed(ctx context.Context, adm *kadm.Client, group, topic string) (c, e int64, parts map[int32][2]int64, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil || ends.Error() != nil {
		return 0, 0, nil, false
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, 0, nil, false
	}
	parts = map[int32][2]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		at := int64(0)
		if co, found := offs.Lookup(o.Topic, o.Partition); found {
			at = co.At
		}
		c, e, parts[o.Partition] = c+at, e+o.Offset, [2]int64{at, o.Offset}
	})
	return c, e, parts, true
}

// ResumedAfter is how long after t the group first committed beyond what it
// had committed at t; ok is false if it has not (yet).
func (p *Progress) ResumedAfter(t time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	base := int64(-1)
	for _, s := range p.samples {
		if !s.at.After(t) {
			base = s.committed
			continue
		}
		if base < 0 {
			base = s.committed
			continue
		}
		if s.committed > base {
			return s.at.Sub(t), true
		}
	}
	return 0, false
}

// CaughtUpAfter is how long after t the group had committed every record
// the topic held at t (the backlog the fault left drained; when offsets
// could not be read at t, as with the broker down, the first reading after
// t counts); ok is false if it has not.
func (p *Progress) CaughtUpAfter(t time.Time) (time.Duration, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var target map[int32][2]int64
	for _, s := range p.samples {
		if !s.at.After(t) {
			target = s.parts
			continue
		}
		if target == nil {
			target = s.parts
		}
		done := true
		for part, te := range target {
			if s.parts[part][0] < te[1]-p.markers {
				done = false
			}
		}
		if done {
			return s.at.Sub(t), true
		}
	}
	return 0, false
}

// Committed is the latest sample's committed and end offset sums.
func (p *Progress) Committed() (committed, end int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.samples) == 0 {
		return 0, 0
	}
	s := p.samples[len(p.samples)-1]
	return s.committed, s.end
}

// WaitFired waits until the processor state under prefix has no wake-up
// due left (a burst outlasts the last input offset commit).
func (s *Stack) WaitFired(prefix string, timeout time.Duration) bool {
	return testkit.WaitWakeupsFired(s.Redis, prefix, s.Kafka.Partitions, timeout)
}

// WaitCaughtUp waits until group has consumed every record of topics
// (kafkax.Lag: transaction markers at the end do not count).
func (s *Stack) WaitCaughtUp(group string, timeout time.Duration, topics ...string) bool {
	return poll(timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n, err := kafkax.Lag(ctx, s.Kafka, group, topics...)
		return err == nil && n == 0
	})
}
