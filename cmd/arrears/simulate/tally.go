package simulate

import (
	"maps"
	"slices"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
)

// Summary is what one replay decided inside the window.
type Summary struct {
	// Policies are the policies replayed, as name@version.
	Policies []string `json:"policies"`
	Rejects  int      `json:"rejects"`  // events the core refused (history has only accepted ones: 0 unless policies differ in what they accept)
	Wakes    int      `json:"wake_ups"` // wake-ups fired over the whole replay
	// Actions counts actions by type, and NOTIFY also by type/channel.
	Actions map[string]int `json:"actions"`
	// Contacts are NOTIFY actions, by channel, and what they cost.
	Contacts          int            `json:"contacts"`
	ContactsByChannel map[string]int `json:"contacts_by_channel"`
	ContactCost       float64        `json:"contact_cost"`
	// Suspensions are SUSPEND actions; SuspendedAccounts the accounts with one.
	Suspensions       int `json:"suspensions"`
	SuspendedAccounts int `json:"suspended_accounts"`
	// Accounts reaching agency placement, legal referral and write-off.
	AgencyAccounts   int `json:"agency_accounts"`
	LegalAccounts    int `json:"legal_accounts"`
	WriteOffAccounts int `json:"write_off_accounts"`
	// ContactedAccounts had a contact; MeanDaysToFirstContact is the mean
	// days past due of each one's first contact in the window.
	ContactedAccounts      int     `json:"contacted_accounts"`
	MeanDaysToFirstContact float64 `json:"mean_days_to_first_contact"`
	// Deferrals counts contacts the contact rules (quiet hours, calendar,
	// cap) deferred: each time one joins an account's deferred list (the
	// core reports no deferral; this is what the state shows after a step).
	Deferrals int `json:"deferrals"`
}

// Action is one decided action, for --actions and the faithfulness check.
type Action struct {
	ID      string    `json:"action_id"`
	Account string    `json:"account_id"`
	Type    string    `json:"type"`
	Channel string    `json:"channel,omitempty"`
	Stage   string    `json:"stage"`
	Time    time.Time `json:"time"`
	// DaysPastDue is the account's when the action was decided.
	DaysPastDue int32 `json:"days_past_due"`
}

// tally builds a Summary from the replay's steps, one account at a time
// (begin, the account's steps, end): what it keeps of an account lives
// only while the account is replayed.
type tally struct {
	from, until time.Time
	cost        map[event.Channel]float64
	keep        bool // keep every action in actions
	actions     []Action

	s         Summary
	contacted int   // accounts with a contact in the window
	dpdSum    int64 // their days past due at first contact, summed
	reached   map[event.ActionType]int
	pays      *payments // set: record the payments (--response historical, active replay)

	// the account being replayed
	contact   bool  // it had a contact in the window
	firstDPD  int32 // days past due at its first
	reachedBy map[event.ActionType]bool
	deferred  []deferKey // its deferred contacts after its last step
}

type deferKey struct {
	stage string
	index int
	ch    event.Channel
}

// reachable are the actions whose accounts are counted (SuspendedAccounts,
// AgencyAccounts, LegalAccounts, WriteOffAccounts).
var reachable = []event.ActionType{event.ActionSuspend, event.ActionAgency, event.ActionLegal, event.ActionWriteOff}

func newTally(from, until time.Time, cost map[event.Channel]float64, keep bool) *tally {
	return &tally{from: from, until: until, cost: cost, keep: keep,
		s:       Summary{Actions: map[string]int{}, ContactsByChannel: map[string]int{}},
		reached: map[event.ActionType]int{}, reachedBy: map[event.ActionType]bool{}}
}

func (t *tally) in(at time.Time) bool { return !at.Before(t.from) && !at.After(t.until) }

// begin starts an account.
func (t *tally) begin() {
	t.contact, t.deferred = false, t.deferred[:0]
	clear(t.reachedBy)
}

// end folds the account into the counts.
func (t *tally) end() {
	if t.contact {
		t.contacted++
		t.dpdSum += int64(t.firstDPD)
	}
	for k := range t.reachedBy {
		t.reached[k]++
	}
}

// observe is the replay's Observer.
func (t *tally) observe(acct string, st *core.State, out *core.Output, at time.Time, ev *event.Event) {
	t.pays.observe(acct, st, at, ev)
	for i := range out.Actions {
		a := &out.Actions[i]
		if !t.in(a.Time) {
			continue
		}
		t.s.Actions[string(a.Type)]++
		if t.keep {
			t.actions = append(t.actions, Action{ID: a.ActionID, Account: acct, Type: string(a.Type),
				Channel: string(a.Channel), Stage: a.Stage, Time: a.Time.UTC(), DaysPastDue: a.DaysPastDue})
		}
		if slices.Contains(reachable, a.Type) {
			t.reachedBy[a.Type] = true
		}
		switch a.Type {
		case event.ActionNotify:
			t.s.Actions[string(a.Type)+"/"+string(a.Channel)]++
			t.s.Contacts++
			t.s.ContactsByChannel[string(a.Channel)]++
			if !t.contact {
				t.contact, t.firstDPD = true, a.DaysPastDue
			}
		case event.ActionSuspend:
			t.s.Suspensions++
		}
	}
	t.deferrals(st.Dunning.Deferred, at)
}

// deferrals counts the contacts that joined the account's deferred list.
func (t *tally) deferrals(ds []dunning.Deferred, at time.Time) {
	if len(ds) == 0 && len(t.deferred) == 0 {
		return
	}
	prev := t.deferred
	cur := make([]deferKey, len(ds))
	for i, d := range ds {
		cur[i] = deferKey{d.Stage, d.Index, d.Channel}
	}
	if t.in(at) {
		for _, k := range cur {
			if !containsKey(prev, k) {
				t.s.Deferrals++
			}
		}
	}
	t.deferred = cur
}

func containsKey(ks []deferKey, k deferKey) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// summarize completes the counts of one replay's workers (each account is
// on one). The contact cost is each channel's
// contacts times its cost, added in channel order, so it does not depend
// on the order of the steps.
func summarize(ts []*tally) Summary {
	s := Summary{Actions: map[string]int{}, ContactsByChannel: map[string]int{}}
	var sum int64
	for _, t := range ts {
		for k, n := range t.s.Actions {
			s.Actions[k] += n
		}
		for k, n := range t.s.ContactsByChannel {
			s.ContactsByChannel[k] += n
		}
		s.Contacts += t.s.Contacts
		s.Suspensions += t.s.Suspensions
		s.Deferrals += t.s.Deferrals
		s.SuspendedAccounts += t.reached[event.ActionSuspend]
		s.AgencyAccounts += t.reached[event.ActionAgency]
		s.LegalAccounts += t.reached[event.ActionLegal]
		s.WriteOffAccounts += t.reached[event.ActionWriteOff]
		s.ContactedAccounts += t.contacted
		sum += t.dpdSum
	}
	if s.ContactedAccounts > 0 {
		s.MeanDaysToFirstContact = float64(sum) / float64(s.ContactedAccounts)
	}
	if len(ts) > 0 {
		for _, ch := range slices.Sorted(maps.Keys(s.ContactsByChannel)) {
			s.ContactCost += float64(s.ContactsByChannel[ch]) * ts[0].cost[event.Channel(ch)]
		}
	}
	return s
}
