package processor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/group"
)

// groupNodeCache bounds the nodes a group partition keeps decoded.
const groupNodeCache = 5000

// groupPart is one owned partition of the group stage: its nodes, cached
// between batches, and the batch being built.
type groupPart struct {
	id int32
	d  *deps
	m  *groupMetrics

	inited    bool
	epoch     int64
	changelog int64 // next changelog offset after the committed records
	cache     map[string]*group.Node
	batch     *Batch
	events    EventEncoder // nil: no group events (group_dunning.go)
	conds     []group.Condition
}

// reset forgets everything in memory; the next batch re-reads the store.
func (gp *groupPart) reset() {
	gp.inited = false
	gp.cache = nil
	gp.batch = nil
}

// init claims the partition in the group store and catches the store up
// from the group changelog (restorePartition, as the account stage).
func (gp *groupPart) init(ctx context.Context) error {
	meta, err := gp.d.store.Claim(ctx, gp.id)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	gp.epoch = meta.Epoch
	res, err := restorePartition(ctx, gp.d, gp.id, meta, gp.changelog)
	if err != nil {
		return fmt.Errorf("restore from the group changelog: %w", err)
	}
	gp.changelog = res.changelog
	gp.cache = map[string]*group.Node{}
	gp.inited = true
	return nil
}

// groupInput is one decoded contribution record.
type groupInput struct {
	key    string
	rec    group.Record
	offset int64
}

// process applies one poll of the partition's records into the open
// transaction: load the nodes, apply the records in offset order, settle
// every changed node (its totals, what it forwards to its parent) and write
// it to the group changelog.
func (gp *groupPart) process(ctx context.Context, recs []*kgo.Record, em *emitter) error {
	if !gp.inited {
		if err := gp.init(ctx); err != nil {
			return err
		}
	}
	applied := map[string]int64{}
	var ins []groupInput
	var missing []string
	for _, r := range recs {
		applied[r.Topic] = r.Offset
		if r.Attrs.IsControl() {
			continue
		}
		rec, err := group.DecodeRecord(r.Value)
		if err != nil || len(r.Key) == 0 {
			// not a record the account or group stage wrote: nothing to apply
			gp.d.log.Error("skipping an unreadable group contribution", "partition", gp.id, "offset", r.Offset)
			gp.m.records.WithLabelValues("unreadable").Inc()
			continue
		}
		k := string(r.Key)
		if gp.cache[k] == nil && !slices.Contains(missing, k) {
			missing = append(missing, k)
		}
		ins = append(ins, groupInput{key: k, rec: rec, offset: r.Offset})
	}
	if err := gp.load(ctx, missing); err != nil {
		return err
	}
	dirty := map[string]bool{}
	before := map[string]nodeBefore{} // group_dunning.go
	var version int64
	for _, in := range ins {
		outcome := "repeat"
		if _, ok := before[in.key]; !ok && gp.events != nil {
			before[in.key] = snapshotNode(gp.cache[in.key])
		}
		if gp.cache[in.key].Apply(in.rec, in.offset) {
			dirty[in.key] = true
			outcome = "applied"
		}
		gp.m.records.WithLabelValues(outcome).Inc()
		version = in.offset
	}
	b := &Batch{Applied: applied, Put: map[string][]byte{}, Timers: map[string]int64{}}
	keys := make([]string, 0, len(dirty))
	for k := range dirty {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := gp.d.kcfg.Topics
	for _, k := range keys {
		n := gp.cache[k]
		for _, o := range n.Settle(k, version) {
			o.Record.At = n.At
			v, err := o.Record.Encode()
			if err != nil {
				return fmt.Errorf("%w: group forward: %w", errEncode, err)
			}
			em.produce(&kgo.Record{Topic: t.GroupContributions, Key: []byte(o.Key), Value: v})
			gp.m.forwards.Inc()
		}
		if gp.events != nil {
			n.WorkConditions(k, gp.conds) // a top's conditions from its totals (group/conditions.go)
		}
		if err := gp.groupEvents(ctx, em, k, n, before[k], version); err != nil {
			return err
		}
		var v []byte
		if !n.Empty() {
			var err error
			if v, err = n.Encode(); err != nil {
				return fmt.Errorf("%w: group node: %w", errEncode, err)
			}
		}
		b.Put[k] = v // nil: the node is deleted, its changelog record a tombstone
		gp.m.nodes.Inc()
		em.produceStatus(&kgo.Record{Topic: t.GroupChangelog, Partition: gp.id, Key: []byte(k), Value: v})
	}
	gp.batch = b
	return nil
}

// load reads nodes into the cache (absent: new nodes).
func (gp *groupPart) load(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	vals, err := gp.d.store.Load(ctx, gp.id, gp.epoch, keys)
	if err != nil {
		return fmt.Errorf("load group nodes: %w", err)
	}
	for _, k := range keys {
		n, err := group.DecodeNode(vals[k].State)
		if err != nil {
			return err
		}
		gp.cache[k] = n
	}
	return nil
}

// persist writes the committed batch to the group store (fenced like the
// account stage's); a flushed store is restored from the changelog.
func (gp *groupPart) persist(ctx context.Context, changelog int64, wrote bool) error {
	if wrote {
		gp.changelog = changelog
	}
	b := gp.batch
	gp.batch = nil
	if b == nil || len(b.Applied) == 0 {
		return nil
	}
	b.Changelog = gp.changelog
	err := gp.d.store.Apply(ctx, gp.id, gp.epoch, b)
	switch {
	case err == nil, errors.Is(err, ErrStale):
		if len(gp.cache) > groupNodeCache {
			gp.cache = map[string]*group.Node{}
		}
		return nil
	case errors.Is(err, ErrLost):
		gp.d.log.Warn("group partition state missing in the store; restoring from the changelog", "partition", gp.id)
		gp.reset()
		return gp.init(ctx)
	}
	return fmt.Errorf("group store batch: %w", err)
}
