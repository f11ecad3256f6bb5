package chsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// The group exposure history (migration 0012, docs/analytics.md): the sink
// also consumes the group stage's compacted changelog
// (kafka.topics.group_changelog) once that topic exists (collections
// groups enabled and `arrears topics create` run) and its principal may
// read it, and lands one
// group_exposure row per record: the node's figures as of the writer's
// clock (the node's At, see groupRows), a tombstone marking the group's end. Exactly once as the other topics:
// read_committed (a node is written in the group stage's transaction), and
// the row's key is the record's partition and offset, so a re-delivery
// collapses under FINAL.

// Readable or not, never silently: when the configured changelog cannot
// be read at start (absent: groups not enabled or `arrears topics create`
// not run yet; unauthorized: no Read ACL for the sink's principal), the
// sink lands everything else, says so once (Info when absent, Error when
// unauthorized, again only when the reason changes), sets
// arrears_sink_group_changelog_unreadable{reason} to 1, and checks again
// every sink.group_changelog_recheck; the check that finds it readable adds
// it to the consumed topics (from the start: the group's committed
// offsets, else the earliest) and the gauge goes back to 0.

// Why the group changelog cannot be read (unreadable's reason label).
const (
	changelogAbsent       = "absent"
	changelogUnauthorized = "unauthorized"
)

// checkGroupChangelog reports why kcfg's group changelog cannot be read
// ("" when it can). The topic's authorized operations (KIP-430) tell a
// principal that may Describe but not Read it; a broker that does not
// report them is taken at its metadata. An unreachable broker, or metadata
// refused as a whole, is an error.
func checkGroupChangelog(ctx context.Context, kcfg kafkax.Config) (string, error) {
	topic := kcfg.Topics.GroupChangelog
	cl, err := kgo.NewClient(kcfg.ClientOpts()...)
	if err != nil {
		return "", fmt.Errorf("chsink: kafka client: %w", err)
	}
	defer cl.Close()
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).ListTopics(kadm.WithAuthorizedOps(lctx), topic)
	if errors.Is(err, kerr.TopicAuthorizationFailed) { // not even Describe (kadm fails the listing for it)
		return changelogUnauthorized, nil
	}
	if err != nil {
		return "", fmt.Errorf("chsink: list topic %s: %w", topic, kcfg.Explain(err))
	}
	d, ok := md[topic]
	switch {
	case ok && errors.Is(d.Err, kerr.TopicAuthorizationFailed):
		return changelogUnauthorized, nil
	case !ok || d.Err != nil || len(d.Partitions) == 0:
		return changelogAbsent, nil
	case len(d.AuthorizedOperations) > 0 && !slices.ContainsFunc(d.AuthorizedOperations, func(op kadm.ACLOperation) bool {
		return op == kmsg.ACLOperationRead || op == kmsg.ACLOperationAll
	}):
		return changelogUnauthorized, nil
	}
	return "", nil
}

// changelogWatch re-checks an unreadable group changelog until it is
// readable.
type changelogWatch struct {
	topic  string
	every  time.Duration
	check  func(context.Context) (string, error)
	m      *Metrics
	log    *slog.Logger
	reason string        // the last reason logged
	ready  chan struct{} // closed when the topic became readable
}

// note records reason ("" readable) in the gauge and logs a new one once.
func (w *changelogWatch) note(reason string) {
	for _, r := range []string{changelogAbsent, changelogUnauthorized} {
		v := 0.0
		if r == reason {
			v = 1
		}
		w.m.ChangelogUnreadable.WithLabelValues(r).Set(v)
	}
	if reason == w.reason {
		return
	}
	w.reason = reason
	switch reason {
	case changelogAbsent:
		w.log.Info("group changelog topic does not exist (yet): group_exposure is not landed until it does; checking again",
			"topic", w.topic, "every", w.every)
	case changelogUnauthorized:
		w.log.Error("the sink's Kafka principal may not read the group changelog (Read ACL on the topic, docs/security.md): "+
			"group_exposure is not landed until it may; checking again", "topic", w.topic, "every", w.every)
	}
}

// run checks every w.every until the topic is readable (then closes
// w.ready) or ctx ends. A failed check (the broker unreachable) is retried
// at the next tick.
func (w *changelogWatch) run(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reason, err := w.check(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Debug("group changelog check failed; retrying", "topic", w.topic, "err", err)
			}
			continue
		}
		w.note(reason)
		if reason == "" {
			close(w.ready)
			return
		}
	}
}

// consumeChangelog starts landing the group changelog once the watch found
// it readable (called from Run's goroutine, which owns the decoder).
func (s *Sink) consumeChangelog() {
	w := s.watch
	if w == nil {
		return
	}
	select {
	case <-w.ready:
	default:
		return
	}
	s.watch = nil
	s.dec.kinds[w.topic] = kindGroups
	s.cl.AddConsumeTopics(w.topic)
	s.log.Info("group changelog readable: landing group_exposure", "topic", w.topic)
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
