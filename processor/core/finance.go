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

// The finance steps of the core (issue 15): the partner events agencies
// and law firms send (AgencyRecalled, AgencyReturned, LegalCaseUpdated)
// and the late-payment interest accrued before each step. What they lead
// to (commission, referrals, postings, provisions) is dunning's to decide
// (dunning/partner.go, dunning/interest.go).

// Reasons of the partner events.
const (
	ReasonNotPlaced   = "not_placed"
	ReasonNoLegalCase = "no_legal_case"
)

// applyPartner records a partner event in the account's dunning state; it
// reports a duplicate (the event id seen) or a rejection.
func (env *Env) applyPartner(st *State, ev event.Event, now time.Time) (bool, error) {
	if env.Rules.SeenEvent(&st.Ledger, ev.ID, now) {
		return true, nil
	}
	if !st.Ledger.Known() && env.Rules.RequireAccount {
		return false, &RejectError{ReasonUnknownAccount, fmt.Sprintf("%s for account %s that was never upserted", ev.Body.Kind(), ev.Account)}
	}
	ds, err := dunning.ApplyPartner(st.Dunning, ev, now)
	if err != nil {
		reason := ReasonNotPlaced
		if errors.Is(err, dunning.ErrNoLegalCase) {
			reason = ReasonNoLegalCase
		}
		return false, &RejectError{reason, err.Error()}
	}
	st.Dunning = ds
	env.Rules.NoteEvent(&st.Ledger, ev.ID, now)
	return false, nil
}

// accrual is the account's interest accrued through the day before now,
// on the account as the previous step left it; keep stores it once the
// step's event is taken (a duplicate or a rejection keeps nothing, and the
// next step accrues the same days on the same balance).
type accrual struct {
	in dunning.Interest
	ok bool
}

func (env *Env) accrue(st *State, pol *policy.Policy, now time.Time) accrual {
	if pol == nil || pol.Finance.Interest == nil {
		return accrual{}
	}
	var in dunning.Input
	st.openItems(&in)
	loc := env.zone(st.Ledger.Master().Timezone)
	i, ok := dunning.Accrue(st.Dunning, in.Items, pol, event.DateOf(now.In(loc)))
	return accrual{i, ok}
}

// keep reports whether it changed the state.
func (a accrual) keep(st *State) bool {
	if a.ok {
		st.Dunning = st.Dunning.WithInterest(a.in)
	}
	return a.ok
}

// openItems fills in's items (open amounts net of disputes) and disputed
// amounts from the ledger.
func (st *State) openItems(in *dunning.Input) {
	if n := st.Ledger.OpenItems(); n > 0 {
		in.Items = make([]dunning.Item, 0, n)
	}
	st.Ledger.EachOpen(func(it ledger.Item) {
		d := min(it.Disputed, it.Open)
		if d > 0 {
			if in.Disputed == nil {
				in.Disputed = map[event.Currency]event.Amount{}
			}
			in.Disputed[it.Currency] += d
		}
		if it.Open-d > 0 {
			in.Items = append(in.Items, dunning.Item{InvoiceID: it.InvoiceID, Currency: it.Currency, DueDate: it.DueDate, Open: it.Open - d})
		}
	})
}
