package bench

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
func (s *stack) ceilings(ctx context.Context, codec *schemas.Codec, res *Result, say func(string, ...any)) error {
	n := float64(res.Events)
	k := s.cfg.Kafka

	t := time.Now()
	count := 0
	if err := readTopics(ctx, k.ClientOpts(), k.Topics.Inputs(), false, func(*kgo.Record) error { count++; return nil }); err != nil {
		return err
	}
	res.Ceilings["kafka_consume"] = float64(count) / time.Since(t).Seconds()
	say("kafka consume: %d records in %s", count, time.Since(t).Round(time.Millisecond))

	// Redis: the changelog with its transaction markers gives the batches
	sb := newStateBatcher(codec, s.cfg.Kafka.Partitions)
	if err := readTopics(ctx, k.ClientOpts(), []string{k.Topics.Status}, true, func(r *kgo.Record) error { return sb.add(ctx, r) }); err != nil {
		return err
	}
	batches := sb.done()
	res.StateWrites = sb.writes
	d, err := s.replayStates(ctx, batches)
	if err != nil {
		return err
	}
	res.Ceilings["redis_state_writes"] = n / d.Seconds()
	say("redis: %d state writes in %s", sb.writes, d.Round(time.Millisecond))

	// ClickHouse: every row of every topic the sink consumed, decoded as the
	// sink decodes, inserted chunk by chunk (only the inserts are timed)
	ins, err := s.newRowInserter(ctx)
	if err != nil {
		return err
	}
	defer ins.conn.Close()
	dec := chsink.NewDecoder(codec, k.Topics, s.cfg.Sink.KeepClockTicks)
	now := time.Now()
	err = readTopics(ctx, k.ClientOpts(), append(k.Topics.Inputs(), k.Topics.Outputs()...), false, func(r *kgo.Record) error {
		rs, err := dec.Rows(ctx, r, now)
		if err != nil {
			return fmt.Errorf("decode %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		return ins.add(ctx, rs)
	})
	if err == nil {
		err = ins.flush(ctx)
	}
	if err != nil {
		return err
	}
	res.Ceilings["clickhouse_insert"] = n / ins.took.Seconds()
	say("clickhouse: %d rows in %s", ins.rows, ins.took.Round(time.Millisecond))
	return nil
}

// readTopics calls each with every committed record of topics from the
// start up to their last stable offsets, in order per partition; with
// markers the transaction markers are passed too.
func readTopics(ctx context.Context, opts []kgo.Opt, topics []string, markers bool, each func(*kgo.Record) error) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topics...)
	cl.Close()
	if err != nil {
		return fmt.Errorf("end offsets of %v: %w", topics, err)
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
		return nil
	}
	// markers are always read: the last offset before the stable end is one
	cl, err = kgo.NewClient(append(opts, kgo.ConsumePartitions(starts), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), kgo.FetchMaxBytes(64<<20), kgo.FetchMaxPartitionBytes(16<<20))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	var cbErr error
	for len(left) > 0 && cbErr == nil {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("read %v: %w", topics, ctx.Err())
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("read %v: %w", topics, err)
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if cbErr == nil && (markers || !r.Attrs.IsControl()) {
					cbErr = each(r)
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
	return cbErr
}

// stateBatcher cuts the changelog into the processor's store batches: the
// status records of one partition between two transaction markers are the
// accounts one transaction changed there, which the processor wrote to Redis
// in one call. Each record is read as restore reads it.
type stateBatcher struct {
	codec  *schemas.Codec
	out    [][]*processor.Batch
	cur    []*processor.Batch
	writes int
}

func newStateBatcher(codec *schemas.Codec, parts int) *stateBatcher {
	return &stateBatcher{codec: codec, out: make([][]*processor.Batch, parts), cur: make([]*processor.Batch, parts)}
}

func (sb *stateBatcher) add(ctx context.Context, r *kgo.Record) error {
	p := r.Partition
	if int(p) >= len(sb.out) {
		return fmt.Errorf("changelog partition %d beyond %d partitions", p, len(sb.out))
	}
	if r.Attrs.IsControl() {
		if sb.cur[p] != nil {
			sb.out[p] = append(sb.out[p], sb.cur[p])
			sb.cur[p] = nil
		}
		return nil
	}
	e, err := processor.DecodeChangelog(ctx, sb.codec, r.Value)
	if err != nil {
		return fmt.Errorf("changelog %d@%d: %w", p, r.Offset, err)
	}
	if sb.cur[p] == nil {
		sb.cur[p] = &processor.Batch{Put: map[string][]byte{}, Timers: map[string]int64{}}
	}
	sb.cur[p].Add(e)
	sb.writes++
	return nil
}

// done closes the open batches and returns them per partition.
func (sb *stateBatcher) done() [][]*processor.Batch {
	for p, b := range sb.cur {
		if b != nil {
			sb.out[p] = append(sb.out[p], b)
			sb.cur[p] = nil
		}
	}
	return sb.out
}

// replayStates writes the batches to a scratch prefix, one goroutine per
// partition, and returns the wall time.
func (s *stack) replayStates(ctx context.Context, batches [][]*processor.Batch) (time.Duration, error) {
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

// rowInserter inserts rows into a scratch database in the sink's batch
// size (per table, as the sink's flush does), timing the inserts only.
type rowInserter struct {
	conn *analytics.Conn
	size int
	buf  []analytics.Row
	rows int
	took time.Duration
}

func (s *stack) newRowInserter(ctx context.Context) (*rowInserter, error) {
	cfg := s.cfg.ClickHouse
	cfg.Database += "_ceil"
	conn, err := analytics.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := analytics.Migrate(ctx, conn); err != nil {
		conn.Close()
		return nil, err
	}
	return &rowInserter{conn: conn, size: s.cfg.Sink.BatchRows}, nil
}

func (in *rowInserter) add(ctx context.Context, rows []analytics.Row) error {
	in.buf = append(in.buf, rows...)
	if len(in.buf) >= in.size {
		return in.flush(ctx)
	}
	return nil
}

func (in *rowInserter) flush(ctx context.Context) error {
	if len(in.buf) == 0 {
		return nil
	}
	t := time.Now()
	if err := analytics.InsertRows(ctx, in.conn, in.buf); err != nil {
		return err
	}
	in.took += time.Since(t)
	in.rows += len(in.buf)
	in.buf = in.buf[:0]
	return nil
}
