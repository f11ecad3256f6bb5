package dunning

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Operator is what collectors and supervisors recorded about the account
// through the operator API (issue 12): exemptions, contact preferences, a
// cease-contact request, calls and call-backs. Nil (the usual case) is an
// account nobody touched. It is copied on write, never shared mutably.
//
// Master data stays the ledger's (AccountUpserted): an operator exemption
// adds a flag to the master list, a clearing removes one from it, and
// operator consents replace the master consents, each only for as long as
// the master list is the one the operator saw (ClearedBase, ConsentsBase):
// newer master data with another list wins.
type Operator struct {
	// Exemptions are the flags set by ExemptionSet, by flag; an Until that
	// passed ends the flag (a wake-up is set for it).
	Exemptions []Exemption
	// Cleared are master flags an ExemptionCleared removed while the
	// master list was ClearedBase.
	Cleared     []string
	ClearedBase []string
	// ConsentsSet: Consents replace the master consents while those are
	// ConsentsBase (ContactPreferencesChanged). Preferred is the channel
	// used when a stage's action offers it (channel or fallback).
	ConsentsSet  bool
	Consents     []event.Channel
	ConsentsBase []event.Channel
	Preferred    event.Channel
	// Cease is an active cease-contact request, since CeaseSince: no NOTIFY
	// is sent (agent tasks, service actions and fees continue).
	Cease      bool
	CeaseSince time.Time
	// LastCall is the outcome of the last call logged, at LastCallAt;
	// Calls counts the calls logged.
	LastCall   event.CallOutcome
	LastCallAt time.Time
	Calls      uint32
	// Callbacks are the call-backs not yet turned into an agent task,
	// ordered by At then ID.
	Callbacks []Callback

	// writeOff is the WriteOffRequested ApplyOperator took: the Evaluate
	// of the same step carries it out (operator_writeoff.go). Never encoded.
	writeOff *writeOffRequest
}

// Exemption is a flag set by an operator, until Until (zero: until cleared).
type Exemption struct {
	Flag  string
	Until time.Time
}

// Callback is a call the customer asked for at At: an AGENT_TASK to Queue
// ("" : the account's current queue) once At, moved out of quiet hours and
// within the contact cap, has come. Source names who scheduled it.
type Callback struct {
	ID     string
	At     time.Time
	Queue  string
	Source string
}

type writeOffRequest struct {
	ID       string
	Currency event.Currency
	Amount   event.Amount
	Reason   string
	Source   string
}

// Bounds of the operator state, so one account's state stays small.
const (
	MaxOperatorExemptions = 16
	MaxCallbacks          = 16
	// MaxCallbackDays refuses a call-back scheduled further ahead.
	MaxCallbackDays = 366
	// DefaultCallbackQueue takes a call-back when neither the event, the
	// account's current stage nor any stage of its policy names a queue.
	DefaultCallbackQueue = "callbacks"
)

// Master is what ApplyOperator needs of the account's master data and
// ledger.
type Master struct {
	Consents   []event.Channel
	Exemptions []string
	// Open is the open amount, net of disputes, in the currency of a
	// WriteOffRequested (the most it may write off).
	Open event.Amount
}

// IsOperator reports whether dunning's ApplyOperator takes kind.
func IsOperator(kind event.Kind) bool {
	switch kind {
	case event.KindExemptionSet, event.KindExemptionCleared, event.KindContactPreferencesChanged,
		event.KindCeaseContact, event.KindCallLogged, event.KindCallbackScheduled, event.KindWriteOffRequested:
		return true
	}
	return false
}

// ApplyOperator records an operator event (IsOperator) in the state;
// other kinds are returned unchanged. Call Evaluate after it, in the same
// step: that is where the consequences are decided (manual review routing,
// withheld notifications, the call-back's agent task, the write-off). pol
// is the account's policy (nil: none applies, which refuses call-backs and
// write-offs: their queue and GL accounts are the policy's). On error the
// returned state is st unchanged; errors wrap ErrInvalidOperator,
// ErrUnknownExemption, ErrOperatorLimit, ErrNoPolicy or
// ErrWriteOffExceedsBalance.
func ApplyOperator(st State, ev event.Event, m Master, pol *policy.Policy, now time.Time) (State, error) {
	if !IsOperator(ev.Body.Kind()) {
		return st, nil
	}
	now = norm(now)
	o := st.Operator.clone()
	if err := o.apply(ev, m, pol, now); err != nil {
		return st, fmt.Errorf("%s %s: %w", ev.Body.Kind(), ev.ID, err)
	}
	n := st.clone()
	n.Operator = o.orNil()
	return n, nil
}

