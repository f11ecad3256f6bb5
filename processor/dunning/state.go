package dunning

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// ServiceState is what dunning last asked provisioning to do.
type ServiceState uint8

// Service states.
const (
	ServiceActive ServiceState = iota
	ServiceSuspended
	ServiceBarred
	ServiceThrottled
)

func (s ServiceState) String() string {
	switch s {
	case ServiceActive:
		return "ACTIVE"
	case ServiceSuspended:
		return "SUSPENDED"
	case ServiceBarred:
		return "BARRED"
	case ServiceThrottled:
		return "THROTTLED"
	}
	return "UNKNOWN"
}

// State is one account's dunning state. The zero value is a fresh account.
// Treat it as a value: Evaluate and ApplyEvent return a new State and never
// modify the one passed in.
type State struct {
	// Episode counts delinquency episodes; InEpisode is set while one runs.
	Episode   uint32
	InEpisode bool
	// Stage is the last stage entered in the episode ("" none), at StageEntered.
	Stage        string
	StageEntered time.Time
	// Actioned are the stages whose actions ran in this episode; they are
	// never run again in it (except when an arrangement breaks or a
	// reversal resumes at an earlier stage).
	Actioned []string
	Service  ServiceState
	// Arrangement is the active promise or installment plan, if any.
	Arrangement *Arrangement
	Holds       []Hold
	// DisputeGraceUntil pauses escalation after a rejected dispute.
	DisputeGraceUntil time.Time
	// Resume is a stage to enter as soon as escalation may run (a broken
	// arrangement or a reversal).
	Resume string
	// ShiftDays moves the rest of the ladder after a resume: stages after
	// a resumed stage are timed from the resume, so their days past due
	// are compared with the actual days past due minus ShiftDays.
	ShiftDays int32
	// PausedSince is when a pause (hold, dispute, arrangement) began; the
	// ladder is moved by the paused days when escalation runs again.
	PausedSince time.Time
	// Deferred are contacts waiting for quiet hours, the calendar or the cap.
	Deferred []Deferred
	// Contacts are the recent contact instants, for the contact cap.
	Contacts []time.Time
	// NextWake is the Decision.NextWake of the last evaluation.
	NextWake time.Time
	// WrittenOff are the amounts write-offs took off invoices that no
	// payment has recovered yet, oldest first; while any is left the
	// account is written off (writtenoff.go). Recoveries are the payment
	// parts that recovered such amounts, so a reversal writes them off again.
	WrittenOff []WrittenOff
	Recoveries []Recovery
	// Finance is the agency, legal, interest and provision state (nil:
	// none; copied on write, never shared mutably: partner.go).
	Finance *Finance
	// Operator is what collectors and supervisors recorded (nil: nothing;
	// copied on write, never shared mutably: operator.go).
	Operator *Operator
	// Arms are the account's sticky champion/challenger assignments, oldest
	// first (at most MaxArms); Experiment is the one of the policy that last
	// evaluated the account ("": none). See experiment.go.
	Arms       []ArmAssignment
	Experiment string
	// Group is the collections-group state (nil: none; group.go).
	Group *Group
}

// Arrangement is a promise to pay or an installment plan being tracked.
type Arrangement struct {
	ID           string
	Type         event.ArrangementType
	Currency     event.Currency
	Created      time.Time
	Installments []event.Installment
	// Paid is what was paid toward it since Created; Payments lists the
	// payments so a reversal takes its amount back.
	Paid     event.Amount
	Payments []Payment
	// Met is how many installments are covered by Paid.
	Met int
}

// Payment is one payment counted toward an arrangement.
type Payment struct {
	ID     string
	Amount event.Amount
}

// Hold pauses dunning until Until.
type Hold struct {
	ID    string
	Until time.Time
}

// Deferred is a NOTIFY waiting for At.
type Deferred struct {
	Stage   string
	Index   int
	Channel event.Channel
	At      time.Time
}

// clone returns a deep copy so callers' states are never aliased.
func (s State) clone() State {
	c := s
	c.Actioned = append([]string(nil), s.Actioned...)
	c.Holds = append([]Hold(nil), s.Holds...)
	c.Deferred = append([]Deferred(nil), s.Deferred...)
	c.Contacts = append([]time.Time(nil), s.Contacts...)
	c.WrittenOff = append([]WrittenOff(nil), s.WrittenOff...)
	c.Recoveries = append([]Recovery(nil), s.Recoveries...)
	c.Group = s.Group.clone() // group.go
	if s.Arrangement != nil {
		a := *s.Arrangement
		a.Installments = append([]event.Installment(nil), a.Installments...)
		a.Payments = append([]Payment(nil), a.Payments...)
		c.Arrangement = &a
	}
	return c
}

func (s *State) actioned(stage string) bool {
	for _, a := range s.Actioned {
		if a == stage {
			return true
		}
	}
	return false
}

// total is the sum of the arrangement's first n installments.
func (a *Arrangement) total(n int) event.Amount {
	var t event.Amount
	for i := 0; i < n && i < len(a.Installments); i++ {
		t += a.Installments[i].Amount
	}
	return t
}
