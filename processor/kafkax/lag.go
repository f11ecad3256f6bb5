package kafkax

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Lag is the number of committed records a consumer group has not yet
// consumed, over the topics it has offsets for (or the given topics).
//
// Transaction markers occupy offsets a consumer never sees, so a group that
// consumed everything may commit an offset just below the end: for partitions
// where that is possible, Lag reads at the committed offset (read_committed)
// and counts the partition as caught up if no record is there.
func Lag(ctx context.Context, c Config, group string, topics ...string) (int64, error) {
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	if len(topics) == 0 {
		for t := range committed {
			topics = append(topics, t)
		}
	}
	if len(topics) == 0 {
		return 0, fmt.Errorf("group %s has no committed offsets yet", group)
	}
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("list end offsets: %w", err)
	}
	var lag int64
	probe := map[string]map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		at := int64(0)
		if c, ok := committed.Lookup(o.Topic, o.Partition); ok {
			at = c.At
		}
		if d := o.Offset - at; d > 0 {
			lag += d
			if probe[o.Topic] == nil {
				probe[o.Topic] = map[int32]kgo.Offset{}
			}
			probe[o.Topic][o.Partition] = kgo.NewOffset().At(at)
		}
	})
	if lag == 0 || lag > 1000 {
		return lag, nil
	}
	// Small lag: find out whether real records remain or only markers.
	pc, err := kgo.NewClient(append(c.ClientOpts(), kgo.ConsumePartitions(probe),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(300*time.Millisecond))...)
	if err != nil {
		return 0, err
	}
	defer pc.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var real int64
	for pctx.Err() == nil {
		fs := pc.PollFetches(pctx)
		real += int64(len(fs.Records()))
		if real > 0 {
			break
		}
	}
	return real, nil
}

// WaitCaughtUp polls Lag until every group has consumed everything or the
// timeout passes.
func WaitCaughtUp(ctx context.Context, c Config, timeout time.Duration, groups ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		pending := int64(0)
		var lastErr error
		for _, g := range groups {
			n, err := Lag(ctx, c, g)
			if err != nil {
				lastErr = err
				pending++
				continue
			}
			pending += n
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("not caught up: %w", lastErr)
			}
			return fmt.Errorf("not caught up after %s: %d records pending", timeout, pending)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
