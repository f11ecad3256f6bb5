package processor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// This file is the whole data path. Each poll is one Kafka transaction:
//
//	fetch -> decode -> fire timers -> apply -> emit -> commit -> store
//
// A transaction holds at most processor.max_records_per_txn input records
// and timer wake-ups, of which at most processor.max_wakes_per_txn
// wake-ups (max_wakes_fresh while fresh input waits), fired within
// processor.max_apply_per_txn of the apply step's start. A burst of due wake-ups is worked off over several
// transactions in firing order while fresh records join each one; while a
// partition has wake-ups waiting (partition.backlog) the poll waits at most
// backlogPoll for records instead of blocking, and the partition is in the
// transaction even without records.
//
// Run keeps a consumer-group transaction session alive (a new one after a
// fatal error); loop polls; transact runs one transaction over every
// partition of a poll; partition.go holds the per-partition steps. Every
// error goes through classify (errors.go): Retry pauses the failing
// partitions (or the whole loop) with a backoff and re-reads from the
// committed offsets, DeadLetter was handled inside the transaction, Fatal
// ends the session.

// Run consumes until ctx is cancelled. It returns nil on a clean shutdown.
func (p *Processor) Run(ctx context.Context) error {
	if err := p.checkAccess(ctx); err != nil {
		return err
	}
	go p.watch(ctx)
	for {
		sess, err := kgo.NewGroupTransactSession(p.sessionOpts()...)
		if err != nil {
			return fmt.Errorf("kafka session: %w", err) // bad options: configuration
		}
		p.d.log.Info("processor started", "group", p.d.cfg.GroupID, "transactional_id", p.d.cfg.TransactionalID, "inputs", p.d.kcfg.Topics.Inputs())
		err = p.loop(ctx, sess)
		sess.Close()
		p.dropAll()
		if ctx.Err() != nil {
			p.d.log.Info("processor stopping")
			return nil
		}
		if errors.Is(err, ErrStoreRefused) { // the store's ACL or credentials: neither can a retry
			return fmt.Errorf("processor stopped: %w", err)
		}
		if securityFailure(err) { // authentication, TLS or a missing ACL: a new session cannot help
			return p.d.kcfg.Explain(err)
		}
		// Fatal for this session: a new one rejoins the group, fetches the
		// committed offsets and claims its partitions again.
		p.d.m.sessionRestarts.Inc()
		p.d.log.Error("kafka session ended; starting a new one", "err", err)
		p.pause(ctx, "session")
	}
}

// backlogPoll is how long a poll waits for records while wake-ups are due.
const backlogPoll = 10 * time.Millisecond

// joinPoll is how long a poll waits for records while the processor owns
// no partition: partitions assigned meanwhile are claimed, restored and
// worked off (due wake-ups a dead owner left) at once, input or not.
const joinPoll = 100 * time.Millisecond

// loop polls and runs one transaction per poll until the session is unusable.
func (p *Processor) loop(ctx context.Context, sess *kgo.GroupTransactSession) error {
	for {
		waiting := p.backlogged()
		byPart, err := p.fetch(ctx, sess, len(waiting) > 0)
		if err != nil || ctx.Err() != nil {
			return err
		}
		if len(byPart) == 0 && len(waiting) == 0 {
			continue
		}
		// after the poll: the batch's events were written before this read
		if err := p.refreshPolicies(ctx); err != nil {
			return err // the session restarts at the committed offsets
		}
		failed, err := p.transact(ctx, sess, byPart, waiting)
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			p.failures = 0
			p.progressed()
		case classify(err) == Fatal:
			return err
		case len(failed) > 0:
			p.d.log.Warn("partitions failed; retrying them from the committed offsets", "partitions", len(failed), "err", err)
			p.pausePartitions(sess, failed)
		default:
			p.d.log.Warn("transaction aborted; retrying from the committed offsets", "err", err)
			p.pause(ctx, "transaction")
		}
	}
}

