package api

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// AccountView is an account as a collector sees it, live from Redis:
// GET /api/v1/accounts/{id}, and the answer of a write with ?wait. Money is
// a decimal string, dates YYYY-MM-DD, instants RFC 3339 (docs/api.md
// "Account view").
type AccountView struct {
	AccountID         string           `json:"account_id"`
	AsOf              time.Time        `json:"as_of"`
	Segment           string           `json:"segment"`
	ParentID          string           `json:"parent_id"`
	Currency          string           `json:"currency"`
	Closed            bool             `json:"closed"`
	Balances          []BalanceView    `json:"balances"`
	OpenItems         []OpenItemView   `json:"open_items"`
	DaysPastDue       int32            `json:"days_past_due"`
	Stage             string           `json:"stage"`
	ServiceState      string           `json:"service_state"`
	CollectionsStatus string           `json:"collections_status"`
	OnHold            bool             `json:"on_hold"`
	HoldUntil         *time.Time       `json:"hold_until"`
	Paused            string           `json:"paused"`
	Arrangement       *ArrangementView `json:"arrangement"`
	NextAction        *NextActionView  `json:"next_action"`
	Risk              RiskView         `json:"risk"`
	Exemptions        []string         `json:"exemptions"`
	Consents          []string         `json:"consents"`
	Preferred         string           `json:"preferred_channel"`
	CeaseContact      bool             `json:"cease_contact"`
	LastCall          *CallView        `json:"last_call"`
	Callbacks         []CallbackView   `json:"callbacks"`
	Policy            *PolicyView      `json:"policy"`
	Group             *GroupView       `json:"group"` // set by the Server (reads_group.go)
}

// Pause reasons (AccountView.Paused): why escalation does not run now.
const (
	PausedNone        = ""
	PausedHold        = "HOLD"
	PausedArrangement = "ARRANGEMENT"
	PausedDispute     = "DISPUTE"
	PausedWrittenOff  = "WRITTEN_OFF"
)

// BalanceView is the account's position in one currency.
type BalanceView struct {
	Currency  string `json:"currency"`
	Balance   string `json:"balance"`
	Overdue   string `json:"overdue"`
	Disputed  string `json:"disputed"`
	Unapplied string `json:"unapplied"`
}

// OpenItemView is one open receivable.
type OpenItemView struct {
	InvoiceID   string `json:"invoice_id"`
	Currency    string `json:"currency"`
	Amount      string `json:"amount"`
	Open        string `json:"open"`
	DueDate     string `json:"due_date"`
	DaysPastDue int32  `json:"days_past_due"`
	Disputed    string `json:"disputed"`
}

// ArrangementView is the active promise or installment plan.
type ArrangementView struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Currency string `json:"currency"`
	NextDue  string `json:"next_due"`
	Amount   string `json:"amount"`
	Paid     string `json:"paid"`
}

// NextActionView is what the processor will do at the next wake-up and why
// (a dry run of that step: core.Explain).
//
// While an arrangement pauses dunning the next thing that happens is the
// customer's payment: At is the installment's due date and Type
// NextArrangementDue; DecidedAt is when the core checks it (after the
// policy's grace days) and Actions what it would decide then if nothing
// was paid. Otherwise At and DecidedAt are the next wake-up.
type NextActionView struct {
	At          time.Time       `json:"at"`
	Type        string          `json:"type"`
	DecidedAt   time.Time       `json:"decided_at"`
	Actions     []PlannedAction `json:"actions"`
	Explanation string          `json:"explanation"`
}

// Next action types besides the action types of the dry run.
const (
	// NextArrangementDue is an installment of the active arrangement
	// falling due.
	NextArrangementDue = "ARRANGEMENT_DUE"
	// NextReview is a wake-up that decides no action (a re-evaluation).
	NextReview = "REVIEW"
)

// PlannedAction is one action the next wake-up would decide.
type PlannedAction struct {
	Type     string `json:"type"`
	Stage    string `json:"stage"`
	Channel  string `json:"channel"`
	Template string `json:"template"`
	Queue    string `json:"queue"`
	Reason   string `json:"reason"`
}

// RiskView is the account's risk: the tier and PD of the last risk event
// and, when a scorecard is loaded, today's score with its reason codes.
type RiskView struct {
	Tier    string       `json:"tier"`
	PD      float64      `json:"pd"`
	Score   *int32       `json:"score"`
	Model   string       `json:"model"`
	Reasons []ReasonView `json:"reasons"`
}

