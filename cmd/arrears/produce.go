package main

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// newProducer opens the bulk producer of gen and bench: records keyed by
// account go where Kafka's default (murmur2) partitioner puts them, ClockTicks
// to their explicit partition; LZ4, 1 MiB batches, a deep buffer.
func newProducer(k kafkax.Config) (*kgo.Client, error) {
	return kgo.NewClient(append(k.ClientOpts(),
		kgo.DefaultProduceTopic(k.Topics.Events),
		kgo.RecordPartitioner(kafkax.KeyOrExplicit()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(200000),
	)...)
}

// eventRecord encodes ev for the events topic (Avro JSON when json is set):
// keyed by account, or, for a ClockTick, unkeyed to the tick's partition.
func eventRecord(ctx context.Context, codec *schemas.Codec, topic string, ev event.Event, json bool) (*kgo.Record, error) {
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
