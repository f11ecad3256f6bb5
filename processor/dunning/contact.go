package dunning

import (
	"sort"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// channelFor picks the notification channel: the customer's preferred
// channel when the action offers it, else the action's channel when the
// customer consented to it, else the first consented fallback.
func (e *evaluator) channelFor(pa *policy.Action) (event.Channel, bool) {
	if ch, ok := e.preferredFor(pa); ok { // operator.go
		return ch, true
	}
	for _, ch := range append([]event.Channel{pa.Channel}, pa.Fallback...) {
		for _, c := range e.in.Consents {
			if c == ch {
				return ch, true
			}
		}
	}
	return "", false
}

// contactAt is the earliest instant from now when a contact on ch is
// allowed by the quiet hours, the calendar and the contact cap.
func (e *evaluator) contactAt(ch event.Channel) time.Time {
	return e.allowedFrom(e.now, ch, &e.pol.Contact)
}

// allowedFrom is the earliest instant from t when a contact on ch is
// allowed by rules and the contact cap.
func (e *evaluator) allowedFrom(t time.Time, ch event.Channel, rules *policy.ContactRules) time.Time {
	for i := 0; i < 64; i++ {
		next := e.capFree(rules.NextAllowed(t, ch, e.loc))
		if next.Equal(t) {
			break
		}
		t = next
	}
	return norm(t)
}

// capFree is the earliest instant from t when one more contact stays within
// the cap of Max contacts per rolling window.
func (e *evaluator) capFree(t time.Time) time.Time {
	c := e.pol.Contact.Cap
	if c.Max == 0 {
		return t
	}
	from := t.Add(-c.Period())
	var in []time.Time
	for _, x := range e.st.Contacts {
		if x.After(from) && !x.After(t) {
			in = append(in, x)
		}
	}
	if len(in) < c.Max {
		return t
	}
	return in[len(in)-c.Max].Add(c.Period())
}

func (e *evaluator) recordContact() {
	e.st.Contacts = append(e.st.Contacts, e.now)
	if m := e.pol.Contact.Cap.Max; m > 0 && len(e.st.Contacts) > m {
		e.st.Contacts = append([]time.Time(nil), e.st.Contacts[len(e.st.Contacts)-m:]...)
	}
}

// notify sends a stage's notification now or defers it.
func (e *evaluator) notify(s *policy.Stage, j int, conds []event.Condition, reason string) {
	pa := &s.Actions[j]
	ch, ok := e.channelFor(pa)
	if !ok {
		e.note("%s %s of stage %s skipped: no consent for %s or its fallbacks %v", pa.Type, pa.Template, s.Name, pa.Channel, pa.Fallback)
		return
	}
	if e.withheld(s, pa, ch) { // cease-contact (operator.go)
		return
	}
	at := e.contactAt(ch)
	if !at.Equal(e.now) {
		e.st.Deferred = append(e.st.Deferred, Deferred{Stage: s.Name, Index: j, Channel: ch, At: at})
		e.wakeAt(at)
		e.note("%s %s of stage %s deferred to %s (%s)", pa.Type, ch, s.Name, at.In(e.loc).Format(time.RFC3339), e.deferReason(ch))
		return
	}
	e.sendNotify(s, j, ch, e.now, conds, reason)
}

func (e *evaluator) sendNotify(s *policy.Stage, j int, ch event.Channel, scheduled time.Time, conds []event.Condition, reason string) {
	pa := &s.Actions[j]
	a := e.action(s.Name, j, scheduled, event.ActionNotify, conds, reason)
	a.Channel, a.Template = ch, pa.Template
	if ch != pa.Channel {
		a.Reason += "; channel " + string(ch) + " instead of " + string(pa.Channel) + " (" + e.channelWhy(ch) + ")"
	}
	e.emit(a)
	e.recordContact()
}

// deferReason names what forbids a contact on ch now.
func (e *evaluator) deferReason(ch event.Channel) string {
	if !e.pol.Contact.NextAllowed(e.now, ch, e.loc).Equal(e.now) {
		return "quiet hours or business calendar"
	}
	return "contact cap"
}

// runDeferred sends the deferred contacts whose time came, oldest first,
// re-deferring those the cap or calendar still forbid.
func (e *evaluator) runDeferred() {
	if e.ceased() && len(e.st.Deferred) > 0 { // kept for when the request is lifted
		e.note("%d deferred contacts held: cease-contact request active", len(e.st.Deferred))
		return
	}
	ds := e.st.Deferred
	sort.SliceStable(ds, func(i, j int) bool {
		if !ds[i].At.Equal(ds[j].At) {
			return ds[i].At.Before(ds[j].At)
		}
		si, sj := e.pol.StageIndex(ds[i].Stage), e.pol.StageIndex(ds[j].Stage)
		if si != sj {
			return si < sj
		}
		return ds[i].Index < ds[j].Index
	})
	var keep []Deferred
	for _, d := range ds {
		if d.At.After(e.now) {
			keep = append(keep, d)
			e.wakeAt(d.At)
			continue
		}
		i := e.pol.StageIndex(d.Stage)
		if i < 0 || d.Index >= len(e.pol.Stages[i].Actions) || e.pol.Stages[i].Actions[d.Index].Type != event.ActionNotify {
			e.note("deferred contact of stage %s dropped: not in policy %s", d.Stage, e.policyRef())
			continue
		}
		at := e.contactAt(d.Channel)
		if !at.Equal(e.now) {
			d.At = at
			keep = append(keep, d)
			e.wakeAt(at)
			e.note("deferred %s of stage %s deferred again to %s (%s)", d.Channel, d.Stage, at.In(e.loc).Format(time.RFC3339), e.deferReason(d.Channel))
			continue
		}
		s := &e.pol.Stages[i]
		conds := e.conditions(s, false)
		e.sendNotify(s, d.Index, d.Channel, d.At, conds, e.reason(s, conds)+"; deferred to "+d.At.In(e.loc).Format(time.RFC3339))
		e.note("deferred %s of stage %s sent", d.Channel, d.Stage)
	}
	e.st.Deferred = keep
}
