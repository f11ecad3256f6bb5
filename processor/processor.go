package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	EncodeStatus(ctx context.Context, topic string, s *event.AccountStatus) ([]byte, error)
	EncodeAction(ctx context.Context, topic string, a *event.DunningAction) ([]byte, error)
	EncodeRisk(ctx context.Context, topic string, r *event.RiskEvent) ([]byte, error)
	EncodeGL(ctx context.Context, topic string, g *event.GLEntry) ([]byte, error)
	EncodeDeadLetter(ctx context.Context, topic string, d *event.DeadLetter) ([]byte, error)
}

// Processor is one instance of the processing loop.
type Processor struct {
	cfg    Config
	kcfg   kafkax.Config
	store  Store
	codec  Codec
	env    *core.Env
	log    *slog.Logger
	m      *metrics
	inputs map[string]bool

	sess     *kgo.GroupTransactSession
	failures int // consecutive failed batches (backoff)

	mu    sync.Mutex           // guards parts, owned and ready
	parts map[int32]*partition // partitions with records processed
	owned map[int32]bool       // input partitions assigned to this process
	ready bool
}

// New builds a processor; Run starts it.
func New(cfg Config, kcfg kafkax.Config, store Store, codec Codec, env *core.Env, m *Metrics, log *slog.Logger) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := kcfg.Validate(); err != nil {
		return nil, err
	}
	p := &Processor{
		cfg: cfg, kcfg: kcfg, store: store, codec: codec, env: env, log: log, m: m.m,
		inputs: map[string]bool{}, parts: map[int32]*partition{}, owned: map[int32]bool{},
	}
	for _, t := range kcfg.Topics.Inputs() {
		p.inputs[t] = true
	}
	return p, nil
}

// Ready reports whether the processor has joined its group (been assigned
// partitions) or processed a poll.
func (p *Processor) Ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ready
}

// Run consumes until ctx is cancelled. It returns nil on a clean shutdown.
// The whole data path is here: fetch -> decode/apply per partition -> emit
// -> commit -> store.
func (p *Processor) Run(ctx context.Context) error {
	opts := append(p.kcfg.ClientOpts(),
		kgo.ConsumerGroup(p.cfg.GroupID),
		kgo.ConsumeTopics(p.kcfg.Topics.Inputs()...),
		kgo.TransactionalID(p.cfg.TransactionalID),
		kgo.TransactionTimeout(p.cfg.TransactionTimeout),
		kgo.SessionTimeout(p.cfg.SessionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.RecordPartitioner(outputPartitioner{status: p.kcfg.Topics.Status}),
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
		kgo.ProducerLinger(0),
		kgo.OnPartitionsAssigned(p.assigned),
		kgo.OnPartitionsRevoked(p.revoked),
		kgo.OnPartitionsLost(p.revoked),
	)
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return fmt.Errorf("kafka session: %w", err)
	}
	p.sess = sess
	defer sess.Close()
	p.log.Info("processor started", "group", p.cfg.GroupID, "transactional_id", p.cfg.TransactionalID, "inputs", p.kcfg.Topics.Inputs())

	for {
		// 1. fetch
		fetches := sess.PollRecords(ctx, p.cfg.MaxPollRecords)
		if ctx.Err() != nil {
			p.log.Info("processor stopping")
			return nil
		}
		if fetches.IsClientClosed() {
			return errors.New("kafka client closed")
		}
		fetches.EachError(func(t string, part int32, err error) {
			p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		})
		byPart := map[int32][]*kgo.Record{}
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			byPart[fp.Partition] = append(byPart[fp.Partition], fp.Records...)
			last := fp.Records[len(fp.Records)-1]
			p.m.lag.WithLabelValues(fp.Topic, fmt.Sprint(fp.Partition)).Set(float64(fp.HighWatermark - last.Offset - 1))
		})
		p.mu.Lock()
		p.ready = true
		p.mu.Unlock()
		if len(byPart) == 0 {
			continue
		}
		err := p.batch(ctx, byPart)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			p.backoff(ctx, err)
			continue
		}
		p.failures = 0
	}
}

