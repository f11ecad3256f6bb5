package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/schemas"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
	"github.com/arrears/arrears/sinks/redisstore"
)

// ceilings measures, after the throughput phase and on its data, how fast
// each part the pipeline runs on can go alone, as input events per second:
//
//   - kafka_consume: a franz-go read_committed consumer reading the input;
//   - redis_state_writes: the processor's own Redis writes (the changelog's
//     status records, batched exactly as the processor's transactions
//     batched them, one fenced Lua call per partition batch) replayed to a
//     scratch prefix, one writer per partition;
//   - clickhouse_insert: every row the sink inserted (decoded as the sink
//     decodes) inserted again into a scratch database in the sink's batch
//     size, from one writer as the sink does.
func (s *benchStack) ceilings(ctx context.Context, codec *schemas.Codec, res *benchResult, say func(string, ...any)) error {
	n := float64(res.Events)
	k := s.cfg.Kafka

	t := time.Now()
	in, err := readTopics(ctx, k.ClientOpts(), []string{k.Topics.Events}, false)
	if err != nil {
		return err
	}
	res.Ceilings["kafka_consume"] = float64(len(in)) / time.Since(t).Seconds()
	say("kafka consume: %d records in %s", len(in), time.Since(t).Round(time.Millisecond))

	// Redis: the changelog with its transaction markers gives the batches
	status, err := readTopics(ctx, k.ClientOpts(), []string{k.Topics.Status}, true)
	if err != nil {
		return err
	}
	batches, writes, err := stateBatches(ctx, codec, status, s.o.Partitions)
	if err != nil {
		return err
	}
	res.StateWrites = writes
	d, err := s.replayStates(ctx, batches)
	if err != nil {
		return err
	}
	res.Ceilings["redis_state_writes"] = n / d.Seconds()
	say("redis: %d state writes in %s", writes, d.Round(time.Millisecond))

	// ClickHouse: every row of every topic the sink consumed
	all, err := readTopics(ctx, k.ClientOpts(), append(k.Topics.Inputs(), k.Topics.Outputs()...), false)
	if err != nil {
		return err
	}
	dec := chsink.NewDecoder(codec, k.Topics, s.cfg.Sink.KeepClockTicks)
	var rows []analytics.Row
	now := time.Now()
	for _, r := range all {
		rs, err := dec.Rows(ctx, r, now)
		if err != nil {
			return fmt.Errorf("decode %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		rows = append(rows, rs...)
	}
	res.ClickHouseRows = len(rows)
	d, err = s.insertRows(ctx, rows)
	if err != nil {
		return err
	}
	res.Ceilings["clickhouse_insert"] = n / d.Seconds()
	say("clickhouse: %d rows in %s", len(rows), d.Round(time.Millisecond))
	return nil
}

// readTopics reads every committed record of topics from the start up to
// their last stable offsets; with markers the transaction markers are kept.
func readTopics(ctx context.Context, opts []kgo.Opt, topics []string, markers bool) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topics...)
	cl.Close()
	if err != nil {
		return nil, fmt.Errorf("end offsets of %v: %w", topics, err)
	}
	left := map[string]map[int32]int64{}
	starts := map[string]map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			if left[o.Topic] == nil {
				left[o.Topic], starts[o.Topic] = map[int32]int64{}, map[int32]kgo.Offset{}
			}
			left[o.Topic][o.Partition] = o.Offset
			starts[o.Topic][o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(left) == 0 {
		return nil, nil
	}
	// markers are always read: the last offset before the stable end is one
	cl, err = kgo.NewClient(append(opts, kgo.ConsumePartitions(starts), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(16<<20))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read %v: %w", topics, ctx.Err())
		}
		if err := fs.Err(); err != nil {
			return nil, fmt.Errorf("read %v: %w", topics, err)
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if markers || !r.Attrs.IsControl() {
					out = append(out, r)
				}
			}
			if n := len(p.Records); n > 0 && p.Records[n-1].Offset+1 >= left[p.Topic][p.Partition] {
				delete(left[p.Topic], p.Partition)
				if len(left[p.Topic]) == 0 {
					delete(left, p.Topic)
				}
			}
		})
	}
	return out, nil
}

// stateBatches cuts the changelog into the processor's store batches: the
// status records of one partition between two transaction markers are the
// accounts one transaction changed there, which the processor wrote to Redis
// in one call. Timers come from the states, as restore derives them.
func stateBatches(ctx context.Context, codec *schemas.Codec, recs []*kgo.Record, parts int) ([][]*processor.Batch, int, error) {
	out := make([][]*processor.Batch, parts)
	cur := make([]*processor.Batch, parts)
	writes := 0
	for _, r := range recs {
		p := r.Partition
		if int(p) >= parts {
			return nil, 0, fmt.Errorf("changelog partition %d beyond %d partitions", p, parts)
		}
		if r.Attrs.IsControl() {
			if cur[p] != nil {
				out[p] = append(out[p], cur[p])
				cur[p] = nil
			}
			continue
		}
		st, err := codec.DecodeStatus(ctx, r.Value)
		if err != nil {
			return nil, 0, fmt.Errorf("changelog %d@%d: %w", p, r.Offset, err)
		}
		var cs core.State
		if err := cs.UnmarshalBinary(st.State); err != nil {
			return nil, 0, fmt.Errorf("changelog %d@%d: %w", p, r.Offset, err)
		}
		if cur[p] == nil {
			cur[p] = &processor.Batch{Put: map[string][]byte{}, Timers: map[string]int64{}}
		}
		cur[p].Put[st.Account] = st.State
		if w := cs.WakeAt(); !w.IsZero() {
			cur[p].Timers[st.Account] = w.UnixMilli()
		} else {
			cur[p].Timers[st.Account] = 0
		}
		writes++
	}
	for p, b := range cur {
		if b != nil {
			out[p] = append(out[p], b)
		}
	}
	return out, writes, nil
}

// replayStates writes the batches to a scratch prefix, one goroutine per
// partition, and returns the wall time.
func (s *benchStack) replayStates(ctx context.Context, batches [][]*processor.Batch) (time.Duration, error) {
	rdb := redisstore.NewClient(s.cfg.Redis)
	defer rdb.Close()
	st := redisstore.New(rdb, s.cfg.Redis.Prefix+"ceil")
	epochs := make([]int64, len(batches))
	for p := range batches {
		m, err := st.Claim(ctx, int32(p))
		if err != nil {
			return 0, err
		}
		epochs[p] = m.Epoch
	}
	var mu sync.Mutex
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p, bs := range batches {
		g.Go(func() error {
			for i, b := range bs {
				b.Applied = map[string]int64{s.cfg.Kafka.Topics.Events: int64(i)}
				b.Changelog, b.Clock = int64(i+1), int64(i+1)
				if err := st.Apply(gctx, int32(p), epochs[p], b); err != nil {
					mu.Lock()
					defer mu.Unlock()
					return fmt.Errorf("replay partition %d batch %d: %w", p, i, err)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}

// insertRows inserts rows into a scratch database in the sink's batch size
// (per table, as the sink's flush does) and returns the insert wall time.
func (s *benchStack) insertRows(ctx context.Context, rows []analytics.Row) (time.Duration, error) {
	cfg := s.cfg.ClickHouse
	cfg.Database += "_ceil"
	conn, err := analytics.Open(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := analytics.Migrate(ctx, conn); err != nil {
		return 0, err
	}
	size := s.cfg.Sink.BatchRows
	start := time.Now()
	for i := 0; i < len(rows); i += size {
		if err := analytics.InsertRows(ctx, conn, rows[i:min(i+size, len(rows))]); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
