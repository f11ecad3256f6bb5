package core

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
)

// State is one account's whole state: receivables, dunning and risk.
type State struct {
	// Account is the account id (the Kafka key). It is not encoded (the
	// store's key and the status record carry it): UnmarshalBinary keeps
	// what the caller set, and Apply and Wake fill it when empty.
	Account string
	Ledger  ledger.Account
	Dunning dunning.State
	Risk    risk.State
}

// Env is the configuration a step needs. It is read-only and shared by all
// partitions.
type Env struct {
	// Rules are the ledger's validation and idempotence rules
	// (Config.Rules).
	Rules ledger.Rules
	// Limits bound holds and arrangements (Config.Limits; zero fields take
	// dunning's defaults).
	Limits dunning.Limits
	// Policies select the dunning policy per account (nil: no dunning).
	Policies *policy.Set
	// Versions, when set, is the published policy versions over Policies
	// (the shell reads them from ar.policies): a step decides with the set
	// in force at its time (Versions.At(now)), so every instance and every
	// replay switches at the same instant. Nil: Policies alone.
	Versions *policy.Timeline
	// Scorecard scores risk (nil: no scoring).
	Scorecard *risk.Scorecard
	// Risk says when a risk event is emitted.
	Risk risk.Config
	// Zone resolves an IANA time zone name; nil or an unknown name means UTC.
	// The shell loads the zone database; the core never touches files.
	Zone func(name string) *time.Location
	// SkipExplanations leaves Output.Explanation empty (it has nothing to
	// do with quiet hours): set for live processing, which never reads it;
	// explain and dry runs leave it false.
	SkipExplanations bool
}

// Output is what one step decided.
type Output struct {
	// Changed reports that the state changed (a status record is due).
	Changed bool
	// Duplicate reports an event the account had already taken (same event
	// id within the dedupe window, or a known entity with the same
	// content): nothing changed and nothing is emitted.
	Duplicate bool
	// Actions, Risk and GL are effects to emit.
	Actions []event.DunningAction
	Risk    []event.RiskEvent
	GL      []event.GLEntry
	// NextWake is when the account wants to be woken (zero: no timer).
	NextWake time.Time
	// Explanation is dunning's one-line reason for what it did.
	Explanation string
}