// fetch polls the next records, split by input partition. With wake-ups
// waiting (backlog) it leaves room for them in the transaction and waits
// at most backlogPoll; owning no partition, at most joinPoll.
func (p *Processor) fetch(ctx context.Context, sess *kgo.GroupTransactSession, backlog bool) (map[int32][]*kgo.Record, error) {
	cfg := p.d.cfg
	n, pollCtx, wait := min(cfg.MaxPollRecords, cfg.MaxRecordsPerTxn), ctx, time.Duration(0)
	switch {
	case backlog:
		n, wait = min(n, cfg.MaxRecordsPerTxn-cfg.MaxWakesPerTxn), backlogPoll
	case !p.owning():
		wait = joinPoll
	}
	if wait > 0 {
		var cancel context.CancelFunc
		pollCtx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	fetches := sess.PollRecords(pollCtx, n)
	if fetches.IsClientClosed() {
		return nil, fmt.Errorf("poll: %w", kgo.ErrClientClosed)
	}
	var refused error
	fetches.EachError(func(t string, part int32, err error) {
		if securityFailure(err) {
			refused = fmt.Errorf("topic %s: %w", t, err)
		} else if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			p.d.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
		}
	})
	if refused != nil { // the brokers refused our credentials or ACLs: Run stops
		return nil, fmt.Errorf("poll: %w", refused)
	}
	byPart := map[int32][]*kgo.Record{}
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) > 0 {
			byPart[fp.Partition] = append(byPart[fp.Partition], fp.Records...)
		}
	})
	return byPart, nil
}

// transact runs one transaction over all partitions of a poll and those
// with wake-ups waiting. It returns the partitions whose own step failed
// (to pause) and the error; on any error nothing was committed and the
// session is back at the committed offsets.
func (p *Processor) transact(ctx context.Context, sess *kgo.GroupTransactSession, byPart map[int32][]*kgo.Record, waiting []*partition) ([]*partition, error) {
	start := time.Now()
	if err := sess.Begin(); err != nil {
		return nil, fmt.Errorf("%w: begin transaction: %w", errSession, err)
	}
	em := newEmitter(ctx, sess.Client())
	n := polled(byPart) // once: the wake budget, freshness and the batch metric
	fresh := n > 0 || sess.Client().BufferedFetchRecords() > 0
	parts, failed, err := p.apply(ctx, byPart, n, waiting, em, fresh)
	if err == nil {
		err = em.wait(ctx) // every output acknowledged before deciding
	}
	if endErr := p.commit(ctx, sess, err == nil); endErr != nil && (err == nil || classify(endErr) == Fatal) {
		err = endErr
	}
	if err != nil {
		for _, part := range parts {
			part.reset()
		}
		return failed, err
	}
	failed, err = p.store(ctx, parts, em)
	for _, part := range parts {
		part.out.reuse() // committed: every output record is done (records.reuse)
	}
	if err != nil {
		return failed, err
	}
	for _, part := range parts {
		part.failures = 0
	}
	p.d.m.batchRecords.Observe(float64(n))
	p.d.m.batchSeconds.Observe(time.Since(start).Seconds())
	return nil, nil
}

// apply runs decode -> fire timers -> apply -> emit for every partition of
// the poll (n records) and every waiting one, one goroutine per partition. The
// transaction's wake budget (what max_records_per_txn leaves after the
// records, at most max_wakes_per_txn, max_wakes_fresh while fresh input
// waits) is shared evenly; no partition fires wake-ups past its first few
// (minWakes) once max_apply_per_txn has passed since the step began.
func (p *Processor) apply(ctx context.Context, byPart map[int32][]*kgo.Record, n int, waiting []*partition, em *emitter, fresh bool) (parts, failed []*partition, err error) {
	parts = p.partitionsOf(byPart)
	for _, part := range waiting {
		if _, ok := byPart[part.id]; !ok {
			parts = append(parts, part)
		}
	}
	cfg := p.d.cfg
	budget := min(cfg.MaxWakesPerTxn, cfg.MaxRecordsPerTxn-n)
	if fresh {
		budget = min(budget, cfg.wakesFresh())
	}
	share := max(1, budget/max(1, len(parts)))
	if budget <= 0 {
		share = 0 // the records took the transaction: wake-ups wait for the next
	}
	until := time.Now().Add(cfg.MaxApplyPerTxn)
	return p.eachPartition(parts, func(part *partition) error {
		return part.process(ctx, byPart[part.id], em, share, until)
	})
}

// wakesFresh is the wake budget while fresh input waits
// (max_wakes_fresh, default a twentieth of max_wakes_per_txn): records
// polled with the transaction's or buffered behind them get it sooner.
func (c Config) wakesFresh() int {
	if c.MaxWakesFresh > 0 {
		return c.MaxWakesFresh
	}
	return max(1, c.MaxWakesPerTxn/freshWakeDivisor)
}

// freshWakeDivisor makes max_wakes_fresh's default: 100 of the default
// 2000. Against a quarter (500), bench's payment p99 at half load was
// lower in each of 5 alternating pairs (20k: 344/273/397/291 against
// 1682/431/419/402 ms; 100k: 335 against 1017 ms; docs/bench.md).
const freshWakeDivisor = 20

