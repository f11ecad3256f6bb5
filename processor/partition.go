package processor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// partition is the state of one owned input partition. Only the goroutine
// processing the partition's records touches it.
type partition struct {
	id    int32
	p     *Processor
	label string // partition number as a metric label

	inited bool
	epoch  int64
	clock  int64 // partition clock, unix ms
	cache  map[string]*core.State
	timers *timerSet

	// the batch being built
	dirty     map[string]bool
	applied   map[string]int64
	changelog int64 // next changelog offset after this batch's status records
	batch     *Batch
}

func newPartition(id int32, p *Processor) *partition {
	return &partition{id: id, p: p, label: strconv.Itoa(int(id))}
}

// reset forgets everything in memory; the next batch re-reads the store.
func (pt *partition) reset() {
	pt.inited = false
	pt.cache = nil
	pt.timers = nil
	pt.batch = nil
}

// init claims the partition in the store, catches the store up from the
// changelog and loads the timers. pt.changelog, when this process already
// committed status records to the partition, is where the catch-up must get
// to at least.
func (pt *partition) init(ctx context.Context) error {
	meta, err := pt.p.store.Claim(ctx, pt.id)
	if err != nil {
		return err
	}
	committed := pt.changelog
	pt.epoch = meta.Epoch
	pt.clock = meta.Clock
	pt.changelog = meta.Changelog
	if err := pt.restore(ctx, meta, committed); err != nil {
		return fmt.Errorf("restore from changelog: %w", err)
	}
	tm, err := pt.p.store.Timers(ctx, pt.id)
	if err != nil {
		return err
	}
	pt.timers = newTimerSet()
	for a, w := range tm {
		pt.timers.set(a, w)
	}
	pt.cache = make(map[string]*core.State)
	pt.inited = true
	return nil
}

// process applies a micro-batch of this partition's records, producing the
// outputs into the open transaction.
func (pt *partition) process(ctx context.Context, recs []*kgo.Record, em *emitter) error {
	if !pt.inited {
		if err := pt.init(ctx); err != nil {
			return err
		}
	}
	pt.dirty = make(map[string]bool)
	pt.applied = make(map[string]int64)

	// decode everything first, then load in one call the accounts not
	// cached: those of the events and those whose timers the batch's clock
	// will pass
	evs := make([]event.Event, len(recs))
	derr := make([]error, len(recs))
	var missing []string
	seen := map[string]bool{}
	need := func(a string) {
		if a != "" && pt.cache[a] == nil && !seen[a] {
			seen[a] = true
			missing = append(missing, a)
		}
	}
	clock := pt.clock
	for i, r := range recs {
		evs[i], derr[i] = pt.p.codec.DecodeEvent(ctx, r.Value)
		if derr[i] == nil {
			need(evs[i].Account)
			clock = max(clock, evs[i].Time.UnixMilli())
		}
	}
	pt.timers.eachDue(clock, need)
	if err := pt.load(ctx, missing); err != nil {
		return err
	}

	for i, r := range recs {
		pt.applied[r.Topic] = r.Offset
		if derr[i] != nil {
			pt.deadLetter(ctx, em, r, "decode", derr[i].Error())
			pt.p.m.events.WithLabelValues("Unknown", "dead_letter").Inc()
			continue
		}
		ev := evs[i]
		kind := ev.Body.Kind().String()
		if ms := ev.Time.UnixMilli(); ms > pt.clock {
			pt.clock = ms
		}
		if err := pt.fire(ctx, em); err != nil {
			return err
		}
		if ev.Body.Kind() == event.KindClockTick {
			pt.p.m.events.WithLabelValues(kind, "applied").Inc()
			continue
		}
		if ev.Account == "" {
			pt.deadLetter(ctx, em, r, "validation", kind+": missing account_id")
			pt.p.m.events.WithLabelValues(kind, "dead_letter").Inc()
			continue
		}
		st, err := pt.get(ctx, ev.Account)
		if err != nil {
			return err
		}
		out, err := core.Apply(st, ev, time.UnixMilli(pt.clock).UTC(), pt.p.env)
		if err != nil {
			var rej *core.RejectError
			if !errors.As(err, &rej) {
				return fmt.Errorf("apply %s %s: %w", kind, ev.ID, err)
			}
			pt.deadLetter(ctx, em, r, "ledger", fmt.Sprintf("%s %s rejected: %s", kind, ev.ID, rej.Error()))
			pt.p.m.events.WithLabelValues(kind, "rejected").Inc()
			continue
		}
		pt.p.m.events.WithLabelValues(kind, "applied").Inc()
		pt.effects(ctx, em, ev.Account, st, out)
	}
	return pt.finish(ctx, em)
}

