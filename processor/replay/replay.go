package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// Book is a replay's whole book: every account's state and partition, and
// the partitions' clocks and wake-ups. Every account stays decoded in
// memory (about 2 KB each). It is not safe for concurrent use.
type Book struct {
	env   *core.Env
	parts []part
	accts map[string]*acct
	// partitionOf is the partition an account's events go to (the
	// producer's partitioner), asked once per account.
	partitionOf func(account string) int32
	// observe, when set, sees every step's output (after the state took it).
	observe Observer
	// track keeps the changed accounts for Finish.
	track bool

	// Rejects counts events the core refused (the processor dead-letters
	// them; the account is untouched); Wakes counts wake-ups fired.
	Rejects int
	Wakes   int

	// out is the step's output, here rather than allocated each step (the
	// observer gets a pointer to it, which would move it to the heap);
	// ev is the event applied, for the same reason.
	out core.Output
	ev  event.Event
}

// Observer sees one step of account acct: its output, the state after it,
// when (the wake-up's time, or the partition clock for an event) and the
// event applied (nil for a wake-up). out and ev are valid during the call
// only (the next step reuses them; out's slices are the step's own).
type Observer func(acct string, st *core.State, out *core.Output, at time.Time, ev *event.Event)

// Options configure a Book.
type Options struct {
	// Partitions is the number of input partitions (at least 1).
	Partitions int
	// PartitionOf maps an account to its partition, in [0, Partitions).
	// Nil puts every account on partition 0.
	PartitionOf func(account string) int32
	// Observe, when set, sees every step's output.
	Observe Observer
	// TrackChanged keeps the accounts each step changed, for Finish.
	TrackChanged bool
}

type acct struct {
	part    int32
	st      core.State
	encoded bool // Finish encoded it
}

// part is one partition's clock, wake-ups and changed accounts.
type part struct {
	clock  int64
	timers *Wakes
	dirty  map[string]bool
}

// New is an empty book under env.
func New(env *core.Env, o Options) *Book {
	b := &Book{env: env, parts: make([]part, max(o.Partitions, 1)), accts: map[string]*acct{},
		partitionOf: o.PartitionOf, observe: o.Observe, track: o.TrackChanged}
	for i := range b.parts {
		b.parts[i] = part{timers: NewWakes(), dirty: map[string]bool{}}
	}
	return b
}

// Step applies one event as the processor's partition step does: the
// partition's clock moves to the event's time if later, the wake-ups it
// passed fire, then a ClockTick is done and any other event is applied at
// the clock. A ClockTick goes to its own partition, any other event to its
// account's. An event the core refuses is counted in Rejects and changes
// nothing; an error is a failure of the core itself.
func (b *Book) Step(ev event.Event) error {
	var p int32
	if tk, ok := ev.Body.(*event.ClockTick); ok {
		p = tk.Partition
	} else if ev.Account != "" {
		p = b.acct(ev.Account).part
	}
	return b.StepOn(p, ev)
}

// StepOn is Step with the partition given: the one the record was applied
// on (landed history knows it).
func (b *Book) StepOn(p int32, ev event.Event) error {
	if p < 0 || int(p) >= len(b.parts) {
		return fmt.Errorf("replay: partition %d of %d", p, len(b.parts))
	}
	if err := b.Advance(p, ev.Time); err != nil {
		return err
	}
	if ev.Body.Kind() == event.KindClockTick || ev.Account == "" {
		return nil
	}
	pt := &b.parts[p]
	a := b.acct(ev.Account)
	now := time.UnixMilli(pt.clock).UTC()
	out := &b.out
	var err error
	*out, err = core.Apply(&a.st, ev, now, b.env)
	var rej *core.RejectError
	switch {
	case errors.As(err, &rej):
		b.Rejects++
		return nil
	case err != nil:
		return fmt.Errorf("apply %s: %w", ev.Body.Kind(), err)
	case !out.Duplicate:
		b.ev = ev
		b.effects(pt, ev.Account, a, out, now, &b.ev)
	}
	return nil
}

// Advance moves partition p's clock to t (never back) and fires, in (time,
// account) order, the wake-ups it passed, each at its own time.
func (b *Book) Advance(p int32, t time.Time) error {
	pt := &b.parts[p]
	pt.clock = max(pt.clock, t.UnixMilli())
	for {
		id, at, ok := pt.timers.PopDue(pt.clock)
		if !ok {
			return nil
		}
		a := b.acct(id)
		if b.track {
			pt.dirty[id] = true // the timer is cleared at least
		}
		b.Wakes++
		when := time.UnixMilli(at).UTC()
		out := &b.out
		var err error
		if *out, err = core.Wake(&a.st, id, when, b.env); err != nil {
			return fmt.Errorf("wake: %w", err)
		}
		b.effects(pt, id, a, out, when, nil)
	}
}

// AdvanceAll advances every partition's clock to t.
func (b *Book) AdvanceAll(t time.Time) error {
	for p := range b.parts {
		if err := b.Advance(int32(p), t); err != nil {
			return err
		}
	}
	return nil
}

// effects moves the account's wake-up and marks it changed, as the
// processor's effects do (the outputs themselves are the caller's).
func (b *Book) effects(pt *part, id string, a *acct, out *core.Output, at time.Time, ev *event.Event) {
	ms := int64(0)
	if !out.NextWake.IsZero() {
		ms = out.NextWake.UnixMilli()
	}
	if moved := pt.timers.At(id) != ms; moved || out.Changed || len(out.Actions)+len(out.Risk)+len(out.GL) > 0 {
		if b.track {
			pt.dirty[id] = true
		}
		pt.timers.Set(id, ms)
	}
	if b.observe != nil {
		b.observe(id, &a.st, out, at, ev)
	}
}

// acct is the account's record, created with its partition on first sight.
func (b *Book) acct(id string) *acct {
	a := b.accts[id]
	if a == nil {
		a = &acct{st: core.State{Account: id}}
		if b.partitionOf != nil {
			a.part = b.partitionOf(id)
		}
		b.accts[id] = a
	}
	return a
}

// Finish encodes every changed account's status summary and state once, as
// the processor's batch end does (TrackChanged must be set).
func (b *Book) Finish() error {
	for i := range b.parts {
		pt := &b.parts[i]
		now := time.UnixMilli(pt.clock).UTC()
		for id := range pt.dirty {
			a := b.accts[id]
			status := a.st.Status(now)
			enc, err := a.st.MarshalBinary()
			if err != nil {
				return fmt.Errorf("encode state: %w", err)
			}
			status.State, a.encoded = enc, true
		}
		clear(pt.dirty)
	}
	return nil
}

// Encoded counts the accounts Finish encoded at least once.
func (b *Book) Encoded() int {
	n := 0
	for _, a := range b.accts {
		if a.encoded {
			n++
		}
	}
	return n
}

// Accounts calls f for every account's state, in no order.
func (b *Book) Accounts(f func(id string, st *core.State)) {
	for id, a := range b.accts {
		f(id, &a.st)
	}
}
