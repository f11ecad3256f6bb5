package group

import (
	"maps"
	"math"
	"slices"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
)

// Figures are one currency's amounts (minor units) of an account or a
// subtree. They do not depend on the clock: what is overdue at a time t is
// the sum of Due on dates before t, so a contribution stays true while time
// passes and is written only when the account changes.
type Figures struct {
	// Exposure is the open amount of the items.
	Exposure int64 `json:"exposure"`
	// Disputed is the disputed part of the open amount.
	Disputed int64 `json:"disputed,omitempty"`
	// Due is the undisputed open amount by due date (days since 1970-01-01).
	Due map[event.Date]int64 `json:"due,omitempty"`
	// ExpectedLoss is the sum over accounts of round(PD x exposure).
	ExpectedLoss int64 `json:"expected_loss,omitempty"`
}

// Totals is what an account or a group node contributes to its parent:
// one account's figures, or the sum over a subtree.
type Totals struct {
	// Accounts counts the accounts summed (1 for an account).
	Accounts int64 `json:"accounts"`
	// Suspended counts the accounts whose service is not ACTIVE.
	Suspended int64 `json:"suspended,omitempty"`
	// MaxPD is the highest probability of default among the accounts.
	MaxPD float64 `json:"max_pd,omitempty"`
	// Depth is the number of group levels summed (0 for an account).
	Depth int `json:"depth,omitempty"`
	// Currencies holds the figures per ISO currency.
	Currencies map[event.Currency]*Figures `json:"currencies,omitempty"`
}

// OfState is account st's parent group and contribution. ok is false when
// the account contributes nothing: no master data, no parent, or closed.
func OfState(st *core.State) (parent string, t Totals, ok bool) {
	l := &st.Ledger
	m := l.Master()
	if !l.Known() || m.ParentID == "" || l.Closed() {
		return m.ParentID, Totals{}, false
	}
	t = Totals{Accounts: 1, MaxPD: st.Risk.PD}
	if st.Dunning.Service != dunning.ServiceActive {
		t.Suspended = 1
	}
	l.EachOpen(func(it ledger.Item) {
		f := t.figures(it.Currency)
		disputed := min(it.Disputed, it.Open)
		f.Exposure += int64(it.Open)
		f.Disputed += int64(disputed)
		if undisputed := int64(it.Open - disputed); undisputed > 0 {
			if f.Due == nil {
				f.Due = map[event.Date]int64{}
			}
			f.Due[it.DueDate] += undisputed
		}
	})
	for _, f := range t.Currencies {
		f.ExpectedLoss = int64(math.Round(st.Risk.PD * float64(f.Exposure)))
	}
	return m.ParentID, t, true
}

func (t *Totals) figures(c event.Currency) *Figures {
	if t.Currencies == nil {
		t.Currencies = map[event.Currency]*Figures{}
	}
	f := t.Currencies[c]
	if f == nil {
		f = &Figures{}
		t.Currencies[c] = f
	}
	return f
}

// add adds o to t (Depth and MaxPD take the maximum).
func (t *Totals) add(o Totals) {
	t.Accounts += o.Accounts
	t.Suspended += o.Suspended
	t.MaxPD = max(t.MaxPD, o.MaxPD)
	t.Depth = max(t.Depth, o.Depth)
	for _, c := range slices.Sorted(maps.Keys(o.Currencies)) {
		of, f := o.Currencies[c], t.figures(c)
		f.Exposure += of.Exposure
		f.Disputed += of.Disputed
		f.ExpectedLoss += of.ExpectedLoss
		for d, v := range of.Due {
			if f.Due == nil {
				f.Due = map[event.Date]int64{}
			}
			f.Due[d] += v
		}
	}
}

// Sum adds up contributions (the recomputation tests and tools use).
func Sum(ts ...Totals) Totals {
	var out Totals
	for _, t := range ts {
		out.add(t)
	}
	return out
}

// Equal reports whether t and o hold the same figures.
func (t Totals) Equal(o Totals) bool {
	if t.Accounts != o.Accounts || t.Suspended != o.Suspended || t.MaxPD != o.MaxPD || t.Depth != o.Depth ||
		len(t.Currencies) != len(o.Currencies) {
		return false
	}
	for c, f := range t.Currencies {
		g := o.Currencies[c]
		if g == nil || f.Exposure != g.Exposure || f.Disputed != g.Disputed || f.ExpectedLoss != g.ExpectedLoss ||
			!maps.Equal(f.Due, g.Due) {
			return false
		}
	}
	return true
}

// Overdue is the undisputed open amount in c due before day today.
func (t Totals) Overdue(c event.Currency, today event.Date) int64 {
	f := t.Currencies[c]
	if f == nil {
		return 0
	}
	var n int64
	for d, v := range f.Due {
		if d < today {
			n += v
		}
	}
	return n
}

// WorstDPD is the days past due, as of today, of the oldest undisputed open
// amount in any currency; 0 when nothing is overdue.
func (t Totals) WorstDPD(today event.Date) int32 {
	var worst int32
	for _, f := range t.Currencies {
		for d, v := range f.Due {
			if v > 0 && d < today {
				worst = max(worst, int32(today-d))
			}
		}
	}
	return worst
}
