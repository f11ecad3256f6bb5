package dunning

import (
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Facts is the receivables side of one account as Sim needs it: the
// processor adapts its ledger, tests use a small model.
type Facts interface {
	// Apply records ev (invoices, payments, disputes...) and returns the
	// Trigger that describes it to Evaluate. An error rejects the event.
	Apply(ev event.Event) (Trigger, error)
	// Input returns the account's current facts; Trigger is filled by Sim.
	Input() Input
}

// Step is one evaluation made by Sim.
type Step struct {
	Now time.Time
	// Event is the event that caused the evaluation (nil: a timer fired).
	Event    *event.Event
	Decision Decision
	State    State
}

// Sim drives one account through time the way the processor does: the
// clock moves in ticks of Tick (default one hour, aligned to multiples of
// Tick since the zero time); at each tick, if the
// account's NextWake has passed, Evaluate runs; each event first moves the
// clock to its time, then goes to Facts, ApplyEvent and Evaluate. It is
// pure and deterministic.
type Sim struct {
	Policy *policy.Policy
	Loc    *time.Location
	Facts  Facts
	// Tick is the clock step (0: one hour).
	Tick time.Duration
	// State and Now are the account's state and the clock; set Now before
	// the first call.
	State State
	Now   time.Time
	// Observe, when set, sees every evaluation.
	Observe func(Step)
}

func (s *Sim) tick() time.Duration {
	if s.Tick <= 0 {
		return time.Hour
	}
	return s.Tick
}

// RunUntil moves the clock to t tick by tick, evaluating whenever the
// account's wake-up has passed.
func (s *Sim) RunUntil(t time.Time) {
	for {
		next := s.Now.Truncate(s.tick()).Add(s.tick())
		if next.After(t) {
			break
		}
		s.Now = next
		s.fire()
	}
	if t.After(s.Now) {
		s.Now = t
		s.fire()
	}
}

func (s *Sim) fire() {
	if w := s.State.NextWake; !w.IsZero() && !w.After(s.Now) {
		s.evaluate(nil, Trigger{})
	}
}

// Event moves the clock to ev.Time (events in the past are taken at the
// current clock, as the partition clock never goes back) and processes ev.
func (s *Sim) Event(ev event.Event) error {
	s.RunUntil(ev.Time)
	trig, err := s.Facts.Apply(ev)
	if err != nil {
		return fmt.Errorf("sim: apply %s %s: %w", ev.Body.Kind(), ev.ID, err)
	}
	var st State
	if IsOperator(ev.Body.Kind()) { // operator.go
		st, err = ApplyOperator(s.State, ev, MasterOf(s.Facts.Input(), ev.Body), s.Policy, s.Now)
	} else {
		st, err = ApplyEvent(s.State, ev, s.Policy, s.Now)
	}
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	s.State = st
	if trig.Kind == event.KindUnknown {
		trig.Kind = ev.Body.Kind()
	}
	if trig.EventID == "" {
		trig.EventID = ev.ID
	}
	s.evaluate(&ev, trig)
	return nil
}

func (s *Sim) evaluate(ev *event.Event, trig Trigger) {
	in := s.Facts.Input()
	in.Trigger = trig
	st, d := Evaluate(s.State, in, s.Policy, s.Now, s.Loc)
	s.State = st
	if s.Observe != nil {
		s.Observe(Step{Now: s.Now, Event: ev, Decision: d, State: st})
	}
}
