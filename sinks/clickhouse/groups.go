package chsink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// The group exposure history (migration 0012, docs/analytics.md): the sink
// also consumes the group stage's compacted changelog
// (kafka.topics.group_changelog) when that topic exists (collections
// groups enabled and `arrears topics create` run) and lands one
// group_exposure row per record: the node's figures as of the writer's
// clock (the node's At, see groupRows), a tombstone marking the group's end. Exactly once as the other topics:
// read_committed (a node is written in the group stage's transaction), and
// the row's key is the record's partition and offset, so a re-delivery
// collapses under FINAL.

// withGroupChangelog is kcfg's topics with GroupChangelog cleared when that
// topic does not exist (or this principal may not see it): the sink then
// lands everything else. An unreachable broker is an error.
func withGroupChangelog(ctx context.Context, kcfg kafkax.Config) (kafkax.Topics, error) {
	t := kcfg.Topics
	if t.GroupChangelog == "" {
		return t, nil
	}
	cl, err := kgo.NewClient(kcfg.ClientOpts()...)
	if err != nil {
		return t, fmt.Errorf("chsink: kafka client: %w", err)
	}
	defer cl.Close()
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).ListTopics(lctx, t.GroupChangelog)
	if err != nil {
		return t, fmt.Errorf("chsink: list topic %s: %w", t.GroupChangelog, kcfg.Explain(err))
	}
	if d, ok := md[t.GroupChangelog]; !ok || d.Err != nil || len(d.Partitions) == 0 {
		t.GroupChangelog = ""
	}
	return t, nil
}

// groupRows is the group_exposure row of one group changelog record: the
// key is the node's id, the value its JSON (nil: a tombstone). A record
// without a key gives nothing; a value that is no node is the record's
// fault (dead-lettered). as_of is the writer's clock, never the Kafka
// record's timestamp (the group stage's wall time at produce, which in a
// simulated-time run, gen, demo, bench or a test moving the clock with the
// input, is nowhere near the facts' times): a node's At (the latest account
// stage partition clock of the records applied to it); a node without At
// (written before the field existed) keeps the record's timestamp. A
// tombstone carries no node: its as_of is its changelog partition's clock
// before it (groupClock), so a group's end sorts after its last change.
func (d *decoder) groupRows(ctx context.Context, rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	if len(rec.Key) == 0 {
		return nil, nil
	}
	var n *group.Node
	at := rec.Timestamp
	if rec.Value != nil {
		var err error
		if n, err = group.DecodeNode(rec.Value); err != nil {
			return nil, fmt.Errorf("%w: group node: %w", schemas.ErrMalformed, err) // the record's fault: dead-lettered
		}
		if n.At > 0 {
			at = time.UnixMilli(n.At).UTC()
			d.groups.saw(rec.Partition, n.At)
		}
	} else {
		ms, err := d.groups.before(ctx, rec.Partition, rec.Offset)
		if err != nil {
			return nil, err
		}
		if ms > 0 {
			at = time.UnixMilli(ms).UTC()
		}
	}
	src := analytics.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
	return []analytics.Row{analytics.GroupExposureRow(string(rec.Key), n, at, src, now)}, nil
}

// groupClock keeps, per group changelog partition, the latest writer clock
// (Node.At, Unix ms) of the nodes decoded, for the as_of of a tombstone.
// What the sink has not seen since its start or the last rebalance (another
// sink may have landed records of the partition meanwhile) it reads once
// per partition from ClickHouse (landed: the latest as_of_ms landed on the
// partition before the tombstone's offset), so a re-delivered tombstone
// gets the same as_of (and the same month partition, where FINAL collapses
// it). Safe for concurrent use (Reset comes from the rebalance callbacks).
type groupClock struct {
	mu     sync.Mutex
	at     map[int32]int64
	synced map[int32]bool
	landed func(ctx context.Context, partition int32, offset int64) (int64, error)
}

func newGroupClock(landed func(context.Context, int32, int64) (int64, error)) *groupClock {
	return &groupClock{at: map[int32]int64{}, synced: map[int32]bool{}, landed: landed}
}

// Reset forgets what was seen (on every assignment change).
func (c *groupClock) Reset() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.at)
	clear(c.synced)
}

func (c *groupClock) saw(p int32, ms int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[p] = max(c.at[p], ms)
}

// before is the partition's writer clock before offset (0: unknown). A
// failed read of ClickHouse is returned (transient: the decode is retried).
func (c *groupClock) before(ctx context.Context, p int32, offset int64) (int64, error) {
	if c == nil {
		return 0, nil
	}
	c.mu.Lock()
	synced, ms := c.synced[p], c.at[p]
	c.mu.Unlock()
	if synced || c.landed == nil {
		return ms, nil
	}
	l, err := c.landed(ctx, p, offset)
	if err != nil {
		return 0, fmt.Errorf("group changelog clock of partition %d: %w", p, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[p] = max(c.at[p], l)
	c.synced[p] = true
	return c.at[p], nil
}

// landedGroupClock reads the latest as_of_ms conn holds for changelog
// partition p before offset (0: none).
func landedGroupClock(conn *analytics.Conn) func(context.Context, int32, int64) (int64, error) {
	return func(ctx context.Context, p int32, offset int64) (int64, error) {
		var ms int64
		q := fmt.Sprintf("SELECT toInt64(max(as_of_ms)) FROM %s WHERE kafka_partition = %d AND kafka_offset < %d",
			conn.Table(analytics.GroupExposureTable.Name), p, offset)
		if err := conn.QueryRow(ctx, q).Scan(&ms); err != nil {
			return 0, err
		}
		return ms, nil
	}
}
