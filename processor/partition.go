package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
)

// deps is what a partition needs, built once by New (or Restore) and
// shared read-only by every partition.
type deps struct {
	cfg   Config
	kcfg  kafkax.Config
	store Store
	codec Codec
	env   *core.Env
	m     *metrics
	log   *slog.Logger
	now   func() time.Time // wall clock, for the live-time guard
	route *router          // the input partition count (misroute.go)
	// groupStage: these deps are the group stage's, whose changelog
	// records are group nodes (group_stage.go)
	groupStage bool
}

// partition is the state of one owned input partition. Only the goroutine
// processing the partition's records touches it.
type partition struct {
	id    int32
	d     *deps
	label string // partition number as a metric label

	inited bool
	epoch  int64
	clock  int64 // partition clock, unix ms
	cache  map[string]*core.State
	sizes  map[string]int // last encoded state size, for the status bound
	timers *timerIndex

	// wake-ups: wakes is what this batch may still fire (its share of
	// processor.max_wakes_per_txn) until its time bound; backlog says the
	// partition may have wake-ups due that a batch has not fired
	// (timers.go): the loop then runs it without waiting for records
	// (loop.go).
	wakes   int
	until   time.Time // past minWakes, no wake-up after this (processor.max_apply_per_txn)
	fired   int       // wake-ups the budget paid for in this batch
	backlog bool
	retryAt time.Time // the loop leaves a failed partition alone until then

	// retry bookkeeping (the loop's goroutine only)
	failures int

	// the batch being built
	dirty     map[string]bool
	applied   map[string]int64
	src       int64            // offset of the input record read last (kept across batches)
	srcOf     map[string]int64 // per changed account, its status record's source offset
	changelog int64            // next changelog offset after the committed status records
	batch     *Batch
	scratch   []byte                    // encodeStatus's buffer for a state, reused
	status    event.AccountStatus       // encodeStatus's status record, reused
	spare     []*core.State             // evicted states, emptied, for load to reuse (newState)
	out       records                   // the batch's output records, reused (emitter.go)
	erased    map[string]erasure        // the batch's AccountErased (erase.go)
	grp       map[string]group.Snapshot // contributions before the batch (group_account.go)
}

func newPartition(id int32, d *deps) *partition {
	return &partition{id: id, d: d, label: strconv.Itoa(int(id)), backlog: true}
}

// reset forgets everything in memory; the next batch re-reads the store.
func (pt *partition) reset() {
	pt.inited = false
	pt.backlog = true // a crash mid-backlog leaves due wake-ups in the store
	pt.cache = nil
	pt.spare = nil
	pt.out = records{} // promises of the failed transaction may be outstanding
	pt.sizes = nil
	pt.timers = nil
	pt.batch = nil
}

// init claims the partition in the store and catches the store up from the
// changelog; timers are paged from the store per batch (timers.go).
// pt.changelog, when this process already
// committed status records to the partition, is where the catch-up must get
// to at least.
func (pt *partition) init(ctx context.Context) error {
	meta, err := pt.d.store.Claim(ctx, pt.id)
	if err != nil {
		return fmt.Errorf("claim: %w", err)
	}
	pt.epoch = meta.Epoch
	pt.src = meta.Applied[pt.d.kcfg.Topics.Events] // a wake-up-only batch's source, until a record is read
	res, err := restorePartition(ctx, pt.d, pt.id, meta, pt.changelog)
	if err != nil {
		return fmt.Errorf("restore from changelog: %w", err)
	}
	pt.clock, pt.changelog = res.clock, res.changelog
	pt.timers = newTimerIndex()
	pt.cache = make(map[string]*core.State)
	pt.sizes = make(map[string]int)
	pt.inited = true
	return nil
}

// input is one polled record with what decoding and admission made of it.
type input struct {
	rec *kgo.Record
	ev  event.Event
	err error // a RecordError: the record goes to the DLQ
}