// backoff waits after a failed batch. A failure of the store, of the
// changelog read or of Kafka is not the end of the process: the batch's
// partitions were reset, so the next poll re-reads them from the last
// committed offsets and catches the store up from the changelog first.
// Waits double from 100 ms up to 10 s while failures repeat.
func (p *Processor) backoff(ctx context.Context, err error) {
	p.m.failures.Inc()
	wait := 100 * time.Millisecond << min(p.failures, 7)
	wait = min(wait, 10*time.Second)
	p.failures++
	p.log.Error("batch failed; retrying from the last committed offsets", "err", err, "consecutive", p.failures, "backoff", wait.String())
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

// batch runs one transaction over all partitions of a poll.
func (p *Processor) batch(ctx context.Context, byPart map[int32][]*kgo.Record) error {
	start := time.Now()
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	em := &emitter{sess: p.sess, ctx: ctx}

	// 2. decode and apply, one goroutine per partition
	var wg sync.WaitGroup
	errs := make([]error, 0, len(byPart))
	var errMu sync.Mutex
	parts := make([]*partition, 0, len(byPart))
	for pn, recs := range byPart {
		part := p.partition(pn)
		parts = append(parts, part)
		wg.Add(1)
		go func(part *partition, recs []*kgo.Record) {
			defer wg.Done()
			if err := part.process(ctx, recs, em); err != nil {
				errMu.Lock()
				errs = append(errs, fmt.Errorf("partition %d: %w", part.id, err))
				errMu.Unlock()
			}
		}(part, recs)
	}
	wg.Wait()

	// 3. commit outputs and offsets in one transaction
	commitStart := time.Now()
	how := kgo.TryCommit
	if len(errs) > 0 || em.failed() != nil {
		how = kgo.TryAbort
	}
	committed, err := p.sess.End(ctx, how)
	p.m.commitSeconds.Observe(time.Since(commitStart).Seconds())
	if err == nil && em.failed() != nil {
		err = em.failed()
	}
	if !committed || err != nil {
		p.m.aborted.Inc()
		for _, part := range parts {
			part.reset()
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if err != nil && ctx.Err() == nil {
			p.log.Warn("transaction aborted; the batch will be retried from the last committed offsets", "err", err)
		}
		return nil
	}

	// 4. store the committed state, one atomic fenced call per partition
	// (partitions in parallel). A
	// partition whose write fails is reset: its next batch catches the store
	// up from the changelog, which holds what this batch committed.
	for _, part := range parts {
		wg.Add(1)
		go func(part *partition) {
			defer wg.Done()
			if err := part.persist(ctx); err != nil {
				part.reset()
				errMu.Lock()
				errs = append(errs, fmt.Errorf("partition %d: store committed batch: %w", part.id, err))
				errMu.Unlock()
			}
		}(part)
	}
	wg.Wait()
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	n := 0
	for _, recs := range byPart {
		n += len(recs)
	}
	p.m.batchRecords.Observe(float64(n))
	p.m.batchSeconds.Observe(time.Since(start).Seconds())
	return nil
}

// partition returns the owned partition's worker, creating it if needed.
func (p *Processor) partition(id int32) *partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	part, ok := p.parts[id]
	if !ok {
		part = newPartition(id, p)
		p.parts[id] = part
	}
	return part
}

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

func (p *Processor) assigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	p.mu.Lock()
	for _, id := range m[p.kcfg.Topics.Events] {
		p.owned[id] = true
	}
	p.ready = true // joined the group
	p.mu.Unlock()
	p.log.Info("partitions assigned", "partitions", m)
}

func (p *Processor) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, ps := range m {
		if !p.inputs[t] {
			continue
		}
		for _, id := range ps {
			delete(p.parts, id)
			delete(p.owned, id)
		}
	}
	p.log.Info("partitions revoked", "partitions", m)
}

// emitter produces output records into the open transaction and remembers
// the first failure (which aborts the transaction) and, per partition, the
// changelog offset after the last status record.
type emitter struct {
	sess *kgo.GroupTransactSession
	ctx  context.Context
	mu   sync.Mutex
	err  error
}

func (e *emitter) produce(r *kgo.Record, done func(*kgo.Record)) {
	e.sess.Produce(e.ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			e.mu.Lock()
			if e.err == nil {
				e.err = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			e.mu.Unlock()
			return
		}
		if done != nil {
			done(r)
		}
	})
}

func (e *emitter) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// outputPartitioner keeps the status changelog co-partitioned with the input
// (record.Partition is set to the input partition) and hashes keys like
// Kafka's default partitioner everywhere else.
type outputPartitioner struct{ status string }

func (o outputPartitioner) ForTopic(t string) kgo.TopicPartitioner {
	if t == o.status {
		return kgo.ManualPartitioner().ForTopic(t)
	}
	return kgo.StickyKeyPartitioner(nil).ForTopic(t)
}
