package processor

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
)

// Codec decodes input and encodes output records (implemented by schemas.Codec).
type Codec interface {
	DecodeEvent(ctx context.Context, value []byte) (event.Event, error)
	DecodeStatus(ctx context.Context, value []byte) (event.AccountStatus, error)
	// EncodeStatusState encodes a status record and returns, besides it,
	// the slice of it that holds s.State (what the store saves).
	EncodeStatusState(ctx context.Context, topic string, s *event.AccountStatus) (value, state []byte, err error)
	EncodeAction(ctx context.Context, topic string, a *event.DunningAction) ([]byte, error)
	EncodeRisk(ctx context.Context, topic string, r *event.RiskEvent) ([]byte, error)
	EncodeGL(ctx context.Context, topic string, g *event.GLEntry) ([]byte, error)
	EncodeDeadLetter(ctx context.Context, topic string, d *event.DeadLetter) ([]byte, error)
}

// Processor is one instance of the processing loop (loop.go).
type Processor struct {
	d      *deps
	inputs map[string]bool
	opts   []kgo.Opt // extra client options (tests: fault injection)

	failures int // consecutive failed transactions (backoff)

	feed    *PolicyFeed // published policy versions (policyfeed.go); nil: the files
	baseEnv *core.Env   // the environment without versions

	mu     sync.Mutex           // guards parts, owned and joined
	parts  map[int32]*partition // partitions with records processed
	owned  map[int32]bool       // input partitions assigned to this process
	joined bool

	ender endGuard // how a transaction ends (txnend.go)

	progress atomic.Int64 // unix ms of the last commit or caught-up observation
	stalled  atomic.Bool
}

// New builds a processor; Run starts it.
func New(cfg Config, kcfg kafkax.Config, store Store, codec Codec, env *core.Env, m *Metrics, log *slog.Logger) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := kcfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Groups.validate(kcfg.Topics); err != nil {
		return nil, err
	}
	p := &Processor{
		d: &deps{cfg: cfg, kcfg: kcfg, store: store, codec: codec, env: env, m: m.m, log: log, now: time.Now,
			route: newRouter(cfg, kcfg.Topics.Events, log)},
		inputs: map[string]bool{}, parts: map[int32]*partition{}, owned: map[int32]bool{},
	}
	for _, t := range kcfg.Topics.Inputs() {
		p.inputs[t] = true
	}
	p.progress.Store(time.Now().UnixMilli())
	return p, nil
}

// Ready reports whether the processor has joined its group and is not
// stalled (input waiting and nothing committed for processor.stall_timeout).
func (p *Processor) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.joined && !p.stalled.Load()
}

// Stalled reports whether input is waiting and the loop made no progress
// for processor.stall_timeout (watch.go).
func (p *Processor) Stalled() bool { return p.stalled.Load() }

// Owned lists the input partitions currently assigned to this process.
func (p *Processor) Owned() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]int32, 0, len(p.owned))
	for id := range p.owned {
		out = append(out, id)
	}
	return out
}

// sessionOpts are the options of one consumer-group transaction session.
func (p *Processor) sessionOpts() []kgo.Opt {
	cfg, topics := p.d.cfg, p.d.kcfg.Topics
	opts := append(p.d.kcfg.ClientOpts(),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(topics.Inputs()...),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		// What the consumer buffers beyond a poll: franz-go's defaults (50 MiB,
		// 1 MiB a partition, compressed) held ~180k decoded input records,
		// the largest part of the heap, for transactions of at most
		// max_records_per_txn.
		kgo.FetchMaxBytes(int32(cfg.FetchMaxBytes)),
		kgo.FetchMaxPartitionBytes(int32(cfg.FetchMaxPartitionBytes)),
		// transaction markers come with the records, so that the offsets a
		// transaction commits step over them (forwarded copies make the
		// input transactional: misroute.go); the partition drops them
		kgo.KeepControlRecords(),
		// inputs: a misrouted record is forwarded to the partition set on it
		kgo.RecordPartitioner(kafkax.KeyOrExplicit(append(topics.Inputs(), topics.Status, topics.Accepted)...)),
		kgo.ProducerLinger(cfg.ProduceLinger), // the transaction's end flushes (emitter.wait)
		kgo.OnPartitionsAssigned(p.assigned),
		kgo.OnPartitionsRevoked(p.revoked),
		kgo.OnPartitionsLost(p.lost),
		kafkax.WatchAssignment(topics.Events, p.synced),
	)
	if first := topics.ReadFirst; len(first) > 0 {
		opts = append(opts, readFirst(first)...)
	}
	return append(opts, p.opts...)
}

