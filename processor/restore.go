package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// restoreChunk is how many accounts one store write carries while restoring.
const restoreChunk = 2000

// restored is where a partition stands after restorePartition.
type restored struct {
	clock     int64 // partition clock, unix ms
	changelog int64 // next changelog offset reflected in the store
}

// restorePartition brings the store up to the changelog: it reads the
// partition's status records from meta.Changelog to the last stable offset
// and writes each account's latest state and timer. After a crash between
// a Kafka commit and the store write it replays the missing batch's
// states; after Redis lost everything (meta.Fresh) it rebuilds the
// partition from scratch.
//
// A committed transaction's records count below the last stable offset
// only once the broker wrote its markers, which it does after the commit
// returned. So restore first waits for the stable offset to reach
// committed (the end of this process's own last committed status records)
// or, when the process has none, the high watermark (a previous owner's).
func restorePartition(ctx context.Context, d *deps, id int32, meta Meta, committed int64) (restored, error) {
	res := restored{clock: meta.Clock, changelog: meta.Changelog}
	topic := d.kcfg.Topics.Status
	cl, err := kgo.NewClient(append(d.kcfg.ClientOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {id: kgo.NewOffset().At(meta.Changelog)}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	end, err := stableEnd(ctx, kadm.NewClient(cl), topic, id, committed)
	if err != nil {
		return res, err
	}
	if end.Offset < committed {
		return res, fmt.Errorf("changelog %s[%d]: stable offset %d is below the committed %d", topic, id, end.Offset, committed)
	}
	if end.Offset <= meta.Changelog {
		return res, nil
	}
	start := time.Now()
	d.log.Info("catching up from the changelog", "partition", id, "from", meta.Changelog, "to", end.Offset, "fresh", meta.Fresh)

	b := newBatch()
	n := 0
	flush := func(next int64) error {
		b.Changelog = next
		b.Clock = res.clock
		if err := d.store.Apply(ctx, id, meta.Epoch, b); err != nil {
			return err
		}
		res.changelog = next
		b = newBatch()
		return nil
	}
	next := meta.Changelog
	for next < end.Offset {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err := fs.Err(); err != nil {
			return res, fmt.Errorf("read changelog: %w", err)
		}
		for _, r := range fs.Records() {
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				continue
			}
			if restoreTombstone(b, r) { // an erasure (erase.go)
				n++
				continue
			}
			e, err := d.decodeChangelog(ctx, r)
			if err != nil {
				if schemas.Transient(err) {
					return res, fmt.Errorf("changelog offset %d: %w", r.Offset, err)
				}
				// Not a record this processor wrote (forged, or from a
				// foreign producer): skipping it keeps the account's
				// state from its previous status record. Stopping here
				// would stall the partition on every start.
				d.m.changelogSkipped.Inc()
				d.log.Error("skipping an unreadable changelog record", "topic", topic, "partition", id, "offset", r.Offset, "code", schemas.Code(err))
				continue
			}
			b.Add(e)
			res.clock = max(res.clock, e.Time.UnixMilli())
			n++
			if len(b.Put) >= restoreChunk {
				if err := flush(next); err != nil {
					return res, err
				}
			}
		}
	}
	if err := flush(next); err != nil {
		return res, err
	}
	d.m.restored.Add(float64(n))
	d.log.Info("caught up from the changelog", "partition", id, "records", n, "took", time.Since(start).String())
	return res, nil
}

func newBatch() *Batch {
	return &Batch{Put: map[string][]byte{}, Timers: map[string]int64{}, Applied: map[string]int64{}}
}

// ChangelogEntry is what one status (changelog) record puts back in the
// store: the account's encoded state and its timer.
type ChangelogEntry struct {
	Account string
	State   []byte
	// Wake is the account's timer in unix ms (0: none), from the state.
	Wake int64
	// Time is the partition clock the record was written at.
	Time time.Time
}

// DecodeChangelog reads a status record as restore writes it back.
func DecodeChangelog(ctx context.Context, codec Codec, value []byte) (ChangelogEntry, error) {
	s, err := codec.DecodeStatus(ctx, value)
	if err != nil {
		return ChangelogEntry{}, err
	}
	var st core.State
	if err := st.UnmarshalBinary(s.State); err != nil {
		return ChangelogEntry{}, fmt.Errorf("account %s: %w", s.Account, err)
	}
	e := ChangelogEntry{Account: s.Account, State: s.State, Time: s.Time}
	if w := st.WakeAt(); !w.IsZero() {
		e.Wake = w.UnixMilli()
	}
	return e, nil
}

// stableEnd returns the changelog partition's last stable offset once it
// reached target or, with no target, the high watermark of the first
// listing (a previous owner's transaction completing). It retries while
// the broker answers without the partition or with a retriable error
// (right after the topic was created, or while its leader moves). Without
// a target it settles for the stable offset after 10 s: a transaction left
// open by a dead owner is aborted by the broker and holds nothing to read.
func stableEnd(ctx context.Context, adm *kadm.Client, topic string, id int32, target int64) (kadm.ListedOffset, error) {
	const patience = 10 * time.Second
	deadline := time.Now().Add(patience)
	if target > 0 {
		deadline = time.Now().Add(6 * patience)
	} else if hw, err := adm.ListEndOffsets(ctx, topic); err == nil {
		if o, ok := hw.Lookup(topic, id); ok && o.Err == nil {
			target = o.Offset
		}
	}
	wait := 20 * time.Millisecond
	var last error
	var end kadm.ListedOffset
	for {
		ends, err := adm.ListCommittedOffsets(ctx, topic)
		o, ok := ends.Lookup(topic, id)
		switch {
		case ok && o.Err == nil && err == nil:
			end, last = o, nil
			if o.Offset >= target {
				return o, nil
			}
		case err != nil:
			last = err
		case ok:
			last = o.Err
		default:
			last = errors.New("partition missing from the listing")
			if te, ok := ends.Lookup(topic, -1); ok && te.Err != nil {
				last = fmt.Errorf("topic: %w", te.Err)
			}
		}
		if time.Now().After(deadline) {
			if last == nil {
				return end, nil // the caller decides whether short of target is acceptable
			}
			return end, fmt.Errorf("changelog %s[%d] last stable offset: %w", topic, id, last)
		}
		select {
		case <-ctx.Done():
			return end, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// Restore catches the store up from the changelog for the given partitions
// (all of the events topic's when empty), as a new owner would: it claims
// each partition (fencing a running owner, so stop the processors first) and
// writes every account state and timer newer than the store's changelog
// offset; on an empty store that is the whole compacted changelog.
func Restore(ctx context.Context, kcfg kafkax.Config, store Store, codec Codec, log *slog.Logger, partitions []int32) (int, error) {
	d := &deps{kcfg: kcfg, store: store, codec: codec, log: log, m: NewMetrics(nil).m, now: time.Now}
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
		meta, err := store.Claim(ctx, id)
		if err != nil {
			return 0, fmt.Errorf("partition %d: claim: %w", id, err)
		}
		if _, err := restorePartition(ctx, d, id, meta, 0); err != nil {
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
