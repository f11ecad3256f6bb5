package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
	"github.com/arrears/arrears/processor/policy"
)

// Reasons of the operator events (dunning/operator.go), among
// DunningReasons.
const (
	ReasonInvalidOperator        = "invalid_operator_event"
	ReasonUnknownExemption       = "unknown_exemption"
	ReasonOperatorLimit          = "operator_limit"
	ReasonNoPolicy               = "no_policy"
	ReasonWriteOffExceedsBalance = "writeoff_exceeds_balance"
)

func operatorReason(err error) string {
	switch {
	case errors.Is(err, dunning.ErrUnknownExemption):
		return ReasonUnknownExemption
	case errors.Is(err, dunning.ErrOperatorLimit):
		return ReasonOperatorLimit
	case errors.Is(err, dunning.ErrNoPolicy):
		return ReasonNoPolicy
	case errors.Is(err, dunning.ErrWriteOffExceedsBalance):
		return ReasonWriteOffExceedsBalance
	}
	return ReasonInvalidOperator
}

// applyOperator takes an operator event (dunning.IsOperator: exemptions,
// contact preferences, cease-contact, calls, call-backs, manual
// write-offs): dunning records it and the evaluation of the same step acts
// on it. It reports a duplicate (the event id within the dedupe window);
// a refusal is a *RejectError and st is untouched.
func (env *Env) applyOperator(st *State, ev event.Event, pol *policy.Policy, now time.Time) (bool, error) {
	if dup, err := env.admit(st, ev, now); dup || err != nil {
		return dup, err
	}
	m := st.Ledger.Master()
	master := dunning.Master{Consents: m.Consents, Exemptions: m.Exemptions}
	if w, ok := ev.Body.(*event.WriteOffRequested); ok {
		master.Open = st.undisputedOpen(w.Currency)
	}
	ds, err := dunning.ApplyOperator(st.Dunning, ev, master, pol, now)
	if err != nil {
		return false, &RejectError{operatorReason(err), err.Error()}
	}
	st.Dunning = ds
	env.Rules.NoteEvent(&st.Ledger, ev.ID, now)
	return false, nil
}

// admit is what an event dunning owns passes first: a repeat within the
// dedupe window is a duplicate; an account never upserted is refused when
// the rules require master data.
func (env *Env) admit(st *State, ev event.Event, now time.Time) (bool, error) {
	if env.Rules.SeenEvent(&st.Ledger, ev.ID, now) {
		return true, nil
	}
	if !st.Ledger.Known() && env.Rules.RequireAccount {
		return false, &RejectError{ReasonUnknownAccount, fmt.Sprintf("%s for account %s that was never upserted", ev.Body.Kind(), ev.Account)}
	}
	return false, nil
}

// undisputedOpen is the open amount net of disputes in cur: what dunning
// sees of the account's items (evaluate) and the most a manual write-off
// may take.
func (st *State) undisputedOpen(cur event.Currency) event.Amount {
	var open event.Amount
	st.Ledger.EachOpen(func(it ledger.Item) {
		if it.Currency == cur {
			open += it.Open - min(it.Disputed, it.Open)
		}
	})
	return open
}