// readFirst are the consumer options of kafka.topics.read_first: every
// fetch request asks for the first topics' partitions first, then the
// others in the client's own rotation. Kafka fills a fetch response in
// request order and a poll hands over a fetch's records in its order, so
// the first topics' records are never behind the others' in a fetch. Fetch
// sessions (KIP-227) are off: within a session the broker answers in its
// own order, moving partitions that returned data to the end, which put
// the first topics behind a burst again (TestReadFirstOrder); without one
// every request lists all partitions (a few hundred bytes here).
func readFirst(first []string) []kgo.Opt {
	order := func(_ map[string]map[int32]int64, _ []string, _ map[string][]int32) ([]string, map[string][]int32) {
		return slices.Clone(first), nil // franz-go edits the order it is given
	}
	return []kgo.Opt{kgo.ConsumePreferringLagFn(order), kgo.DisableFetchSessions()}
}

// partition returns the owned partition's worker, creating it if needed.
func (p *Processor) partition(id int32) *partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	part, ok := p.parts[id]
	if !ok {
		part = newPartition(id, p.d)
		p.parts[id] = part
	}
	return part
}

// dropAll forgets every partition (the session is gone).
func (p *Processor) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parts = map[int32]*partition{}
	p.owned = map[int32]bool{}
	p.joined = false
}

func (p *Processor) assigned(_ context.Context, cl *kgo.Client, m map[string][]int32) {
	p.d.route.assigned(cl) // every rebalance: read the partition count again
	p.mu.Lock()
	for _, id := range m[p.d.kcfg.Topics.Events] {
		p.owned[id] = true
	}
	p.joined = true
	p.mu.Unlock()
	p.d.log.Info("partitions assigned", "partitions", m)
}

// lost: the group session is gone (the broker or coordinator unreachable
// past the session timeout): until partitions are assigned again this
// process is not ready, and the stall watch counts the time as stuck.
func (p *Processor) lost(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	p.revoked(ctx, cl, m) // which also marks the rebalance for the end guard (txnend.go)
	p.mu.Lock()
	p.joined = false
	p.mu.Unlock()
}

func (p *Processor) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	var ids []int32
	for t, ps := range m {
		if p.inputs[t] {
			ids = append(ids, ps...)
		}
	}
	p.release(ids)
	p.d.log.Info("partitions revoked", "partitions", m)
}

// synced releases the owned partitions the group's new assignment no
// longer names (kafkax.WatchAssignment): the transaction session skips
// the revoke callback for a second revocation before its next End, and
// an idle processor ends no transaction, so it would go on firing the
// wake-ups of a partition another process owns.
func (p *Processor) synced(keep map[int32]bool) {
	p.mu.Lock()
	var gone []int32
	for id := range p.owned {
		if !keep[id] {
			gone = append(gone, id)
		}
	}
	p.mu.Unlock()
	if len(gone) > 0 {
		p.release(gone)
		p.d.log.Info("partitions revoked by the group's assignment", "partitions", gone)
	}
}

// release forgets the given input partitions: no longer owned, their
// cached state dropped (a later owner restores it from the store).
func (p *Processor) release(ids []int32) {
	defer p.ender.rebalancing()() // never while a transaction ends (txnend.go)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		delete(p.parts, id)
		delete(p.owned, id)
	}
}