// process runs one micro-batch of this partition's records into the open
// transaction: decode -> load -> (fire timers -> apply -> emit) per record
// -> fire timers -> status records. It fires at most wakes timers besides
// those of the batch's own accounts. A returned error aborts the
// transaction; records refused for their own sake are dead-lettered
// instead. recs may be empty: a batch that only works off due wake-ups.
// Past its first minWakes such wake-ups it fires none once until has passed.
func (pt *partition) process(ctx context.Context, recs []*kgo.Record, em *emitter, wakes int, until time.Time) error {
	if !pt.inited {
		if err := pt.init(ctx); err != nil {
			return err
		}
	}
	// cleared, not made anew: a batch's maps grow to its accounts, and
	// growing them again in every batch was most of the shell's map cost
	if pt.dirty == nil {
		pt.dirty, pt.srcOf = map[string]bool{}, map[string]int64{}
	}
	clear(pt.dirty)
	clear(pt.srcOf)
	pt.applied = make(map[string]int64)
	pt.erased = nil
	pt.grp = nil
	pt.wakes, pt.until, pt.fired = wakes, until, 0
	recs = dropControl(recs) // transaction markers: committed over, never applied

	ins, err := pt.decode(ctx, recs)
	if err != nil {
		return err
	}
	for i := range ins {
		if err := pt.step(ctx, &ins[i], em); err != nil {
			return err
		}
	}
	if err := pt.fire(ctx, em); err != nil {
		return err
	}
	if pt.backlog = pt.timers.more(pt.clock); pt.backlog {
		pt.d.m.wakeBacklog.Inc()
	}
	return pt.finish(ctx, em)
}

// decode decodes and admits every record, reads the first due page of the
// timer index for the batch's clock (as many as the batch may fire), then
// loads in one store call the accounts not cached: those of the events and
// those of the page.
func (pt *partition) decode(ctx context.Context, recs []*kgo.Record) ([]input, error) {
	ins := make([]input, len(recs))
	var missing []string
	seen := make(map[string]bool, len(recs))
	need := func(a string) {
		if a != "" && pt.cache[a] == nil && !seen[a] {
			seen[a] = true
			missing = append(missing, a)
		}
	}
	clock := pt.clock
	n, err := pt.d.route.partitions(ctx)
	if err != nil {
		return nil, err
	}
	for i, r := range recs {
		in := input{rec: r}
		ev, err := pt.d.codec.DecodeEvent(ctx, r.Value)
		if err != nil {
			err = decodeError(err)
			if classify(err) == Retry {
				return nil, err // registry trouble: retry the batch, never dead-letter
			}
		} else {
			err = pt.d.admit(r, &ev, n)
		}
		in.ev, in.err = ev, err
		if err == nil {
			need(ev.Account)
			clock = max(clock, ev.Time.UnixMilli())
		}
		ins[i] = in
	}
	page, err := pt.d.store.Due(ctx, pt.id, pt.epoch, clock, pt.wakes)
	if err != nil {
		return nil, fmt.Errorf("due timers: %w", err)
	}
	pt.timers.startPage(page, clock, pt.wakes)
	pt.timers.eachPaged(need)
	if err := pt.load(ctx, missing); err != nil {
		return nil, err
	}
	return ins, nil
}