// fire wakes, in (time, account) order, every account whose timer the clock passed.
func (pt *partition) fire(ctx context.Context, em *emitter) error {
	for {
		acct, at, ok := pt.timers.popDue(pt.clock)
		if !ok {
			return nil
		}
		st, err := pt.get(ctx, acct)
		if err != nil {
			return err
		}
		pt.dirty[acct] = true // the timer is cleared at least
		out, err := core.Wake(st, acct, time.UnixMilli(at).UTC(), pt.p.env)
		if err != nil {
			return fmt.Errorf("wake %s: %w", acct, err)
		}
		pt.effects(ctx, em, acct, st, out)
	}
}

// effects emits one step's outputs and records the account as changed.
func (pt *partition) effects(ctx context.Context, em *emitter, acct string, st *core.State, out core.Output) {
	topics := pt.p.kcfg.Topics
	for i := range out.Actions {
		a := &out.Actions[i]
		pt.emit(ctx, em, topics.Actions, acct, func() ([]byte, error) { return pt.p.codec.EncodeAction(ctx, topics.Actions, a) })
		pt.p.m.actions.WithLabelValues(string(a.Type)).Inc()
	}
	for i := range out.Risk {
		r := &out.Risk[i]
		pt.emit(ctx, em, topics.Risk, acct, func() ([]byte, error) { return pt.p.codec.EncodeRisk(ctx, topics.Risk, r) })
	}
	for i := range out.GL {
		g := &out.GL[i]
		pt.emit(ctx, em, topics.GL, acct, func() ([]byte, error) { return pt.p.codec.EncodeGL(ctx, topics.GL, g) })
	}
	if out.Changed || len(out.Actions)+len(out.Risk)+len(out.GL) > 0 {
		pt.dirty[acct] = true
	}
	var wake int64
	if !out.NextWake.IsZero() {
		wake = out.NextWake.UnixMilli()
	}
	if pt.timers.get(acct) != wake {
		pt.timers.set(acct, wake)
		pt.dirty[acct] = true
	}
}

// emit encodes and produces one output record; an encoding failure is a bug
// in our own output, so it aborts the transaction.
func (pt *partition) emit(ctx context.Context, em *emitter, topic, key string, enc func() ([]byte, error)) {
	v, err := enc()
	if err != nil {
		em.mu.Lock()
		if em.err == nil {
			em.err = fmt.Errorf("encode %s record for %s: %w", topic, key, err)
		}
		em.mu.Unlock()
		return
	}
	em.produce(&kgo.Record{Topic: topic, Key: []byte(key), Value: v}, nil)
}

