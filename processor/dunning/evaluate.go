package dunning

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Evaluate decides what is due for one account at now (the partition
// clock) under pol, in the account's time zone loc (nil: UTC). It is
// deterministic: the same state, input, policy and instant give the same
// decision and action ids. st is not modified; the new state is returned.
//
// In order: holds and dispute grace that ended are dropped; a payment in
// the Trigger is counted toward the active arrangement; with nothing
// overdue the episode ends (RESTORE when service was cut) or, when the rest
// is disputed, pauses; an arrangement is kept when paid, broken when an
// installment's due date + grace passes unpaid, and otherwise pauses
// escalation; below the policy's minimum or on hold nothing happens; then
// deferred contacts whose time came are sent and the stages whose
// conditions are met are entered, running each stage's actions once per
// episode.
func Evaluate(st State, in Input, pol *policy.Policy, now time.Time, loc *time.Location) (State, Decision) {
	if loc == nil {
		loc = time.UTC
	}
	e := &evaluator{st: st.clone(), in: in, pol: pol, now: norm(now), loc: loc}
	if pol == nil {
		e.note("no policy applies: nothing decided")
	} else {
		e.run()
		e.financeWake()
		e.groupCascade() // group.go
	}
	e.st.NextWake = e.wake
	e.d.NextWake = e.wake
	if !in.SkipExplanation {
		e.d.Explanation = string(e.notes)
	}
	return e.st, e.d
}

type evaluator struct {
	st    State
	in    Input
	pol   *policy.Policy
	now   time.Time
	loc   *time.Location
	d     Decision
	notes []byte // the explanation so far: notes joined by "; "
	wake  time.Time

	today   event.Date
	items   []Item  // past due, oldest first
	overdue amounts // past-due open amount per currency
	oldest  event.Date
	dpd     int
	cur     event.Currency // the currency the account is dunned in
	// belowMin: no currency reaches the policy's minimum.
	belowMin bool

	ref string // policyRef, built once
}

func (e *evaluator) note(format string, args ...any) {
	if e.in.SkipExplanation {
		return
	}
	if len(e.notes) > 0 {
		e.notes = append(e.notes, "; "...)
	}
	e.notes = fmt.Appendf(e.notes, format, args...)
}

// wakeAt asks to be evaluated again at t (the earliest request wins). An
// instant past the state encoding's range (year 9999, reached only from
// absurd dates) is no wake-up: it would never fire and could not be saved.
func (e *evaluator) wakeAt(t time.Time) {
	if t.After(e.now) && t.UnixMilli() <= maxMillis && (e.wake.IsZero() || t.Before(e.wake)) {
		e.wake = t
	}
}

func (e *evaluator) run() {
	e.expire()
	e.facts()
	if e.operator() { // operator.go: exemptions, consents, call-backs, manual write-off
		return
	}
	e.countPayment()
	e.partners() // partner.go: agency, legal, interest, provisions
	if e.writtenOff() {
		return
	}
	if len(e.items) == 0 {
		e.nothingOverdue()
		return
	}
	if !e.arrangement() || !e.aboveMinimum() || e.paused() {
		return
	}
	if !e.st.InEpisode {
		e.st.Episode++
		e.st.InEpisode = true
		e.st.Stage, e.st.Actioned, e.st.ShiftDays = "", nil, 0
		e.note("episode %d started", e.st.Episode)
	}
	e.runDeferred()
	e.escalate()
}

// expire drops holds and dispute grace that have ended.
func (e *evaluator) expire() {
	kept := e.st.Holds[:0]
	for _, h := range e.st.Holds {
		if h.Until.After(e.now) {
			kept = append(kept, h)
		} else {
			e.note("hold %s ended", h.ID)
		}
	}
	e.st.Holds = kept
	if !e.st.DisputeGraceUntil.IsZero() && !e.st.DisputeGraceUntil.After(e.now) {
		e.st.DisputeGraceUntil = time.Time{}
	}
	if c := e.pol.Contact.Cap; c.Max > 0 {
		from := e.now.Add(-c.Period())
		var recent []time.Time
		for _, t := range e.st.Contacts {
			if t.After(from) {
				recent = append(recent, t)
			}
		}
		e.st.Contacts = recent
	} else {
		e.st.Contacts = nil
	}
}

// facts derives the past-due view of the input at now.
func (e *evaluator) facts() {
	e.today = event.DateOf(e.now.In(e.loc))
	e.overdue = nil
	e.groupItems() // group.go: a group's top dunns the group's overdue
	for _, it := range e.in.Items {
		if it.Open > 0 && it.DueDate < e.today {
			e.items = append(e.items, it)
			e.overdue.add(it.Currency, it.Open)
		}
	}
	sort.SliceStable(e.items, func(i, j int) bool {
		if e.items[i].DueDate != e.items[j].DueDate {
			return e.items[i].DueDate < e.items[j].DueDate
		}
		return e.items[i].InvoiceID < e.items[j].InvoiceID
	})
	if len(e.items) > 0 {
		e.oldest = e.items[0].DueDate
		e.dpd = int(e.today - e.oldest)
	}
	e.pickCurrency()
}

// localMidnight is the start of day d in the account's time zone.
func (e *evaluator) localMidnight(d event.Date) time.Time {
	y, m, dd := d.Time().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, e.loc)
}

