package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
)

// GroupStage is the second stage of collections groups (docs/processing.md
// "Collections groups"): it consumes kafka.topics.group_contributions in
// its own consumer group and, one Kafka transaction per poll, keeps every
// group node (each child's latest contribution and the totals) in its
// store, forwards a node's subtree to the node's own parent on the same
// topic, and writes each changed node to kafka.topics.group_changelog. The
// store, its fencing and the changelog restore are the account stage's
// (Store, restorePartition, emitter): a node is an "account" of the group
// store, the changelog its status topic.
type GroupStage struct {
	d   *deps
	cfg GroupsConfig
	m   *groupMetrics
	// events writes the group events (nil: none; group_dunning.go)
	events EventEncoder

	mu    sync.Mutex
	parts map[int32]*groupPart
}

// NewGroupStage builds the group stage of cfg.Groups; store is the group
// store (a prefix of its own, never the account stage's); reg (nil: none)
// receives its arrears_groups_* metrics.
func NewGroupStage(cfg Config, kcfg kafkax.Config, store Store, reg prometheus.Registerer, log *slog.Logger) (*GroupStage, error) {
	if err := kcfg.Validate(); err != nil {
		return nil, err
	}
	g := cfg.Groups
	g.Enabled = true
	if err := g.validate(kcfg.Topics); err != nil {
		return nil, err
	}
	gk := kcfg
	gk.Topics.Status = kcfg.Topics.GroupChangelog // restorePartition reads the group changelog
	d := &deps{cfg: cfg, kcfg: gk, store: store, log: log.With("stage", "groups"), m: NewMetrics(nil).m, now: time.Now, groupStage: true}
	return &GroupStage{d: d, cfg: g.resolved(cfg), m: newGroupMetrics(reg), parts: map[int32]*groupPart{}}, nil
}

// decodeChangelog reads one changelog record as restore writes it back:
// an account's status record, or (group stage) a group node keyed by its id.
func (d *deps) decodeChangelog(ctx context.Context, r *kgo.Record) (ChangelogEntry, error) {
	if d.groupStage {
		return ChangelogEntry{Account: string(r.Key), State: r.Value}, nil
	}
	return DecodeChangelog(ctx, d.codec, r.Value)
}

func (g *GroupStage) opts() []kgo.Opt {
	t := g.d.kcfg.Topics
	return append(g.d.kcfg.ClientOpts(),
		kgo.ConsumerGroup(g.cfg.GroupID),
		kgo.ConsumeTopics(t.GroupContributions),
		kgo.TransactionalID(g.cfg.TransactionalID),
		kgo.TransactionTimeout(g.d.cfg.TransactionTimeout),
		kgo.SessionTimeout(g.d.cfg.SessionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.KeepControlRecords(), // committed offsets step over the markers (the input is transactional)
		kgo.FetchMaxBytes(int32(g.d.cfg.FetchMaxBytes)),
		kgo.FetchMaxPartitionBytes(int32(g.d.cfg.FetchMaxPartitionBytes)),
		// the changelog goes to the node's own partition; forwards by key,
		// as the account stage writes them (murmur2)
		kgo.RecordPartitioner(kafkax.KeyOrExplicit(t.GroupChangelog)),
		kgo.ProducerLinger(g.d.cfg.ProduceLinger), // the transaction's end flushes (emitter.wait)
		kgo.OnPartitionsRevoked(g.revoked),
		kgo.OnPartitionsLost(g.revoked),
		kafkax.WatchAssignment(t.GroupContributions, g.synced), // the revoke callback can be skipped (Processor.synced)
	)
}

// Run consumes until ctx is cancelled; nil on a clean shutdown. The two
// group topics must exist and be co-partitioned (a node's changelog
// partition is its contributions partition).
func (g *GroupStage) Run(ctx context.Context) error {
	if err := g.checkTopics(ctx); err != nil {
		return err
	}
	failures := 0
	for {
		sess, err := kgo.NewGroupTransactSession(g.opts()...)
		if err != nil {
			return fmt.Errorf("kafka session (groups): %w", err)
		}
		g.d.log.Info("group stage started", "group", g.cfg.GroupID, "transactional_id", g.cfg.TransactionalID)
		err = g.loop(ctx, sess)
		sess.Close()
		g.drop(nil)
		if ctx.Err() != nil {
			return nil
		}
		if securityFailure(err) {
			return g.d.kcfg.Explain(err)
		}
		g.d.log.Error("group stage session ended; starting a new one", "err", err)
		failures++
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(100*time.Millisecond<<min(failures, 10), g.d.cfg.RetryMax)):
		}
	}
}