// ReasonView is one reason code and its contribution to the logit.
type ReasonView struct {
	Code         string  `json:"code"`
	Contribution float64 `json:"contribution"`
}

// CallView is the last call a collector logged.
type CallView struct {
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
}

// PolicyView names the dunning policy that applies.
type PolicyView struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// NewAccountView renders st as of now (the partition clock) with env's
// policies and scorecard. It is pure: the same state gives the same view.
func NewAccountView(st *core.State, now time.Time, env *core.Env) AccountView {
	e := core.Explain(st, now, env)
	s := e.Status
	m := st.Ledger.Master()
	v := AccountView{
		AccountID: st.Account, AsOf: now.UTC(), Segment: string(s.Segment), ParentID: m.ParentID,
		Currency: string(m.Currency), Closed: s.Closed, DaysPastDue: s.DaysPastDue,
		Stage: s.Stage, ServiceState: s.ServiceState, CollectionsStatus: s.CollectionsStatus, OnHold: s.OnHold,
		Balances: []BalanceView{}, OpenItems: []OpenItemView{}, Exemptions: []string{}, Consents: []string{}, Callbacks: []CallbackView{},
		Risk: RiskView{Tier: st.Risk.Tier, PD: st.Risk.PD, Reasons: []ReasonView{}},
	}
	for _, b := range s.Balances {
		v.Balances = append(v.Balances, BalanceView{Currency: string(b.Currency), Balance: b.Open.String(),
			Overdue: b.Overdue.String(), Disputed: b.Disputed.String(), Unapplied: b.Unapplied.String()})
	}
	today := event.DateOf(now)
	for _, it := range st.Ledger.Items() {
		if it.Open <= 0 {
			continue
		}
		dpd := int32(max(today-it.DueDate, 0))
		v.OpenItems = append(v.OpenItems, OpenItemView{InvoiceID: it.InvoiceID, Currency: string(it.Currency),
			Amount: it.Amount.String(), Open: it.Open.String(), DueDate: it.DueDate.String(), DaysPastDue: dpd,
			Disputed: min(it.Disputed, it.Open).String()})
	}
	sort.SliceStable(v.OpenItems, func(i, j int) bool { return v.OpenItems[i].DueDate < v.OpenItems[j].DueDate })
	d := &st.Dunning
	for _, h := range d.Holds {
		if v.HoldUntil == nil || h.Until.After(*v.HoldUntil) {
			u := h.Until.UTC()
			v.HoldUntil = &u
		}
	}
	if a := d.Arrangement; a != nil {
		v.Arrangement = arrangementView(a.ID, a.Type, a.Currency, a.Installments, a.Met, a.Paid)
	}
	v.Paused = paused(st, now)
	if !e.NextAt.IsZero() {
		n := &NextActionView{At: e.NextAt.UTC(), DecidedAt: e.NextAt.UTC(), Type: NextReview, Explanation: e.NextWhy, Actions: []PlannedAction{}}
		for i, a := range e.NextActions {
			if i == 0 {
				n.Type = string(a.Type)
			}
			n.Actions = append(n.Actions, PlannedAction{Type: string(a.Type), Stage: a.Stage, Channel: string(a.Channel),
				Template: a.Template, Queue: a.Queue, Reason: a.Reason})
		}
		if a := d.Arrangement; a != nil && v.Paused == PausedArrangement && a.Met < len(a.Installments) {
			n.At, n.Type = a.Installments[a.Met].DueDate.Time(), NextArrangementDue
		}
		v.NextAction = n
	}
	if e.Risk != nil {
		sc := e.Risk.Score
		v.Risk.Score, v.Risk.Model = &sc, e.Risk.ModelVersion
		if v.Risk.Tier == "" {
			v.Risk.Tier, v.Risk.PD = e.Risk.Tier, e.Risk.PD
		}
		for _, rc := range e.Risk.TopReasons() {
			v.Risk.Reasons = append(v.Risk.Reasons, ReasonView{Code: rc.Code, Contribution: rc.Contribution})
		}
	}
	for _, c := range m.Consents {
		v.Consents = append(v.Consents, string(c))
	}
	v.Exemptions = append(v.Exemptions, m.Exemptions...)
	operatorView(&v, st, now)
	if e.Policy != "" {
		p := PolicyView{Name: e.Policy}
		for i := len(e.Policy) - 1; i >= 0; i-- {
			if e.Policy[i] == '@' {
				p.Name, p.Version = e.Policy[:i], e.Policy[i+1:]
				break
			}
		}
		v.Policy = &p
	}
	return v
}