// futureWake asks to wake when the soonest open item that is not yet past
// due could enter the first stage (or cross the minimum).
func (e *evaluator) futureWake(firstStage bool) {
	var soonest event.Date
	found := false
	for _, it := range e.in.Items {
		if it.Open > 0 && it.DueDate >= e.today && (!found || it.DueDate < soonest) {
			soonest, found = it.DueDate, true
		}
	}
	if !found {
		return
	}
	days := 1
	if firstStage && len(e.pol.Stages) > 0 {
		days = max(e.pol.Stages[0].DaysPastDue, e.pol.GraceDays+1, 1)
	}
	e.wakeAt(e.localMidnight(soonest + event.Date(days)))
}

func sum(m map[event.Currency]event.Amount) event.Amount {
	var t event.Amount
	for _, a := range m {
		if a > 0 {
			t += a
		}
	}
	return t
}

// nothingOverdue handles an account with nothing past due outside disputes.
func (e *evaluator) nothingOverdue() {
	disputed := sum(e.in.Disputed)
	// An arrangement made for this episode is kept when the episode is
	// paid off; one made before anything fell due waits for its items.
	if a := e.st.Arrangement; a != nil && disputed == 0 && e.st.InEpisode {
		e.arrangementKept(a, len(a.Installments))
	}
	switch {
	case !e.st.InEpisode:
		e.note("nothing overdue")
	case disputed > 0:
		e.note("paused: nothing overdue outside disputes (%s disputed)", disputed)
		e.markPaused()
		return
	default:
		if e.cur == "" {
			e.cur = e.in.Trigger.Currency
		}
		if e.st.Service != ServiceActive && !e.groupHeld() { // group.go
			a := e.action("restore", 0, e.now, event.ActionRestore, nil,
				fmt.Sprintf("%s: nothing overdue, service %s restored", e.policyRef(), e.st.Service))
			e.emit(a)
			e.st.Service = ServiceActive
		}
		e.note("episode %d ended: nothing overdue (stage %q reached)", e.st.Episode, e.st.Stage)
		e.placementPaid() // partner.go
		e.st.InEpisode = false
		e.st.Stage, e.st.StageEntered, e.st.Actioned = "", time.Time{}, nil
		e.st.Deferred, e.st.Resume, e.st.ShiftDays = nil, "", 0
		e.st.PausedSince = time.Time{}
	}
	e.futureWake(true)
}

// pickCurrency chooses the currency to dun in: the largest overdue amount
// among the currencies at or above the policy's minimum, else the largest
// overdue amount (which is then below the minimum).
func (e *evaluator) pickCurrency() {
	var best, any event.Currency
	var bestAmt, anyAmt event.Amount
	for _, o := range e.overdue {
		c, amt := o.Currency, o.Amount
		if any == "" || amt > anyAmt {
			any, anyAmt = c, amt
		}
		if min, ok := e.pol.MinOverdue[c]; ok && amt >= min && (best == "" || amt > bestAmt) {
			best, bestAmt = c, amt
		}
	}
	e.cur, e.belowMin = best, best == ""
	if best == "" {
		e.cur = any
	}
}

// aboveMinimum reports (and explains) an overdue amount below the policy's
// minimum in every currency.
func (e *evaluator) aboveMinimum() bool {
	if !e.belowMin {
		return true
	}
	var below []string
	for _, o := range e.overdue {
		if min, ok := e.pol.MinOverdue[o.Currency]; ok {
			below = append(below, fmt.Sprintf("%s %s < %s", o.Currency, o.Amount, min))
		} else {
			below = append(below, fmt.Sprintf("%s %s (no threshold)", o.Currency, o.Amount))
		}
	}
	e.note("below minimum: %s", strings.Join(below, ", "))
	e.futureWake(false)
	return false
}

// paused reports (and explains) a hold or a dispute grace in force.
func (e *evaluator) paused() bool {
	var until time.Time
	var why string
	for _, h := range e.st.Holds {
		if until.IsZero() || h.Until.Before(until) {
			until, why = h.Until, "hold "+h.ID
		}
	}
	if until.IsZero() && e.st.DisputeGraceUntil.After(e.now) {
		until, why = e.st.DisputeGraceUntil, "grace after a rejected dispute"
	}
	if until.IsZero() {
		return false
	}
	e.wakeAt(until)
	e.markPaused()
	e.note("paused: %s until %s", why, until.In(e.loc).Format(time.RFC3339))
	return true
}

// markPaused records the start of a pause (the first one counts).
func (e *evaluator) markPaused() {
	if e.st.PausedSince.IsZero() {
		e.st.PausedSince = e.now
	}
}

// unpause moves the rest of the ladder by the whole local days paused, so
// a pause stops the dunning clock instead of piling stages up at its end.
func (e *evaluator) unpause() {
	if e.st.PausedSince.IsZero() {
		return
	}
	days := int(e.today - event.DateOf(e.st.PausedSince.In(e.loc)))
	e.st.PausedSince = time.Time{}
	if days > 0 && e.st.InEpisode {
		e.st.ShiftDays += int32(days)
		e.note("ladder moved %d days for the pause", days)
	}
}
