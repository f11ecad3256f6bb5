package feed

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// Producer is the bulk producer of gen and bench: paced, asynchronous,
// counting what the broker acknowledged and keeping the first failure.
// Records keyed by account go where Kafka's default (murmur2) partitioner
// puts them, ClockTicks to their explicit partition; batches of 1 MiB
// compressed with kafka.compression, a deep buffer.
type Producer struct {
	cl     *kgo.Client
	pace   *pacer
	acked  *atomic.Int64
	failed atomic.Int64
	first  atomic.Value
}

// New produces to k's events topic at rate records/s (0: as fast
// as the broker takes them), adding each acknowledged record to acked;
// opts come last (they win).
func New(k kafkax.Config, rate int, acked *atomic.Int64, opts ...kgo.Opt) (*Producer, error) {
	cl, err := kgo.NewClient(append(append(k.ClientOpts(),
		kgo.DefaultProduceTopic(k.Topics.Events),
		kgo.RecordPartitioner(kafkax.KeyOrExplicit()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(200000),
	), opts...)...)
	if err != nil {
		return nil, err
	}
	if acked == nil {
		acked = new(atomic.Int64)
	}
	return &Producer{cl: cl, pace: newPacer(rate), acked: acked}, nil
}

// Send waits for its turn at the rate and hands r to the client; it
// returns when it did.
func (p *Producer) Send(ctx context.Context, r *kgo.Record) (time.Time, error) {
	if err := p.pace.wait(ctx); err != nil {
		return time.Time{}, err
	}
	at := time.Now()
	p.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
		if err != nil {
			p.failed.Add(1)
			p.first.CompareAndSwap(nil, err)
			return
		}
		p.acked.Add(1)
	})
	return at, nil
}

// Flush waits for every record sent and reports failed ones.
func (p *Producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	if e := p.first.Load(); e != nil {
		return fmt.Errorf("produce: %d records failed, first: %v", p.failed.Load(), e)
	}
	return nil
}

// Close stops the pacer and closes the client (call Flush first to wait
// for what was sent).
func (p *Producer) Close() {
	p.pace.stop()
	p.cl.Close()
}

// Record encodes ev for the events topic (Avro JSON when json is set):
// keyed by account, or, for a ClockTick, unkeyed to the tick's partition.
func Record(ctx context.Context, codec *schemas.Codec, topic string, ev event.Event, json bool) (*kgo.Record, error) {
	var b []byte
	var err error
	if json {
		b, err = schemas.EncodeEventJSON(ev)
	} else {
		b, err = codec.EncodeEvent(ctx, topic, ev)
	}
	if err != nil {
		return nil, err
	}
	rec := &kgo.Record{Key: []byte(ev.Account), Value: b}
	if tk, ok := ev.Body.(*event.ClockTick); ok {
		rec.Key, rec.Partition = nil, tk.Partition
	}
	return rec, nil
}

// pacer spaces records to a rate in 10 ms steps; a zero rate never waits.
type pacer struct {
	perTick int
	t       *time.Ticker
	n       int
}

func newPacer(rate int) *pacer {
	if rate <= 0 {
		return &pacer{}
	}
	return &pacer{perTick: max(rate/100, 1), t: time.NewTicker(10 * time.Millisecond)}
}

// wait is called before each record; it blocks at every step boundary.
func (p *pacer) wait(ctx context.Context) error {
	if p.t == nil {
		return nil
	}
	if p.n > 0 && p.n%p.perTick == 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.t.C:
		}
	}
	p.n++
	return nil
}

func (p *pacer) stop() {
	if p.t != nil {
		p.t.Stop()
	}
}