// polled counts the records of a poll.
func polled(byPart map[int32][]*kgo.Record) int {
	n := 0
	for _, recs := range byPart {
		n += len(recs)
	}
	return n
}

// backlogged returns the owned partitions that may have wake-ups due and
// are not backing off: every newly owned one (a previous owner may have
// died mid-burst) and those whose last batch left some.
func (p *Processor) backlogged() []*partition {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	var out []*partition
	for id := range p.owned {
		part, ok := p.parts[id]
		if !ok {
			part = newPartition(id, p.d)
			p.parts[id] = part
		}
		if part.backlog && !now.Before(part.retryAt) {
			out = append(out, part)
		}
	}
	return out
}

// owning reports whether the processor owns an input partition.
func (p *Processor) owning() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.owned) > 0
}

// commit ends the transaction: commit when ok, else abort. An End error
// leaves the session in a state franz-go says not to retry, so it is
// Fatal for the session; an abort returns errAborted.
func (p *Processor) commit(ctx context.Context, sess *kgo.GroupTransactSession, ok bool) error {
	how := kgo.TryCommit
	if !ok {
		how = kgo.TryAbort
	}
	start := time.Now()
	committed, err := p.ender.end(ctx, sess, how)
	p.d.m.commitSeconds.Observe(time.Since(start).Seconds())
	switch {
	case err != nil:
		p.d.m.aborted.Inc()
		return fmt.Errorf("%w: end transaction: %w", errSession, err)
	case !committed:
		p.d.m.aborted.Inc()
		return errAborted // asked to abort, or a rebalance or a failed offset commit
	}
	return nil
}

// errAborted: the transaction was aborted and will be retried.
var errAborted = errors.New("transaction aborted")

// store writes the committed state, one atomic fenced call per partition
// (partitions in parallel). A partition whose write fails is reset: its
// next batch catches the store up from the changelog, which holds what
// this batch committed.
func (p *Processor) store(ctx context.Context, parts []*partition, em *emitter) ([]*partition, error) {
	ctx, cancel := afterCommit(ctx)
	defer cancel()
	_, failed, err := p.eachPartition(parts, func(part *partition) error {
		end, wrote := em.changelogEnd(part.id)
		if err := part.persist(ctx, end, wrote); err != nil {
			p.d.m.storeRetries.Inc()
			part.reset()
			return err
		}
		return nil
	})
	return failed, err
}

// eachPartition runs f on every partition concurrently and joins the errors.
func (p *Processor) eachPartition(parts []*partition, f func(*partition) error) (all, failed []*partition, err error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, part := range parts {
		wg.Add(1)
		go func(part *partition) {
			defer wg.Done()
			if err := f(part); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("partition %d: %w", part.id, err))
				failed = append(failed, part)
				mu.Unlock()
			}
		}(part)
	}
	wg.Wait()
	return parts, failed, errors.Join(errs...)
}

// partitionsOf returns the workers of the poll's partitions.
func (p *Processor) partitionsOf(byPart map[int32][]*kgo.Record) []*partition {
	parts := make([]*partition, 0, len(byPart))
	for id := range byPart {
		parts = append(parts, p.partition(id))
	}
	return parts
}

// backoff is the wait after the n-th consecutive failure: 100 ms doubling
// up to processor.retry_max.
func (p *Processor) backoff(n int) time.Duration {
	return min(100*time.Millisecond<<min(n, 10), p.d.cfg.RetryMax)
}

// pause waits out a failure of the whole loop (an aborted transaction, a
// lost session) with a growing backoff.
func (p *Processor) pause(ctx context.Context, stage string) {
	wait := p.backoff(p.failures)
	p.failures++
	p.d.m.failures.Inc()
	p.d.m.retries.WithLabelValues(stage).Inc()
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

// pausePartitions stops fetching the failed partitions for their backoff;
// the others go on at once. The aborted transaction already rewound every
// partition to its committed offsets.
func (p *Processor) pausePartitions(sess *kgo.GroupTransactSession, failed []*partition) {
	cl := sess.Client()
	topics := p.d.kcfg.Topics.Inputs()
	p.d.m.failures.Inc()
	for _, part := range failed {
		wait := p.backoff(part.failures)
		part.failures++
		part.retryAt = time.Now().Add(wait)
		p.d.m.retries.WithLabelValues("partition").Inc()
		ps := map[string][]int32{}
		for _, t := range topics {
			ps[t] = []int32{part.id}
		}
		cl.PauseFetchPartitions(ps)
		p.d.m.paused.Inc()
		time.AfterFunc(wait, func() {
			cl.ResumeFetchPartitions(ps)
			p.d.m.paused.Dec()
		})
	}
}
