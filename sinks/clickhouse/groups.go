package chsink

import (
	"context"
	"fmt"
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
// group_exposure row per record: the node's figures at the record's time,
// a tombstone marking the group's end. Exactly once as the other topics:
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
// fault (dead-lettered).
func groupRows(rec *kgo.Record, now time.Time) ([]analytics.Row, error) {
	if len(rec.Key) == 0 {
		return nil, nil
	}
	var n *group.Node
	if rec.Value != nil {
		var err error
		if n, err = group.DecodeNode(rec.Value); err != nil {
			return nil, fmt.Errorf("%w: group node: %w", schemas.ErrMalformed, err) // the record's fault: dead-lettered
		}
	}
	src := analytics.Source{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
	return []analytics.Row{analytics.GroupExposureRow(string(rec.Key), n, rec.Timestamp, src, now)}, nil
}