// step applies one admitted record, or dead-letters a refused one.
func (pt *partition) step(ctx context.Context, in *input, em *emitter) error {
	r := in.rec
	pt.applied[r.Topic], pt.src = r.Offset, r.Offset
	if in.err != nil {
		pt.refuse(em, in) // forwarded, skipped or dead-lettered
		return nil
	}
	ev := in.ev
	if ms := ev.Time.UnixMilli(); ms > pt.clock {
		pt.clock = ms
	}
	if err := pt.fire(ctx, em); err != nil {
		return err
	}
	kind := ev.Body.Kind().String()
	if ev.Body.Kind() == event.KindClockTick {
		pt.d.m.events.WithLabelValues(kind, "applied").Inc()
		return nil
	}
	if ev.Account == "" {
		pt.deadLetter(em, r, ev.Body, rejectf("MISSING_ACCOUNT", "%s: missing account_id", kind))
		return nil
	}
	if b, ok := ev.Body.(*event.AccountErased); ok {
		pt.groupSeen(ev.Account, pt.cache[ev.Account]) // so its contribution is removed (group_account.go)
		// no wake-up, no effect: the account goes (erase.go)
		pt.erase(ev, b)
		return nil
	}
	if err := pt.catchUp(ctx, em, ev.Account); err != nil {
		return err
	}
	st, err := pt.get(ctx, ev.Account)
	if err != nil {
		return err
	}
	snapshot, err := pt.snapshot(ev.Account, st)
	if err != nil {
		return err
	}
	out, err := core.Apply(st, ev, time.UnixMilli(pt.clock).UTC(), pt.d.env)
	if err == nil {
		err = pt.checkSize(ctx, ev.Account, snapshot, len(r.Value))
	}
	if err != nil {
		if classify(err) != DeadLetter {
			return fmt.Errorf("apply %s: %w", kind, err)
		}
		pt.deadLetter(em, r, ev.Body, err)
		return nil
	}
	if out.Duplicate {
		pt.d.m.events.WithLabelValues(kind, "duplicate").Inc()
		return nil // already taken: no effect, not a new fact for analytics
	}
	pt.d.m.events.WithLabelValues(kind, "applied").Inc()
	pt.srcOf[ev.Account] = r.Offset
	pt.effects(ctx, em, ev.Account, out)
	pt.accepted(em, r)
	return nil
}

// minWakes is how many wake-ups a batch fires, budget allowing, however
// long it has run: a burst progresses on the slowest machine.
const minWakes = 16

// fire wakes, in (time, account) order, accounts whose timer the clock
// passed, while the batch's wake budget and time bound last; the rest stay
// in the timer index for the next batch (pt.backlog). Which batch fires a
// wake-up changes nothing it decides (catchUp).
func (pt *partition) fire(ctx context.Context, em *emitter) error {
	for pt.wakes > 0 && (pt.fired < minWakes || time.Now().Before(pt.until)) {
		e, ok := pt.timers.next(pt.clock)
		if !ok {
			return nil
		}
		if !pt.timers.known(e.Account) { // not paged in: load it, then look again
			if _, err := pt.get(ctx, e.Account); err != nil {
				return err
			}
			continue
		}
		pt.timers.popDue(pt.clock)
		pt.wakes--
		pt.fired++
		if err := pt.wake(ctx, em, e); err != nil {
			return err
		}
	}
	return nil
}

// catchUp fires, before an event of acct is applied, the account's own
// wake-ups the clock passed, whatever the budget: an account's wake-ups
// and events keep their order, while other accounts' wake-ups may wait.
// Accounts are independent (core.Wake and core.Apply read one state), so
// every account sees the same sequence as with no bound.
func (pt *partition) catchUp(ctx context.Context, em *emitter, acct string) error {
	if _, err := pt.get(ctx, acct); err != nil {
		return err
	}
	for {
		at := pt.timers.get(acct)
		if at == 0 || at > pt.clock {
			return nil
		}
		pt.timers.set(acct, 0)
		if err := pt.wake(ctx, em, Timer{At: at, Account: acct}); err != nil {
			return err
		}
	}
}

// wake runs one account's timer, at the time it was due.
func (pt *partition) wake(ctx context.Context, em *emitter, e Timer) error {
	st, err := pt.get(ctx, e.Account)
	if err != nil {
		return err
	}
	pt.dirty[e.Account] = true // the timer is cleared at least
	pt.srcOf[e.Account] = pt.src
	pt.sizes[e.Account] += growthSlack
	out, err := core.Wake(st, e.Account, time.UnixMilli(e.At).UTC(), pt.d.env)
	if err != nil {
		return fmt.Errorf("wake: %w", err)
	}
	pt.effects(ctx, em, e.Account, out)
	return nil
}

