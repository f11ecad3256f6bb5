package processor

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
)

// restoreChunk is how many accounts one store write carries while restoring.
const restoreChunk = 2000

// restore brings the store up to the changelog: it reads the partition's
// status records from meta.Changelog to the last stable offset and writes
// each account's latest state and timer. After a crash between a Kafka
// commit and the store write it replays the missing batch's states; after
// Redis lost everything (meta.Fresh) it rebuilds the partition from scratch.
func (pt *partition) restore(ctx context.Context, meta Meta) error {
	topic := pt.p.kcfg.Topics.Status
	cl, err := kgo.NewClient(append(pt.p.kcfg.ClientOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {pt.id: kgo.NewOffset().At(meta.Changelog)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("list changelog offsets: %w", err)
	}
	end, ok := ends.Lookup(topic, pt.id)
	if !ok || end.Err != nil {
		return fmt.Errorf("changelog %s[%d] offsets: %v", topic, pt.id, end.Err)
	}
	if end.Offset <= meta.Changelog {
		return nil
	}
	start := time.Now()
	pt.p.log.Info("catching up from the changelog", "partition", pt.id, "from", meta.Changelog, "to", end.Offset, "fresh", meta.Fresh)

	b := &Batch{Put: map[string][]byte{}, Timers: map[string]int64{}, Applied: map[string]int64{}}
	n := 0
	flush := func(next int64) error {
		b.Changelog = next
		b.Clock = pt.clock
		if err := pt.p.store.Apply(ctx, pt.id, pt.epoch, b); err != nil {
			return err
		}
		pt.changelog = next
		b = &Batch{Put: map[string][]byte{}, Timers: map[string]int64{}, Applied: map[string]int64{}}
		return nil
	}
	next := meta.Changelog
	for next < end.Offset {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("read changelog: %w", err)
		}
		for _, r := range fs.Records() {
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				continue
			}
			s, err := pt.p.codec.DecodeStatus(ctx, r.Value)
			if err != nil {
				return fmt.Errorf("changelog offset %d: %w", r.Offset, err)
			}
			var st core.State
			if err := st.UnmarshalBinary(s.State); err != nil {
				return fmt.Errorf("changelog offset %d: account %s: %w", r.Offset, s.Account, err)
			}
			b.Put[s.Account] = s.State
			b.Timers[s.Account] = st.WakeAt().UnixMilli()
			if st.WakeAt().IsZero() {
				b.Timers[s.Account] = 0
			}
			if ms := s.Time.UnixMilli(); ms > pt.clock {
				pt.clock = ms
			}
			n++
			if len(b.Put) >= restoreChunk {
				if err := flush(next); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(next); err != nil {
		return err
	}
	pt.p.m.restored.Add(float64(n))
	pt.p.log.Info("caught up from the changelog", "partition", pt.id, "records", n, "took", time.Since(start).String())
	return nil
}

// Restore catches the store up from the changelog for the given partitions
// (all of the events topic's when empty), as a new owner would: it claims
// each partition (fencing a running owner, so stop the processors first) and
// writes every account state and timer newer than the store's changelog
// offset; on an empty store that is the whole compacted changelog.
func Restore(ctx context.Context, kcfg kafkax.Config, store Store, codec Codec, log *slog.Logger, partitions []int32) (int, error) {
	p := &Processor{kcfg: kcfg, store: store, codec: codec, log: log, m: NewMetrics(nil).m}
	if len(partitions) == 0 {
		n, err := partitionCount(ctx, kcfg)
		if err != nil {
			return 0, err
		}
		for i := int32(0); i < int32(n); i++ {
			partitions = append(partitions, i)
		}
	}
	for _, id := range partitions {
		if err := newPartition(id, p).init(ctx); err != nil {
			return 0, fmt.Errorf("partition %d: %w", id, err)
		}
	}
	return len(partitions), nil
}

func partitionCount(ctx context.Context, kcfg kafkax.Config) (int, error) {
	cl, err := kgo.NewClient(kcfg.ClientOpts()...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	return kafkax.CheckTopics(ctx, kadm.NewClient(cl), kcfg)
}
