package simulate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// ResponseMethod says how --response historical estimates (in the table
// and the JSON).
const ResponseMethod = "last-touch cure rates observed in the active replay: every payment in the landed history " +
	"is credited to the account's last action before it (actions at the same instant share it equally) when it came " +
	"within cure_days of that action; a payment after which nothing is overdue is a cure. The rate of a key " +
	"(action type, channel for NOTIFY, days-past-due bucket of the action) is its credited cures (and cash) over its " +
	"actions; an arm's estimate is the sum of its actions' rates. The active arm's estimate is what history credited " +
	"by construction; the candidate's assumes customers answer each action as they answered the same action in history."

// RateKey is an action type (NOTIFY/channel for a contact) and the
// days-past-due bucket of the action.
type RateKey struct {
	Action string `json:"action"`
	Bucket string `json:"dpd_bucket"`
}

// Rate is what history credited to one key's actions.
type Rate struct {
	RateKey
	Actions       int     `json:"actions"` // actions of the key in the active replay
	Cures         float64 `json:"cures"`   // cures credited to them
	Cash          float64 `json:"cash"`    // payments credited to them (amounts summed across currencies)
	CureRate      float64 `json:"cure_rate"`
	CashPerAction float64 `json:"cash_per_action"`
}

// Estimate is one arm's estimated response.
type Estimate struct {
	Cures float64 `json:"estimated_cures"`
	Cash  float64 `json:"estimated_cash"`
	// Unrated counts the arm's actions with a key history never saw (they
	// add nothing).
	Unrated int `json:"unrated_actions"`
}

// Response is the --response historical estimate of both arms.
type Response struct {
	Method    string   `json:"method"`
	CureDays  int      `json:"cure_days"`
	Active    Estimate `json:"active"`
	Candidate Estimate `json:"candidate"`
	Rates     []Rate   `json:"rates"`
}

// dpdBucket is the days-past-due bucket of an action.
func dpdBucket(d int32) string {
	switch {
	case d <= 30:
		return "0-30"
	case d <= 60:
		return "31-60"
	case d <= 90:
		return "61-90"
	}
	return "91+"
}

func keyOf(a Action) RateKey {
	k := a.Type
	if a.Channel != "" {
		k += "/" + a.Channel
	}
	return RateKey{k, dpdBucket(a.DaysPastDue)}
}

// payment is one landed payment an account took, and whether nothing was
// overdue after it.
type payment struct {
	ms     int64
	amount float64
	cured  bool
}

// payments records the active replay's payments.
type payments struct {
	by map[string][]payment
}

// observe records a payment once its step is done (the observer sees the
// state after it; not on a duplicate or a refusal, which it never sees).
func (p *payments) observe(acct string, st *core.State, at time.Time, ev *event.Event) {
	if p == nil || ev == nil {
		return
	}
	pr, ok := ev.Body.(*event.PaymentReceived)
	if !ok {
		return
	}
	p.by[acct] = append(p.by[acct], payment{ms: at.UnixMilli(), amount: float64(pr.Amount) / 1e4,
		cured: st.Ledger.DaysPastDue(at) == 0})
}

// historical credits the active replay's payments to its actions, and
// applies the rates to both arms' actions (each in (time, account) order).
func historical(active, candidate []Action, pays map[string][]payment, cureDays int) *Response {
	window := int64(cureDays) * 86_400_000
	type credit struct{ n, cures, cash float64 }
	credits := map[RateKey]*credit{}
	byAcct := map[string][]Action{}
	for _, a := range active {
		byAcct[a.Account] = append(byAcct[a.Account], a)
		k := keyOf(a)
		if credits[k] == nil {
			credits[k] = &credit{}
		}
		credits[k].n++
	}
	for _, acct := range slices.Sorted(maps.Keys(byAcct)) { // in account order: the float sums are the same every run
		as, ps := byAcct[acct], pays[acct]
		for i := 0; i < len(as); {
			j := i // as[i:j] share an instant
			for j < len(as) && as[j].Time.Equal(as[i].Time) {
				j++
			}
			from := as[i].Time.UnixMilli()
			to := from + window
			if j < len(as) {
				to = min(to, as[j].Time.UnixMilli())
			}
			var cured bool
			var cash float64
			for _, p := range ps {
				if p.ms > from && p.ms <= to {
					cash += p.amount
					cured = cured || p.cured
				}
			}
			share := 1 / float64(j-i)
			for _, a := range as[i:j] {
				c := credits[keyOf(a)]
				c.cash += cash * share
				if cured {
					c.cures += share
				}
			}
			i = j
		}
	}
	r := &Response{Method: ResponseMethod, CureDays: cureDays}
	for k, c := range credits {
		r.Rates = append(r.Rates, Rate{RateKey: k, Actions: int(c.n), Cures: c.cures, Cash: c.cash,
			CureRate: c.cures / c.n, CashPerAction: c.cash / c.n})
	}
	slices.SortFunc(r.Rates, func(x, y Rate) int {
		return cmp.Or(cmp.Compare(x.Action, y.Action), cmp.Compare(x.Bucket, y.Bucket))
	})
	apply := func(as []Action) (e Estimate) {
		for _, a := range as {
			c := credits[keyOf(a)]
			if c == nil {
				e.Unrated++
				continue
			}
			e.Cures += c.cures / c.n
			e.Cash += c.cash / c.n
		}
		return e
	}
	r.Active, r.Candidate = apply(active), apply(candidate)
	return r
}

// validCureDays is the check of Options.CureDays.
func validCureDays(d int) error {
	if d < 1 || d > 365 {
		return fmt.Errorf("cure days %d is not between 1 and 365", d)
	}
	return nil
}