// loop runs one transaction per poll until the session is unusable.
func (g *GroupStage) loop(ctx context.Context, sess *kgo.GroupTransactSession) error {
	for {
		fs := sess.PollRecords(ctx, g.cfg.MaxPollRecords)
		if fs.IsClientClosed() {
			return fmt.Errorf("poll: %w", kgo.ErrClientClosed)
		}
		if ctx.Err() != nil {
			return nil
		}
		byPart := map[int32][]*kgo.Record{}
		fs.EachPartition(func(fp kgo.FetchTopicPartition) {
			byPart[fp.Partition] = append(byPart[fp.Partition], fp.Records...)
		})
		if len(byPart) == 0 {
			continue
		}
		if err := g.transact(ctx, sess, byPart); err != nil {
			var fatal *fatalSession
			if errors.As(err, &fatal) {
				return err
			}
			g.d.log.Warn("group transaction aborted; retrying from the committed offsets", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// fatalSession: the session cannot go on (End failed).
type fatalSession struct{ err error }

func (f *fatalSession) Error() string { return f.err.Error() }
func (f *fatalSession) Unwrap() error { return f.err }

// transact runs one transaction over the poll's partitions, then writes
// the committed nodes to the store.
func (g *GroupStage) transact(ctx context.Context, sess *kgo.GroupTransactSession, byPart map[int32][]*kgo.Record) error {
	if err := sess.Begin(); err != nil {
		return &fatalSession{fmt.Errorf("begin transaction: %w", err)}
	}
	em := newEmitter(ctx, sess.Client())
	ids := make([]int32, 0, len(byPart))
	for id := range byPart {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	parts := make([]*groupPart, 0, len(ids))
	var err error
	for _, id := range ids {
		gp := g.part(id)
		parts = append(parts, gp)
		if err = gp.process(ctx, byPart[id], em); err != nil {
			err = fmt.Errorf("group partition %d: %w", id, err)
			break
		}
	}
	if err == nil {
		err = em.wait(ctx)
	}
	how := kgo.TryCommit
	if err != nil {
		how = kgo.TryAbort
	}
	committed, endErr := sess.End(ctx, how)
	if endErr != nil || !committed || err != nil {
		g.m.transactions.WithLabelValues("aborted").Inc()
		for _, gp := range parts {
			gp.reset()
		}
		if endErr != nil {
			return &fatalSession{fmt.Errorf("end transaction: %w", endErr)}
		}
		if err == nil {
			err = errAborted
		}
		return err
	}
	g.m.transactions.WithLabelValues("committed").Inc()
	ctx, cancel := afterCommit(ctx)
	defer cancel()
	for _, gp := range parts {
		end, wrote := em.changelogEnd(gp.id)
		if err := gp.persist(ctx, end, wrote); err != nil {
			gp.reset() // the next batch catches up from the changelog
			return err
		}
	}
	return nil
}

func (g *GroupStage) part(id int32) *groupPart {
	g.mu.Lock()
	defer g.mu.Unlock()
	gp, ok := g.parts[id]
	if !ok {
		gp = &groupPart{id: id, d: g.d, m: g.m, events: g.events, conds: g.cfg.Conditions}
		g.parts[id] = gp
	}
	return gp
}

// drop forgets the given partitions (all when m is nil).
func (g *GroupStage) drop(ids []int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ids == nil {
		g.parts = map[int32]*groupPart{}
		return
	}
	for _, id := range ids {
		delete(g.parts, id)
	}
}

func (g *GroupStage) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	if ids, ok := m[g.d.kcfg.Topics.GroupContributions]; ok {
		g.drop(ids)
	}
	g.d.log.Info("group partitions revoked", "partitions", m)
}

// synced drops the cached partitions the group's new assignment no longer
// names, as Processor.synced does: a partition revoked without the
// callback and assigned back later would otherwise keep a stale cache.
func (g *GroupStage) synced(keep map[int32]bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for id := range g.parts {
		if !keep[id] {
			delete(g.parts, id)
		}
	}
}

// checkTopics verifies the group topics exist with one partition count;
// a topic just created may take a moment to show in the metadata.
func (g *GroupStage) checkTopics(ctx context.Context) error {
	cl, err := kgo.NewClient(g.d.kcfg.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		err := g.checkTopicsOnce(ctx, kadm.NewClient(cl))
		if err == nil || !errors.Is(err, errMissingTopic) || wait > 10*time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

var errMissingTopic = errors.New("missing topic")

func (g *GroupStage) checkTopicsOnce(ctx context.Context, adm *kadm.Client) error {
	t := g.d.kcfg.Topics
	md, err := adm.ListTopics(ctx, t.GroupContributions, t.GroupChangelog)
	if err != nil {
		return g.d.kcfg.Explain(fmt.Errorf("list group topics: %w", err))
	}
	n := -1
	for _, name := range []string{t.GroupContributions, t.GroupChangelog} {
		d, ok := md[name]
		if !ok || d.Err != nil {
			return fmt.Errorf("%w %s (run `arrears topics create`)", errMissingTopic, name)
		}
		if n >= 0 && len(d.Partitions) != n {
			return fmt.Errorf("%w: %s has %d partitions, %s has %d", kafkax.ErrNotCoPartitioned, name, len(d.Partitions), t.GroupContributions, n)
		}
		n = len(d.Partitions)
	}
	return nil
}