func (o *Operator) apply(ev event.Event, m Master, pol *policy.Policy, now time.Time) error {
	switch b := ev.Body.(type) {
	case *event.ExemptionSet:
		if b.Exemption == "" {
			return fmt.Errorf("no exemption flag: %w", ErrInvalidOperator)
		}
		o.Cleared = without(o.Cleared, b.Exemption)
		x := Exemption{Flag: b.Exemption, Until: norm(b.Until)}
		i, found := slices.BinarySearchFunc(o.Exemptions, x.Flag, func(e Exemption, f string) int { return cmp.Compare(e.Flag, f) })
		if found {
			o.Exemptions[i] = x
		} else if len(o.Exemptions) >= MaxOperatorExemptions {
			return fmt.Errorf("more than %d exemptions: %w", MaxOperatorExemptions, ErrOperatorLimit)
		} else {
			o.Exemptions = slices.Insert(o.Exemptions, i, x)
		}
	case *event.ExemptionCleared:
		n := len(o.Exemptions)
		o.Exemptions = slices.DeleteFunc(o.Exemptions, func(e Exemption) bool { return e.Flag == b.Exemption })
		inMaster := slices.Contains(m.Exemptions, b.Exemption)
		if inMaster && !slices.Contains(o.Cleared, b.Exemption) {
			if len(o.Cleared) > 0 && !slices.Equal(o.ClearedBase, m.Exemptions) {
				o.Cleared = nil // cleared from an older master list
			}
			o.Cleared = append(o.Cleared, b.Exemption)
			o.ClearedBase = slices.Clone(m.Exemptions)
		}
		if !inMaster && n == len(o.Exemptions) {
			return fmt.Errorf("exemption %q is not set: %w", b.Exemption, ErrUnknownExemption)
		}
	case *event.ContactPreferencesChanged:
		consents := slices.Compact(slices.Sorted(slices.Values(b.Consents)))
		if b.Preferred != "" && !slices.Contains(consents, b.Preferred) {
			return fmt.Errorf("preferred channel %s without consent: %w", b.Preferred, ErrInvalidOperator)
		}
		o.ConsentsSet, o.Consents, o.ConsentsBase, o.Preferred = true, consents, slices.Clone(m.Consents), b.Preferred
	case *event.CeaseContact:
		switch {
		case b.Active && !o.Cease:
			o.Cease, o.CeaseSince = true, now
		case !b.Active:
			o.Cease, o.CeaseSince = false, time.Time{}
		}
	case *event.CallLogged:
		if b.Outcome.String() == "UNKNOWN" {
			return fmt.Errorf("call outcome %d: %w", b.Outcome, ErrInvalidOperator)
		}
		o.LastCall, o.LastCallAt, o.Calls = b.Outcome, now, o.Calls+1
	case *event.CallbackScheduled:
		return o.schedule(b, ev.Source, pol, now)
	case *event.WriteOffRequested:
		switch {
		case pol == nil:
			return fmt.Errorf("write-off %s: %w", b.WriteOffID, ErrNoPolicy)
		case b.WriteOffID == "" || b.Amount < 0:
			return fmt.Errorf("write-off %q of %s: %w", b.WriteOffID, b.Amount, ErrInvalidOperator)
		case m.Open <= 0:
			return fmt.Errorf("write-off %s: nothing open in %s: %w", b.WriteOffID, b.Currency, ErrWriteOffExceedsBalance)
		case b.Amount > m.Open:
			return fmt.Errorf("write-off %s of %s %s exceeds the open balance %s: %w",
				b.WriteOffID, b.Amount, b.Currency, m.Open, ErrWriteOffExceedsBalance)
		}
		o.writeOff = &writeOffRequest{ID: b.WriteOffID, Currency: b.Currency, Amount: b.Amount, Reason: b.Reason, Source: ev.Source}
	}
	return nil
}