// finish writes a status (changelog) record for every changed account and
// prepares the store batch that follows the commit.
func (pt *partition) finish(ctx context.Context, em *emitter) error {
	b := &Batch{Applied: pt.applied, Clock: pt.clock, Put: make(map[string][]byte, len(pt.dirty)), Timers: map[string]int64{}}
	accts := make([]string, 0, len(pt.dirty))
	for a := range pt.dirty {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	now := time.UnixMilli(pt.clock).UTC()
	for _, a := range accts {
		st := pt.cache[a]
		state, err := st.MarshalBinary()
		if err != nil {
			return fmt.Errorf("encode state of %s: %w", a, err)
		}
		status := st.Status(now)
		status.Account = a
		status.SourcePartition = pt.id
		status.State = state
		v, err := pt.p.codec.EncodeStatus(ctx, pt.p.kcfg.Topics.Status, &status)
		if err != nil {
			return fmt.Errorf("encode status of %s: %w", a, err)
		}
		b.Put[a] = state
		b.Timers[a] = pt.timers.get(a)
		em.produce(&kgo.Record{Topic: pt.p.kcfg.Topics.Status, Partition: pt.id, Key: []byte(a), Value: v}, func(r *kgo.Record) {
			em.mu.Lock()
			if r.Offset+1 > pt.changelog {
				pt.changelog = r.Offset + 1
			}
			em.mu.Unlock()
		})
	}
	pt.batch = b
	pt.evict()
	return nil
}

// persist writes the committed batch to the store, retrying transient
// failures; a flushed store is restored from the changelog.
func (pt *partition) persist(ctx context.Context) error {
	b := pt.batch
	if b == nil {
		return nil
	}
	pt.batch = nil
	b.Changelog = pt.changelog
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := pt.p.store.Apply(ctx, pt.id, pt.epoch, b)
		pt.p.m.storeSeconds.Observe(time.Since(start).Seconds())
		switch {
		case err == nil, errors.Is(err, ErrStale):
			return nil
		case errors.Is(err, ErrFenced):
			return fmt.Errorf("partition %d: %w", pt.id, err)
		case errors.Is(err, ErrLost):
			pt.p.log.Warn("partition state missing in the store; restoring from the changelog", "partition", pt.id)
			pt.p.m.restores.Inc()
			pt.reset()
			return pt.init(ctx)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pt.p.log.Warn("store write failed; retrying", "partition", pt.id, "err", err, "backoff", backoff)
		pt.p.m.storeRetries.Inc()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// get returns the account's state from the cache or the store (new if absent).
func (pt *partition) get(ctx context.Context, acct string) (*core.State, error) {
	if st := pt.cache[acct]; st != nil {
		return st, nil
	}
	if err := pt.load(ctx, []string{acct}); err != nil {
		return nil, err
	}
	return pt.cache[acct], nil
}

func (pt *partition) load(ctx context.Context, accts []string) error {
	if len(accts) == 0 {
		return nil
	}
	vals, err := pt.p.store.Load(ctx, pt.id, pt.epoch, accts)
	if err != nil {
		return err
	}
	for _, a := range accts {
		st := &core.State{}
		if v, ok := vals[a]; ok {
			if err := st.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("decode stored state of %s: %w", a, err)
			}
		}
		pt.cache[a] = st
	}
	return nil
}

// evict keeps the cache bounded by dropping clean entries.
func (pt *partition) evict() {
	limit := pt.p.cfg.CacheAccounts
	if len(pt.cache) <= limit {
		return
	}
	for a := range pt.cache {
		if len(pt.cache) <= limit/2 {
			break
		}
		if !pt.dirty[a] {
			delete(pt.cache, a)
		}
	}
}

// deadLetter produces a rejected input record to the DLQ with its reason and
// coordinates, inside the transaction (so it is exactly once too).
func (pt *partition) deadLetter(ctx context.Context, em *emitter, r *kgo.Record, class, reason string) {
	d := &event.DeadLetter{
		Reason: reason, ErrorClass: class, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Key: r.Key, Value: r.Value, Time: time.UnixMilli(pt.clock).UTC(),
	}
	pt.p.m.deadLetters.WithLabelValues(class).Inc()
	pt.p.log.Debug("dead letter", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "reason", reason)
	pt.emit(ctx, em, pt.p.kcfg.Topics.DLQ, string(r.Key), func() ([]byte, error) { return pt.p.codec.EncodeDeadLetter(ctx, pt.p.kcfg.Topics.DLQ, d) })
}