// effects emits one step's outputs and records the account as changed.
func (pt *partition) effects(ctx context.Context, em *emitter, acct string, out core.Output) {
	topics := pt.d.kcfg.Topics
	codec := pt.d.codec
	for i := range out.Actions {
		a := &out.Actions[i]
		pt.emit(em, topics.Actions, acct, func() ([]byte, error) { return codec.EncodeAction(ctx, topics.Actions, a) })
		pt.d.m.actions.WithLabelValues(string(a.Type)).Inc()
	}
	for i := range out.Risk {
		r := &out.Risk[i]
		pt.emit(em, topics.Risk, acct, func() ([]byte, error) { return codec.EncodeRisk(ctx, topics.Risk, r) })
	}
	for i := range out.GL {
		g := &out.GL[i]
		pt.emit(em, topics.GL, acct, func() ([]byte, error) { return codec.EncodeGL(ctx, topics.GL, g) })
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

// emit encodes and produces one output record; an encoding failure aborts
// the transaction (classified Retry: a registry outage, or a bug in our
// own output that must never lose the input).
func (pt *partition) emit(em *emitter, topic, key string, enc func() ([]byte, error)) {
	v, err := enc()
	if err != nil {
		em.fail(fmt.Errorf("%w: %s record: %w", errEncode, topic, err))
		return
	}
	em.produce(pt.out.keyedRecord(topic, 0, key, v))
}

// accepted copies an applied input record, value unchanged, to the
// accepted-events topic on the same partition: the sink lands facts from
// there, so analytics only ever sees what the processor accepted.
func (pt *partition) accepted(em *emitter, r *kgo.Record) {
	em.produce(pt.out.acceptedCopy(pt.d.kcfg.Topics.Accepted, pt.id, r))
}

// finish writes a status (changelog) record for every changed account and
// prepares the store batch that follows the commit.
func (pt *partition) finish(ctx context.Context, em *emitter) error {
	b := &Batch{Applied: pt.applied, Clock: pt.clock, Put: make(map[string][]byte, len(pt.dirty)), Timers: make(map[string]int64, len(pt.dirty))}
	if err := pt.groupEmit(em); err != nil {
		return err
	}
	pt.tombstones(em, b)
	accts := make([]string, 0, len(pt.dirty))
	for a := range pt.dirty {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for _, a := range accts {
		state, v, err := pt.encodeStatus(ctx, a)
		if err != nil {
			return err
		}
		if len(v) > pt.d.cfg.MaxStatusBytes {
			// checkSize keeps this from happening; never produce it.
			return fmt.Errorf("status record of %d bytes exceeds processor.max_status_bytes %d", len(v), pt.d.cfg.MaxStatusBytes)
		}
		pt.sizes[a] = len(state)
		b.Put[a] = state
		b.Timers[a] = pt.timers.get(a)
		em.produceStatus(pt.out.keyedRecord(pt.d.kcfg.Topics.Status, pt.id, a, v))
	}
	pt.batch = b
	pt.evict()
	return nil
}

// encodeStatus encodes account a's state and its status record. Its
// source offset is the input record that last changed the account in the
// batch; a wake-up's is the input record read last when it fired (the one
// whose time moved the clock past it, or for a wake-up left to a later
// batch the latest read before it): docs/processing.md, "A status record's source".
//
// The state is encoded into the partition's scratch buffer and copied once,
// into the status record; the state returned is that copy (a slice of
// value), which the store writes after the commit.
func (pt *partition) encodeStatus(ctx context.Context, a string) (state, value []byte, err error) {
	st := pt.cache[a]
	scratch, err := st.AppendBinary(pt.scratch[:0])
	if err != nil {
		return nil, nil, fmt.Errorf("encode state: %w", err)
	}
	pt.scratch = scratch
	at := time.UnixMilli(pt.clock).UTC()
	pt.status = st.Status(at) // in the partition: a local would escape to the heap through the codec
	status := &pt.status
	status.PolicyVersion = pt.d.env.PolicyVersion(st, at)
	status.Blacklisted = pt.d.env.Blacklisted(st, at)
	status.Account = a
	status.SourcePartition, status.SourceOffset = pt.id, pt.srcOf[a]
	status.State = scratch
	value, state, err = pt.d.codec.EncodeStatusState(ctx, pt.d.kcfg.Topics.Status, status)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: status record: %w", errEncode, err)
	}
	return state, value, nil
}

// snapshot keeps the encoded state of an account that is already large
// (over half of the status bound), so that an event that would push its
// status record past the bound can be undone; other accounts cost nothing.
func (pt *partition) snapshot(acct string, st *core.State) ([]byte, error) {
	if pt.sizes[acct] <= pt.d.cfg.MaxStatusBytes/2 {
		return nil, nil
	}
	b, err := st.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return b, nil
}

// checkSize refuses (STATUS_TOO_LARGE) the event just applied to a large
// account when its status record would exceed the bound, restoring the
// state from before it. For other accounts it only grows the size estimate
// by an upper bound of what the event can add (its own encoded size and
// some slack), so that an account growing within one batch turns careful
// before it can reach the bound.
func (pt *partition) checkSize(ctx context.Context, acct string, snapshot []byte, eventBytes int) error {
	if snapshot == nil {
		pt.sizes[acct] += eventBytes + growthSlack
		return nil
	}
	state, v, err := pt.encodeStatus(ctx, acct)
	if err != nil {
		return err
	}
	if len(v) <= pt.d.cfg.MaxStatusBytes {
		pt.sizes[acct] = len(state)
		return nil
	}
	st := &core.State{}
	if err := st.UnmarshalBinary(snapshot); err != nil {
		return fmt.Errorf("restore state snapshot: %w", err)
	}
	st.Account = acct
	pt.cache[acct] = st
	return rejectf("STATUS_TOO_LARGE", "the account's status record would be %d bytes, over processor.max_status_bytes %d", len(v), pt.d.cfg.MaxStatusBytes)
}

// growthSlack bounds what one event or wake-up adds to a state beyond the
// event's own bytes (counters, an action's stage name, an explanation's id).
const growthSlack = 256

// persist writes the committed batch to the store, retrying transient
// failures; a flushed store is restored from the changelog.
func (pt *partition) persist(ctx context.Context, changelog int64, wrote bool) error {
	if wrote {
		pt.changelog = changelog
	}
	b := pt.batch
	pt.batch = nil
	if b == nil || len(b.Applied) == 0 && len(b.Put) == 0 {
		return nil // nothing read, nothing changed (a look for due wake-ups)
	}
	b.Changelog = pt.changelog
	start := time.Now()
	err := pt.d.store.Apply(ctx, pt.id, pt.epoch, b)
	pt.d.m.storeSeconds.Observe(time.Since(start).Seconds())
	switch {
	case err == nil, errors.Is(err, ErrStale):
		return nil
	case errors.Is(err, ErrLost):
		pt.d.log.Warn("partition state missing in the store; restoring from the changelog", "partition", pt.id)
		pt.d.m.restores.Inc()
		pt.reset()
		return pt.init(ctx)
	}
	return fmt.Errorf("store batch: %w", err)
}

// deadLetter produces a refused input record to the DLQ with its reason
// and coordinates, inside the transaction (so it is exactly once too). The
// dead letter carries at most dlq.max_payload_bytes of the value, with the
// whole value's size and SHA-256.
func (pt *partition) deadLetter(em *emitter, r *kgo.Record, body event.Body, cause error) {
	kind, outcome := "Unknown", "dead_letter"
	if body != nil {
		kind = body.Kind().String()
	}
	code, class := "REJECTED", "ledger"
	var rec *RecordError
	var rej *core.RejectError
	switch {
	case errors.As(cause, &rec):
		code, class = rec.Code, rec.Class
	case errors.As(cause, &rej):
		code, outcome = rej.Code(), "rejected"
	}
	d := event.NewDeadLetter(r.Topic, r.Partition, r.Offset, r.Key, r.Value, class, code, cause.Error(),
		time.UnixMilli(pt.clock).UTC(), pt.d.cfg.DLQMaxPayload)
	pt.d.m.deadLetters.WithLabelValues(class).Inc()
	pt.d.m.events.WithLabelValues(kind, outcome).Inc()
	pt.d.log.Debug("dead letter", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "code", code, "reason", d.Reason)
	dlq := pt.d.kcfg.Topics.DLQ
	pt.emit(em, dlq, string(d.Key), func() ([]byte, error) { return pt.d.codec.EncodeDeadLetter(em.ctx, dlq, d) })
}
