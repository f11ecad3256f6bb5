package replay

import (
	"errors"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// Step is one of an account's records in an account-major replay: the
// event and its partition's clock once the record was read (the latest
// event time the partition had seen, this record's included).
type Step struct {
	Clock int64 // unix ms
	Event *event.Event
}

// Account replays one account at a time, each from its whole history, and
// decides exactly as a Book fed the same records in partition order: an
// account's decisions depend only on its own records, the partition clock
// each was applied at and its own wake-ups (a wake-up fires before the
// first record its clock passed, whichever account's record moved the
// clock; so before the account's own next record whose clock passed it, or
// at the end). The partition clocks are the caller's (one pass over the
// records in partition order); the states are not kept, so memory does not
// grow with the book. It is not safe for concurrent use.
type Account struct {
	env     *core.Env
	observe Observer

	// Rejects counts events the core refused; Wakes counts wake-ups fired.
	Rejects int
	Wakes   int

	out core.Output
}

// NewAccount replays accounts under env; observe, when set, sees every step
// (as a Book's Observer).
func NewAccount(env *core.Env, observe Observer) *Account {
	return &Account{env: env, observe: observe}
}

// Replay runs account id from an empty state through its steps (in the
// order its partition applied them), firing its wake-ups as their
// partition's clock passes them, then the ones due at or before end (its
// partition's clock once every record was read, or the replay's end if
// later). An event the core refuses is counted in Rejects and changes
// nothing; an error is a failure of the core itself.
func (a *Account) Replay(id string, steps []Step, end int64) error {
	st := core.State{Account: id}
	var wake int64 // the pending wake-up (unix ms), 0 when none
	for _, s := range steps {
		var err error
		if wake, err = a.wakes(id, &st, wake, s.Clock); err != nil {
			return err
		}
		ev := s.Event
		if ev.Body.Kind() == event.KindClockTick || ev.Account == "" {
			continue // it only moved the clock, which the caller counted
		}
		now := time.UnixMilli(s.Clock).UTC()
		out := &a.out
		*out, err = core.Apply(&st, *ev, now, a.env)
		var rej *core.RejectError
		switch {
		case errors.As(err, &rej):
			a.Rejects++
		case err != nil:
			return fmt.Errorf("apply %s: %w", ev.Body.Kind(), err)
		case !out.Duplicate:
			wake = a.effects(id, &st, out, now, ev)
		}
	}
	_, err := a.wakes(id, &st, wake, end)
	return err
}

// wakes fires the account's wake-ups due at or before clock, each at its
// own time, and returns the one left pending.
func (a *Account) wakes(id string, st *core.State, wake, clock int64) (int64, error) {
	for wake > 0 && wake <= clock {
		a.Wakes++
		when := time.UnixMilli(wake).UTC()
		out := &a.out
		var err error
		if *out, err = core.Wake(st, id, when, a.env); err != nil {
			return 0, fmt.Errorf("wake: %w", err)
		}
		wake = a.effects(id, st, out, when, nil)
	}
	return wake, nil
}

// effects is the step's next wake-up (as Book.effects moves the timer) and
// hands the step to the observer.
func (a *Account) effects(id string, st *core.State, out *core.Output, at time.Time, ev *event.Event) int64 {
	if a.observe != nil {
		a.observe(id, st, out, at, ev)
	}
	if out.NextWake.IsZero() {
		return 0
	}
	return out.NextWake.UnixMilli()
}