// RejectError is an event the account cannot take; it goes to the DLQ and
// the account is untouched. Reason is one of the ledger's reasons
// (ledger.Reasons) or of the dunning reasons below; the list with codes is
// in docs/processing.md "Rejections".
type RejectError struct {
	// Reason is bounded and safe as a metric label (snake_case).
	Reason string
	Detail string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

// Code is the rejection's stable machine code, Reason upper-cased (e.g.
// ID_CONFLICT, CLOSED_ACCOUNT, HOLD_TOO_LONG): the dead-letter code.
func (e *RejectError) Code() string { return strings.ToUpper(e.Reason) }

// Reasons of the dunning kinds (arrangements, holds).
const (
	ReasonInvalidArrangement = "invalid_arrangement"
	ReasonArrangementTooLong = "arrangement_too_long"
	ReasonUnknownArrangement = "unknown_arrangement"
	ReasonInvalidHold        = "invalid_hold"
	ReasonHoldTooLong        = "hold_too_long"
	ReasonUnknownHold        = "unknown_hold"
	ReasonIDConflict         = "id_conflict"
	ReasonInvalidDispute     = "invalid_dispute"
	ReasonUnknownAccount     = "unknown_account"
)

// DunningReasons lists the reasons above, for pre-registering metric labels.
func DunningReasons() []string {
	return []string{ReasonInvalidArrangement, ReasonArrangementTooLong, ReasonUnknownArrangement, ReasonInvalidHold,
		ReasonHoldTooLong, ReasonUnknownHold, ReasonInvalidDispute, ReasonNotPlaced, ReasonNoLegalCase,
		ReasonInvalidOperator, ReasonUnknownExemption, ReasonOperatorLimit, ReasonNoPolicy, ReasonWriteOffExceedsBalance}
}

// dunningReason maps a dunning.ApplyEvent error to its reason.
func dunningReason(err error) string {
	switch {
	case errors.Is(err, dunning.ErrArrangementTooLong):
		return ReasonArrangementTooLong
	case errors.Is(err, dunning.ErrArrangementConflict):
		return ReasonIDConflict
	case errors.Is(err, dunning.ErrUnknownArrangement):
		return ReasonUnknownArrangement
	case errors.Is(err, dunning.ErrHoldTooLong):
		return ReasonHoldTooLong
	case errors.Is(err, dunning.ErrUnknownHold):
		return ReasonUnknownHold
	case errors.Is(err, dunning.ErrInvalidHold):
		return ReasonInvalidHold
	}
	return ReasonInvalidArrangement
}

// Apply applies ev to st at partition time now: the ledger (or dunning, for
// arrangements and holds) takes the event, then dunning evaluates the
// account and risk rescores it. On error st is untouched.
func Apply(st *State, ev event.Event, now time.Time, env *Env) (Output, error) {
	if st.Account == "" {
		st.Account = ev.Account
	}
	pol := env.policy(st, now)
	acc := env.accrue(st, pol, now) // finance.go
	trig := dunning.Trigger{Kind: ev.Body.Kind(), EventID: ev.ID}
	changed := false
	var unknownInvoices []string
	var pre []event.DunningAction // decided before the ladder (group.go)
	var preNote string
	switch b := ev.Body.(type) {
	case *event.GroupContext, *event.GroupServiceChange, *event.GroupConditions:
		dup := false
		if dup, pre, preNote = env.applyGroup(st, ev, pol, now); dup {
			return Output{Duplicate: true}, nil
		}
		changed = true
	case *event.ArrangementCreated, *event.ArrangementCancelled, *event.Hold, *event.Release:
		if env.Rules.SeenEvent(&st.Ledger, ev.ID, now) || env.knownArrangement(st, b, now) {
			return Output{Duplicate: true}, nil
		}
		if !st.Ledger.Known() && env.Rules.RequireAccount {
			return Output{}, &RejectError{ReasonUnknownAccount, fmt.Sprintf("%s for account %s that was never upserted", ev.Body.Kind(), ev.Account)}
		}
		ds, err := env.Limits.ApplyEvent(st.Dunning, ev, pol, now)
		if err != nil {
			return Output{}, &RejectError{dunningReason(err), err.Error()}
		}
		st.Dunning = ds
		env.Rules.NoteEvent(&st.Ledger, ev.ID, now)
		if a, ok := b.(*event.ArrangementCreated); ok {
			st.Ledger.RememberEntity(ledger.EntityArrangement, a.ArrangementID, max(event.DateOf(now), dunning.LastDue(a)))
		}
		changed = true
	case *event.AgencyRecalled, *event.AgencyReturned, *event.LegalCaseUpdated:
		if dup, err := env.applyPartner(st, ev, now); dup || err != nil {
			return Output{Duplicate: dup}, err
		}
		changed = true
	case *event.ExemptionSet, *event.ExemptionCleared, *event.ContactPreferencesChanged, *event.CeaseContact,
		*event.CallLogged, *event.CallbackScheduled, *event.WriteOffRequested:
		if dup, err := env.applyOperator(st, ev, pol, now); dup || err != nil { // operator.go
			return Output{Duplicate: dup}, err
		}
		changed = true
	default:
		res, err := env.Rules.Apply(&st.Ledger, ev, now)
		if err != nil {
			var rej *ledger.RejectError
			if errors.As(err, &rej) {
				return Output{}, &RejectError{rej.Reason.String(), rej.Detail}
			}
			return Output{}, err
		}
		if res.Duplicate {
			return Output{Duplicate: true}, nil
		}
		changed = res.Changed
		unknownInvoices = res.UnknownInvoices
		if _, ok := b.(*event.DisputeResolved); ok {
			ds, err := env.Limits.ApplyEvent(st.Dunning, ev, pol, now)
			if err != nil {
				return Output{}, &RejectError{ReasonInvalidDispute, err.Error()}
			}
			st.Dunning = ds
		}
		switch p := b.(type) {
		case *event.PaymentReceived:
			trig.PaymentID, trig.Currency, trig.Amount = p.PaymentID, p.Currency, p.Amount
		case *event.PaymentReversed:
			trig.PaymentID, trig.Currency, trig.Amount = p.PaymentID, res.Currency, res.Reopened
		}
	}
	changed = acc.keep(st) || changed
	out := evaluate(st, trig, now, env, pol)
	out.Changed = out.Changed || changed
	if len(pre) > 0 || preNote != "" {
		out.Actions = append(pre, out.Actions...)
		out.Explanation = strings.TrimSuffix(preNote+"; "+out.Explanation, "; ")
	}
	if len(unknownInvoices) > 0 {
		p := ev.Body.(*event.PaymentReceived)
		note := fmt.Sprintf("payment %s names %s, which the account does not hold: allocated oldest due first",
			p.PaymentID, strings.Join(unknownInvoices, ", "))
		out.Explanation = strings.TrimSuffix(note+"; "+out.Explanation, "; ")
	}
	return out, nil
}

// knownArrangement reports an ArrangementCreated whose id the account
// remembers (an ended arrangement, or one replaced since) while it is not
// the active one: a repeat, dropped as a duplicate. A repeat of the active
// one is dunning's to judge (same content: no-op; other: id_conflict).
func (env *Env) knownArrangement(st *State, b event.Body, now time.Time) bool {
	a, ok := b.(*event.ArrangementCreated)
	if !ok || (st.Dunning.Arrangement != nil && st.Dunning.Arrangement.ID == a.ArrangementID) {
		return false
	}
	return env.Rules.EntityKnown(&st.Ledger, ledger.EntityArrangement, a.ArrangementID, now)
}

// Wake runs the account's timer that fired at now.
func Wake(st *State, account string, now time.Time, env *Env) (Output, error) {
	if st.Account == "" {
		st.Account = account
	}
	pol := env.policy(st, now)
	env.accrue(st, pol, now).keep(st)
	out := evaluate(st, dunning.Trigger{}, now, env, pol)
	out.Changed = true
	return out, nil
}

// WakeAt is when the account's timer is due (zero: none).
func (st *State) WakeAt() time.Time { return st.Dunning.NextWake }

// policy selects the account's dunning policy at now.
func (env *Env) policy(st *State, now time.Time) *policy.Policy {
	set := env.PoliciesAt(now)
	if set == nil || !st.Ledger.Known() {
		return nil
	}
	m := st.Ledger.Master()
	return armPolicy(set, st, set.Select(m.Segment, m.CreditClass, st.Risk.Tier)) // experiment.go
}

// PolicyVersion is the version of the policy that governs the account at
// now (its arm's, in an experiment), "" when none applies: the status
// record's policy_version.
func (env *Env) PolicyVersion(st *State, now time.Time) string {
	if p := env.policy(st, now); p != nil {
		return p.Version
	}
	return ""
}

// PoliciesAt is the policy set in force at now: Versions.At(now) when
// Versions is set, else Policies.
func (env *Env) PoliciesAt(now time.Time) *policy.Set {
	switch {
	case env == nil:
		return nil
	case env.Versions != nil:
		return env.Versions.At(now)
	}
	return env.Policies
}

func (env *Env) zone(name string) *time.Location {
	if env == nil || env.Zone == nil || name == "" {
		return time.UTC
	}
	if loc := env.Zone(name); loc != nil {
		return loc
	}
	return time.UTC
}

// evaluate runs risk, then dunning, on the account as the ledger left it.
func evaluate(st *State, trig dunning.Trigger, now time.Time, env *Env, pol *policy.Policy) Output {
	var out Output
	acct := st.accountID()
	if env != nil && env.Scorecard != nil && st.Ledger.Known() {
		r := env.Scorecard.Score(st.features(now))
		ns, ev := risk.Decide(st.Risk, r, env.Risk, acct, now, trig.EventID)
		if ns != st.Risk {
			out.Changed = true
		}
		st.Risk = ns
		if ev != nil {
			out.Risk = append(out.Risk, *ev)
		}
	}
	if noteExperiment(st, env.PoliciesAt(now), pol) { // experiment.go: the sticky arm
		out.Changed = true
	}
	if pol == nil {
		// No policy applies (any more: a segment change): no timer. The
		// state's wake-up goes too, or a partition restored from it would
		// rebuild a timer the live path never had.
		if !st.Dunning.NextWake.IsZero() {
			st.Dunning.NextWake = time.Time{}
			out.Changed = true
		}
		return out
	}
	m := st.Ledger.Master()
	in := dunning.Input{
		Account: acct, Segment: m.Segment, CreditClass: m.CreditClass, Parent: m.ParentID, RiskTier: st.Risk.Tier, PD: st.Risk.PD,
		Consents: m.Consents, Exemptions: m.Exemptions, Trigger: trig, SkipExplanation: env != nil && env.SkipExplanations,
	}
	if trig.Kind == event.KindPaymentReceived && st.Dunning.IsWrittenOff() {
		in.Unapplied = st.Ledger.Unapplied(trig.Currency)
	}
	st.openItems(&in)
	before := st.Dunning.NextWake
	ds, dec := dunning.Evaluate(st.Dunning, in, pol, now, env.zone(m.Timezone))
	st.Dunning = ds
	out.Actions = dec.Actions
	stampExperiment(st, out.Actions)
	out.GL = dec.GL
	out.NextWake = dec.NextWake
	out.Explanation = dec.Explanation
	for _, o := range dec.Outcomes {
		if !o.Kept {
			st.Ledger.NotePromiseBroken(now)
		}
	}
	for k, notes := range [...][]event.InvoiceAdjusted{dec.DebitNotes, dec.CreditNotes} {
		for i := range notes {
			n := notes[i]
			adj := event.Event{ID: "fee-" + n.AdjustmentID, Time: now, Source: "arrears", Account: acct, Body: &n}
			_, err := env.Rules.Apply(&st.Ledger, adj, now)
			switch {
			case err == nil:
				out.Changed = true
			case k == 0: // a refused debit note books nothing: its GL entry goes too
				out.GL = dropEntry(out.GL, dunning.NoteEntry(n.AdjustmentID))
				out.Explanation = strings.TrimPrefix(out.Explanation+fmt.Sprintf("; debit note %s on invoice %s not booked: %v", n.AdjustmentID, n.InvoiceID, err), "; ")
			}
		}
	}
	for _, a := range dec.Actions {
		if a.Type == event.ActionWriteOff && writeOff(st, a, now, env) {
			out.Changed = true
		}
	}
	if len(dec.Actions) > 0 || len(dec.Outcomes) > 0 || len(dec.GL) > 0 || !before.Equal(dec.NextWake) {
		out.Changed = true
	}
	return out
}

func (st *State) accountID() string { return st.Account }

// dropEntry returns gl without the entry id (a copy: gl is the decision's).
func dropEntry(gl []event.GLEntry, id string) []event.GLEntry {
	out := make([]event.GLEntry, 0, len(gl))
	for _, g := range gl {
		if g.EntryID != id {
			out = append(out, g)
		}
	}
	return out
}

// writeOff closes the open amount of the invoices a WRITE_OFF action covers
// with credit notes (dunning emitted the GL entry); it reports a change.
func writeOff(st *State, a event.DunningAction, now time.Time, env *Env) bool {
	changed := false
	for _, inv := range a.Invoices {
		it, ok := st.Ledger.Item(inv)
		if !ok || it.Open <= 0 {
			continue
		}
		id := "wo-" + a.ActionID + "-" + inv
		cn := event.Event{ID: id, Time: now, Source: "arrears", Account: st.Account,
			Body: &event.InvoiceAdjusted{AdjustmentID: id, InvoiceID: inv, Type: event.Credit,
				Currency: it.Currency, Amount: it.Open, Reason: "write-off " + a.ActionID}}
		if _, err := env.Rules.Apply(&st.Ledger, cn, now); err == nil {
			st.Dunning = st.Dunning.NoteWriteOff(inv, it.Currency, it.Open)
			changed = true
		}
	}
	return changed
}

// Features are the account's risk features at now (the scorecard's inputs;
// the ClickHouse sink lands them for `arrears risk train`).
func (st *State) Features(now time.Time) risk.Features { return st.features(now) }

// features fills risk's features from the ledger at now.
func (st *State) features(now time.Time) risk.Features {
	l := &st.Ledger
	m := l.Master()
	c := l.Counters()
	w := c.Last12Months(now)
	f := risk.Features{
		DaysPastDue:     l.DaysPastDue(now),
		LatePayments12M: w.LatePayments,
		AvgDaysToPay:    c.AvgDaysToPay(),
		Reversals:       w.Reversals,
		BrokenPromises:  w.BrokenPromises,
		DisputesOpened:  w.DisputesOpened,
		TenureDays:      c.TenureDays(now),
		OpenInvoices:    int32(l.OpenItems()),
		Segment:         m.Segment,
	}
	cur := m.Currency
	if cur == "" {
		return f
	}
	b := l.Balance(cur, now)
	if b.Open > 0 {
		f.OverdueRatio = float64(b.Overdue) / float64(b.Open)
	}
	if m.CreditLimit > 0 {
		f.Utilisation = float64(b.Open) / float64(m.CreditLimit)
	}
	return f
}

// CachedZones wraps a time zone loader (time.LoadLocation, supplied by the
// shell: loading reads the zone database) so each name is loaded once; it is
// safe for concurrent use. Unknown names resolve to nil (UTC).
func CachedZones(load func(string) (*time.Location, error)) func(string) *time.Location {
	var m sync.Map
	return func(name string) *time.Location {
		if v, ok := m.Load(name); ok {
			return v.(*time.Location)
		}
		loc, err := load(name)
		if err != nil {
			loc = nil
		}
		m.Store(name, loc)
		return loc
	}
}