// arrangementView is the arrangement with its next unmet installment.
func arrangementView(id string, typ event.ArrangementType, cur event.Currency, ins []event.Installment, met int, paid event.Amount) *ArrangementView {
	a := &ArrangementView{ID: id, Type: typ.String(), Currency: string(cur), Paid: paid.String()}
	if met < len(ins) {
		a.NextDue, a.Amount = ins[met].DueDate.String(), ins[met].Amount.String()
	} else if len(ins) > 0 {
		a.NextDue, a.Amount = ins[len(ins)-1].DueDate.String(), ins[len(ins)-1].Amount.String()
	}
	return a
}

// paused says why escalation would not run at now, most binding first.
func paused(st *core.State, now time.Time) string {
	d := &st.Dunning
	switch {
	case d.IsWrittenOff():
		return PausedWrittenOff
	case len(d.Holds) > 0:
		return PausedHold
	case d.Arrangement != nil:
		return PausedArrangement
	case now.Before(d.DisputeGraceUntil):
		return PausedDispute
	}
	for _, it := range st.Ledger.Items() {
		if it.Open > 0 && it.Disputed > 0 && it.DueDate < event.DateOf(now) {
			return PausedDispute
		}
	}
	return PausedNone
}

// readRoutes are the read routes WS owns (search, account view, timeline,
// worklists, callbacks due, queue overview); routes() mounts them behind
// the same chain as every route. Collectors see their own queues only
// (worklist.go).
func (s *Server) readRoutes() []route {
	return []route{
		{pattern: "GET /accounts", min: RoleViewer, h: s.searchAccounts},
		{pattern: "GET /accounts/{id}", min: RoleViewer, h: s.getAccount},
		{pattern: "GET /accounts/{id}/timeline", min: RoleViewer, h: s.getTimeline},
		{pattern: "GET /worklists", min: RoleCollector, h: s.listQueues},
		{pattern: "GET /worklists/{queue}", min: RoleCollector, h: s.getWorklist},
		{pattern: "GET /callbacks", min: RoleCollector, h: s.listCallbacks},
	}
}

// accountView loads the account from Redis and renders it as of its
// partition clock (now when the partition has none yet). An account Redis
// does not hold is ErrUnknownAccount.
func (s *Server) accountView(ctx context.Context, id string) (any, error) {
	l, err := s.deps.State.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	now := l.Clock.UTC()
	if l.Clock.IsZero() {
		now = s.deps.Now().UTC()
	}
	st := l.State
	st.Account = id
	v := NewAccountView(&st, now, s.currentEnv())
	var conds *event.GroupConditions
	if g := st.Dunning.Group; g != nil {
		conds = g.Conds
	}
	v.Group = s.groupView(ctx, v.ParentID, now, conds)
	return v, nil
}

// getAccount: GET /accounts/{id}.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validAccountID(id) {
		writeProblem(w, r, http.StatusBadRequest, "invalid account id", "", FieldError{Field: "id", Message: "1 to 128 printable characters"})
		return
	}
	v, err := s.accountView(r.Context(), id)
	if errors.Is(err, ErrUnknownAccount) {
		writeProblem(w, r, http.StatusNotFound, "unknown account", "no state for this account")
		return
	}
	if err != nil {
		s.readFailed(w, r, "load account", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// readFailed answers a read that the store or ClickHouse could not serve:
// 503. The error may quote the query (account ids, filters): it is logged
// at Debug only; Warn names the read and the error's class.
func (s *Server) readFailed(w http.ResponseWriter, r *http.Request, what string, err error) {
	class := "unavailable"
	if c := analytics.Cause(err); c != nil {
		class = c.Error()
	} else if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		class = "timeout"
	}
	s.log.Warn("api read failed", "read", what, "class", class)
	s.log.Debug("api read failed", "read", what, "err", err)
	writeProblem(w, r, http.StatusServiceUnavailable, "Read failed", what+": the store did not answer; retry")
}
