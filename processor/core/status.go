package core

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Status renders the account's collections status at now (without the
// encoded state and source coordinates, which the processor adds).
func (st *State) Status(now time.Time) event.AccountStatus {
	l := &st.Ledger
	m := l.Master()
	s := event.AccountStatus{
		Account:      st.accountID(),
		Time:         now,
		Segment:      m.Segment,
		Closed:       l.Closed(),
		Balances:     l.Balances(now),
		OpenItems:    int32(l.OpenItems()),
		DaysPastDue:  l.DaysPastDue(now),
		Stage:        st.Dunning.Stage,
		ServiceState: st.Dunning.Service.String(),
		RiskTier:     st.Risk.Tier,
		PD:           st.Risk.PD,
		OnHold:       len(st.Dunning.Holds) > 0,

		UnknownInvoiceRefs: int32(min(l.Counters().UnknownInvoiceRefs, 1<<31-1)),
	}
	if d, ok := l.OldestOverdue(now); ok {
		s.OldestDueDate = d
	}
	if a := st.Dunning.Arrangement; a != nil {
		s.Arrangement = a.ID
	}
	s.CollectionsStatus = st.collectionsStatus()
	s.ExperimentID, s.Arm = st.experiment()
	return s
}

// Collections statuses (AccountStatus.CollectionsStatus), most specific
// first.
const (
	CollectionsLegal         = "LEGAL"
	CollectionsPlaced        = "PLACED"
	CollectionsWrittenOff    = "WRITTEN_OFF"
	CollectionsInArrangement = "IN_ARRANGEMENT"
	CollectionsInDunning     = "IN_DUNNING"
	CollectionsNone          = "NONE"
)

func (st *State) collectionsStatus() string {
	switch d := &st.Dunning; {
	case d.IsWrittenOff():
		return CollectionsWrittenOff
	case d.InLegal():
		return CollectionsLegal
	case d.IsPlaced():
		return CollectionsPlaced
	case d.Arrangement != nil:
		return CollectionsInArrangement
	case d.InEpisode:
		return CollectionsInDunning
	}
	return CollectionsNone
}