// schedule adds or (same id) moves a call-back.
func (o *Operator) schedule(b *event.CallbackScheduled, source string, pol *policy.Policy, now time.Time) error {
	switch {
	case pol == nil:
		return fmt.Errorf("call-back %s: %w", b.CallbackID, ErrNoPolicy)
	case b.CallbackID == "" || b.At.IsZero():
		return fmt.Errorf("call-back %q at %s: %w", b.CallbackID, b.At, ErrInvalidOperator)
	case b.At.After(now.AddDate(0, 0, MaxCallbackDays)):
		return fmt.Errorf("call-back %s more than %d days ahead: %w", b.CallbackID, MaxCallbackDays, ErrOperatorLimit)
	}
	o.Callbacks = slices.DeleteFunc(o.Callbacks, func(c Callback) bool { return c.ID == b.CallbackID })
	if len(o.Callbacks) >= MaxCallbacks {
		return fmt.Errorf("more than %d call-backs: %w", MaxCallbacks, ErrOperatorLimit)
	}
	o.Callbacks = append(o.Callbacks, Callback{ID: b.CallbackID, At: norm(b.At), Queue: b.Queue, Source: source})
	slices.SortFunc(o.Callbacks, func(x, y Callback) int {
		return cmp.Or(x.At.Compare(y.At), cmp.Compare(x.ID, y.ID))
	})
	return nil
}

func without(list []string, s string) []string {
	return slices.DeleteFunc(list, func(x string) bool { return x == s })
}

// clone returns a deep copy (of nil: an empty Operator).
func (o *Operator) clone() *Operator {
	if o == nil {
		return &Operator{}
	}
	c := *o
	c.Exemptions = slices.Clone(o.Exemptions)
	c.Cleared, c.ClearedBase = slices.Clone(o.Cleared), slices.Clone(o.ClearedBase)
	c.Consents, c.ConsentsBase = slices.Clone(o.Consents), slices.Clone(o.ConsentsBase)
	c.Callbacks = slices.Clone(o.Callbacks)
	return &c
}

// orNil is o, or nil when it holds nothing.
func (o *Operator) orNil() *Operator {
	if o == nil || (len(o.Exemptions) == 0 && len(o.Cleared) == 0 && !o.ConsentsSet && o.Preferred == "" && !o.Cease &&
		o.LastCall == 0 && o.Calls == 0 && len(o.Callbacks) == 0 && o.writeOff == nil) {
		return nil
	}
	return o
}

// OperatorSummary describes the operator state in lines for `arrears
// explain` and the account view (empty: nothing recorded).
func (s State) OperatorSummary(loc *time.Location) []string {
	o := s.Operator
	if o == nil {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	at := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	var out []string
	for _, x := range o.Exemptions {
		line := "exemption " + x.Flag + " (operator)"
		if !x.Until.IsZero() {
			line += " until " + at(x.Until)
		}
		out = append(out, line)
	}
	if len(o.Cleared) > 0 {
		out = append(out, "exemptions cleared: "+strings.Join(o.Cleared, ", "))
	}
	if o.ConsentsSet {
		out = append(out, "consents (operator): "+joinChannels(o.Consents))
	}
	if o.Preferred != "" {
		out = append(out, "preferred channel: "+string(o.Preferred))
	}
	if o.Cease {
		out = append(out, "cease-contact request active since "+at(o.CeaseSince)+": no notifications")
	}
	if o.Calls > 0 {
		out = append(out, fmt.Sprintf("last call %s at %s (%d calls logged)", o.LastCall, at(o.LastCallAt), o.Calls))
	}
	for _, c := range o.Callbacks {
		out = append(out, fmt.Sprintf("call-back %s requested for %s by %s", c.ID, at(c.At), c.Source))
	}
	return out
}

func joinChannels(cs []event.Channel) string {
	if len(cs) == 0 {
		return "none"
	}
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// MasterOf is the Master of in for body (the open amount in a write-off's
// currency).
func MasterOf(in Input, body event.Body) Master {
	m := Master{Consents: in.Consents, Exemptions: in.Exemptions}
	if w, ok := body.(*event.WriteOffRequested); ok {
		for _, it := range in.Items {
			if it.Currency == w.Currency && it.Open > 0 {
				m.Open += it.Open
			}
		}
	}
	return m
}
