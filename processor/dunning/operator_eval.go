package dunning

import (
	"slices"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// What the operator state changes in an evaluation (operator.go): the
// exemptions and consents the rest of Evaluate sees, the notifications a
// cease-contact request withholds, the preferred channel, the call-backs
// due and a manual write-off.

// callChannel stands for a phone call in the contact rules: quiet hours
// and holidays forbid calls whatever channels they name for notifications.
const callChannel event.Channel = "call"

// operator runs before anything else is decided. It reports true when a
// manual write-off was carried out: nothing else is decided in that step
// (the account is written off from then on, writtenoff.go).
func (e *evaluator) operator() bool {
	if e.st.Operator == nil {
		return false
	}
	o := e.st.Operator.clone()
	e.st.Operator = o
	e.exemptions(o)
	e.consents(o)
	e.calls(o)
	e.callbacks(o)
	done := e.manualWriteOff(o)
	e.st.Operator = o.orNil()
	return done
}

// exemptions ends the operator exemptions whose time passed and gives the
// rest of Evaluate the account's flags: the master's, less those cleared,
// plus the operator's.
func (e *evaluator) exemptions(o *Operator) {
	kept := o.Exemptions[:0]
	for _, x := range o.Exemptions {
		if !x.Until.IsZero() && !x.Until.After(e.now) {
			e.note("exemption %s ended", x.Flag)
			continue
		}
		kept = append(kept, x)
		if !x.Until.IsZero() {
			e.wakeAt(x.Until)
		}
	}
	o.Exemptions = kept
	if len(o.Cleared) > 0 && !slices.Equal(o.ClearedBase, e.in.Exemptions) {
		e.note("exemptions cleared by an operator (%v) superseded by newer master data", o.Cleared)
		o.Cleared, o.ClearedBase = nil, nil
	}
	if len(o.Exemptions) == 0 && len(o.Cleared) == 0 {
		return
	}
	flags := make([]string, 0, len(e.in.Exemptions)+len(o.Exemptions))
	for _, f := range e.in.Exemptions {
		if !slices.Contains(o.Cleared, f) {
			flags = append(flags, f)
		}
	}
	for _, x := range o.Exemptions {
		if !slices.Contains(flags, x.Flag) {
			flags = append(flags, x.Flag)
		}
	}
	e.in.Exemptions = flags
}

// consents gives the rest of Evaluate the operator's consents while the
// master consents are those the operator replaced.
func (e *evaluator) consents(o *Operator) {
	if !o.ConsentsSet {
		return
	}
	if !slices.Equal(o.ConsentsBase, e.in.Consents) {
		e.note("contact preferences set by an operator superseded by newer master data")
		o.ConsentsSet, o.Consents, o.ConsentsBase = false, nil, nil
		return
	}
	e.in.Consents = o.Consents
}

// calls explains the last call when it says something about reaching the
// customer, and a cease-contact request lifted in this step.
func (e *evaluator) calls(o *Operator) {
	switch t := e.in.Trigger.Kind; {
	case t == event.KindCallLogged:
		e.note("call logged: %s (%d logged)", o.LastCall, o.Calls)
	case t == event.KindCeaseContact && o.Cease:
		e.note("cease-contact request active: notifications withheld")
	case t == event.KindCeaseContact:
		e.note("cease-contact request lifted: notifications resume")
	}
	if o.LastCall == event.CallWrongNumber || o.LastCall == event.CallRefused {
		e.note("last call %s at %s", o.LastCall, o.LastCallAt.In(e.loc).Format(time.RFC3339))
	}
}

// ceased reports an active cease-contact request.
func (e *evaluator) ceased() bool { return e.st.Operator != nil && e.st.Operator.Cease }

// withheld reports (and explains) a notification a cease-contact request
// withholds: it is not sent, now or later.
func (e *evaluator) withheld(s *policy.Stage, pa *policy.Action, ch event.Channel) bool {
	if !e.ceased() {
		return false
	}
	e.note("%s %s/%s of stage %s withheld: cease-contact request active since %s", pa.Type, ch, pa.Template, s.Name,
		e.st.Operator.CeaseSince.In(e.loc).Format(time.RFC3339))
	return true
}

// preferredFor is the customer's preferred channel when the action offers
// it (its channel or a fallback) and they consented to it.
func (e *evaluator) preferredFor(pa *policy.Action) (event.Channel, bool) {
	if e.st.Operator == nil || e.st.Operator.Preferred == "" {
		return "", false
	}
	p := e.st.Operator.Preferred
	if (pa.Channel == p || slices.Contains(pa.Fallback, p)) && slices.Contains(e.in.Consents, p) {
		return p, true
	}
	return "", false
}

// channelWhy says why a notification went on ch instead of the action's
// channel.
func (e *evaluator) channelWhy(ch event.Channel) string {
	if e.st.Operator != nil && e.st.Operator.Preferred == ch {
		return "preferred"
	}
	return "no consent"
}

// callbacks turns the call-backs whose time came into agent tasks, each
// once: at the requested time moved out of quiet hours and holidays and
// within the contact cap (a call-back counts as a contact); the others
// set the wake-up.
func (e *evaluator) callbacks(o *Operator) {
	var keep []Callback
	for _, cb := range o.Callbacks {
		at := e.allowedFrom(laterOf(cb.At, e.now), callChannel, e.callRules())
		if at.After(e.now) {
			keep = append(keep, cb)
			e.wakeAt(at)
			moved := ""
			if !at.Equal(cb.At) {
				moved = " (requested " + cb.At.In(e.loc).Format(time.RFC3339) + ", " + e.deferWhy(cb.At, at) + ")"
			}
			e.note("call-back %s due at %s%s", cb.ID, at.In(e.loc).Format(time.RFC3339), moved)
			continue
		}
		queue, prio := e.callbackQueue(cb)
		reason := "callback " + cb.ID + " requested by " + cb.Source + " for " + cb.At.In(e.loc).Format(time.RFC3339)
		if !cb.At.Equal(at) && at.After(cb.At) {
			reason += "; moved to " + at.In(e.loc).Format(time.RFC3339)
		}
		a := e.action("callback:"+cb.ID, 0, cb.At, event.ActionAgentTask,
			[]event.Condition{{Name: "callback_at", Value: cb.At.UTC().Format(time.RFC3339), Rule: "requested by the customer"}}, reason)
		a.Queue, a.Priority = queue, prio
		e.emit(a)
		e.recordContact()
		e.note("call-back %s: agent task to queue %s", cb.ID, queue)
	}
	o.Callbacks = keep
}

// callRules are the policy's contact rules as they apply to a call: quiet
// hours and holidays, no per-channel weekdays.
func (e *evaluator) callRules() *policy.ContactRules {
	r := e.pol.Contact
	r.QuietChannels, r.ClosedWeekdays = []event.Channel{callChannel}, nil
	return &r
}

// deferWhy names what moved a call-back from at to next.
func (e *evaluator) deferWhy(at, next time.Time) string {
	if !e.callRules().NextAllowed(laterOf(at, e.now), callChannel, e.loc).Equal(laterOf(at, e.now)) {
		return "quiet hours or business calendar"
	}
	return "contact cap"
}

// callbackQueue is the call-back's queue, else the current stage's agent
// task queue, else the first of the policy's, else DefaultCallbackQueue.
func (e *evaluator) callbackQueue(cb Callback) (string, int32) {
	if cb.Queue != "" {
		return cb.Queue, 0
	}
	stages := e.pol.Stages
	if i := e.pol.StageIndex(e.st.Stage); i >= 0 {
		stages = append(stages[i:i+1:i+1], stages...)
	}
	for _, s := range stages {
		for _, a := range s.Actions {
			if a.Type == event.ActionAgentTask && a.Queue != "" {
				return a.Queue, a.Priority
			}
		}
	}
	return DefaultCallbackQueue, 0
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
