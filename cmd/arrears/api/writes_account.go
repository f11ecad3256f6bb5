package api

import (
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
)

// The write routes on money: arrangements, holds, disputes, write-offs.
// Each request type validates its fields (400), checks the account's
// state (409) and returns the one event it becomes.

// writeRoutes is the table of write routes (docs/api.md "Roles").
func (s *Server) writeRoutes() []route {
	specs := []writeSpec{
		{"POST /accounts/{id}/promises", RoleCollector, "arr", func() writeReq { return &promiseReq{} }},
		{"POST /accounts/{id}/plans", RoleCollector, "arr", func() writeReq { return &planReq{} }},
		{"POST /accounts/{id}/arrangements/{arrangement_id}/cancel", RoleSupervisor, "", func() writeReq { return &cancelReq{} }},
		{"POST /accounts/{id}/holds", RoleSupervisor, "hold", func() writeReq { return &holdReq{} }},
		{"POST /accounts/{id}/holds/{hold_id}/release", RoleSupervisor, "", func() writeReq { return &releaseReq{} }},
		{"POST /accounts/{id}/disputes", RoleCollector, "dsp", func() writeReq { return &disputeReq{} }},
		{"POST /accounts/{id}/disputes/{dispute_id}/resolve", RoleSupervisor, "", func() writeReq { return &resolveReq{} }},
		{"POST /accounts/{id}/write-offs", RoleSupervisor, "wo", func() writeReq { return &writeOffReq{} }},
		{"POST /accounts/{id}/exemptions", RoleSupervisor, "", func() writeReq { return &exemptionReq{} }},
		{"DELETE /accounts/{id}/exemptions/{exemption}", RoleSupervisor, "", func() writeReq { return &clearExemptionReq{} }},
		{"PUT /accounts/{id}/contact-preferences", RoleSupervisor, "", func() writeReq { return &contactReq{} }},
		{"POST /accounts/{id}/cease-contact", RoleSupervisor, "", func() writeReq { return &ceaseReq{} }},
		{"POST /accounts/{id}/calls", RoleCollector, "call", func() writeReq { return &callReq{} }},
		{"POST /accounts/{id}/callbacks", RoleCollector, "cb", func() writeReq { return &callbackReq{} }},
		{"POST /accounts/{id}/notes", RoleCollector, "note", func() writeReq { return &noteReq{} }},
		{"POST /accounts/{id}/agency-recalls", RoleSupervisor, "", func() writeReq { return &recallReq{} }},
	}
	rs := make([]route, 0, len(specs)+2)
	for _, sp := range specs {
		rs = append(rs, s.writeRoute(sp))
	}
	return append(rs, s.approvalRoutes()...)
}

// limits are the core's arrangement and hold bounds (defaults filled).
func (c *writeCall) limits() dunning.Limits {
	var l dunning.Limits
	if env := c.s.currentEnv(); env != nil {
		l = env.Limits
	}
	if l.MaxHoldDays <= 0 {
		l.MaxHoldDays = dunning.DefaultMaxHoldDays
	}
	if l.MaxArrangementDays <= 0 {
		l.MaxArrangementDays = dunning.DefaultMaxArrangementDays
	}
	if l.MaxInstallments <= 0 {
		l.MaxInstallments = dunning.DefaultMaxInstallments
	}
	return l
}

func (c *writeCall) today() event.Date { return event.DateOf(c.now) }

// installment checks one due date and amount of an arrangement.
func (c *writeCall) installment(f *fieldErrs, at, date, amount string, cur event.Currency) event.Installment {
	t := c.today()
	return event.Installment{
		DueDate: f.date(at+"date", date, t, t+event.Date(c.limits().MaxArrangementDays)),
		Amount:  f.amount(at+"amount", amount, cur, false),
	}
}

// arrangementAllowed: an open account with something overdue in cur and no
// arrangement running.
func (c *writeCall) arrangementAllowed(cur event.Currency) error {
	st := &c.loaded.State
	switch {
	case st.Ledger.Closed():
		return conflictErr{"the account is closed"}
	case st.Dunning.Arrangement != nil:
		return conflictErr{"an arrangement is already running (cancel it first)"}
	}
	for _, it := range st.Ledger.OverdueItems(c.now) {
		if it.Currency == cur {
			return nil
		}
	}
	return conflictErr{"nothing is overdue in " + string(cur)}
}

type promiseReq struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
	Date     string `json:"date"`
}

func (q *promiseReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	cur := f.currency("currency", q.Currency)
	in := c.installment(f, "", q.Date, q.Amount, cur)
	if len(*f) > 0 {
		return nil, nil
	}
	if err := c.arrangementAllowed(cur); err != nil {
		return nil, err
	}
	return &event.ArrangementCreated{ArrangementID: c.entityID, Type: event.Promise, Currency: cur, Installments: []event.Installment{in}}, nil
}

type planReq struct {
	Currency     string `json:"currency"`
	Installments []struct {
		Date   string `json:"date"`
		Amount string `json:"amount"`
	} `json:"installments"`
}

// build: a collector's valid plan is errNeedsApproval with its event, a
// supervisor's is the event.
func (q *planReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	cur := f.currency("currency", q.Currency)
	max := c.limits().MaxInstallments
	if n := len(q.Installments); n < 2 || n > max {
		f.add("installments", "2 to %d installments (one payment is a promise)", max)
	}
	ins := make([]event.Installment, 0, len(q.Installments))
	for i, x := range q.Installments {
		in := c.installment(f, "installments["+itoa(i)+"].", x.Date, x.Amount, cur)
		if i > 0 && in.DueDate <= ins[i-1].DueDate && in.DueDate != 0 {
			f.add("installments["+itoa(i)+"].date", "must be after the previous installment's")
		}
		ins = append(ins, in)
	}
	if len(*f) > 0 {
		return nil, nil
	}
	if err := c.arrangementAllowed(cur); err != nil {
		return nil, err
	}
	b := &event.ArrangementCreated{ArrangementID: c.entityID, Type: event.InstallmentPlan, Currency: cur, Installments: ins}
	if !c.p.AtLeast(RoleSupervisor) {
		return b, errNeedsApproval
	}
	return b, nil
}

type cancelReq struct {
	Reason string `json:"reason"`
}

func (q *cancelReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	id := f.id("arrangement_id", c.r.PathValue("arrangement_id"), true)
	f.text("reason", q.Reason, true, maxReasonBytes)
	if len(*f) > 0 {
		return nil, nil
	}
	if a := c.loaded.State.Dunning.Arrangement; a == nil || a.ID != id {
		return nil, conflictErr{"no running arrangement with this id"}
	}
	return &event.ArrangementCancelled{ArrangementID: id, Reason: q.Reason}, nil
}

type holdReq struct {
	Until  string `json:"until"`
	Reason string `json:"reason"`
}

func (q *holdReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	until := f.instant("until", q.Until, c.now, c.now.Add(time.Duration(c.limits().MaxHoldDays)*24*time.Hour))
	f.text("reason", q.Reason, true, maxReasonBytes)
	if len(*f) > 0 {
		return nil, nil
	}
	if c.loaded.State.Ledger.Closed() {
		return nil, conflictErr{"the account is closed"}
	}
	return &event.Hold{HoldID: c.entityID, Until: until, Reason: q.Reason}, nil
}

type releaseReq struct{}

func (q *releaseReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	id := f.id("hold_id", c.r.PathValue("hold_id"), true)
	if len(*f) > 0 {
		return nil, nil
	}
	for _, h := range c.loaded.State.Dunning.Holds {
		if h.ID == id {
			return &event.Release{HoldID: id}, nil
		}
	}
	return nil, conflictErr{"no active hold with this id"}
}

type disputeReq struct {
	InvoiceID string `json:"invoice_id"`
	Currency  string `json:"currency"`
	Amount    string `json:"amount"`
	Reason    string `json:"reason"`
}

func (q *disputeReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	f.id("invoice_id", q.InvoiceID, true)
	cur := f.currency("currency", q.Currency)
	amt := f.amount("amount", q.Amount, cur, false)
	f.text("reason", q.Reason, true, maxReasonBytes)
	if len(*f) > 0 {
		return nil, nil
	}
	it, ok := c.loaded.State.Ledger.Item(q.InvoiceID)
	switch {
	case !ok || it.Cancelled:
		return nil, conflictErr{"the account has no such invoice"}
	case it.Currency != cur:
		return nil, conflictErr{"the invoice is in " + string(it.Currency)}
	case it.Open-min(it.Disputed, it.Open) < amt:
		return nil, conflictErr{"the amount is more than the invoice's undisputed open amount"}
	}
	return &event.DisputeOpened{DisputeID: c.entityID, InvoiceID: q.InvoiceID, Currency: cur, Amount: amt, Reason: q.Reason}, nil
}

type resolveReq struct {
	Outcome      string `json:"outcome"`
	CreditAmount string `json:"credit_amount"`
}

var disputeOutcomes = []string{"UPHELD", "REJECTED", "WITHDRAWN"}

func (q *resolveReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	id := f.id("dispute_id", c.r.PathValue("dispute_id"), true)
	o := f.enum("outcome", q.Outcome, disputeOutcomes)
	if len(*f) > 0 {
		return nil, nil
	}
	for _, it := range c.loaded.State.Ledger.Items() {
		for _, d := range it.Disputes {
			if d.ID != id || d.Resolved {
				continue
			}
			var credit event.Amount
			if q.CreditAmount != "" {
				credit = f.amount("credit_amount", q.CreditAmount, it.Currency, true)
				if credit > 0 && o != 0 {
					f.add("credit_amount", "only an UPHELD dispute credits")
				} else if credit > d.Amount {
					f.add("credit_amount", "at most the disputed amount")
				}
			}
			return &event.DisputeResolved{DisputeID: id, Outcome: event.DisputeOutcome(o + 1), CreditAmount: credit}, nil
		}
	}
	return nil, conflictErr{"no open dispute with this id"}
}

type writeOffReq struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
	Reason   string `json:"reason"`
}

// build: amount "0" writes off the whole open balance in the currency;
// a supervisor is held to api.supervisor_write_off_limit (403 over it).
func (q *writeOffReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	cur := f.currency("currency", q.Currency)
	amt := f.amount("amount", q.Amount, cur, true)
	f.text("reason", q.Reason, true, maxReasonBytes)
	if len(*f) > 0 {
		return nil, nil
	}
	var open event.Amount
	for _, it := range c.loaded.State.Ledger.Items() {
		if it.Currency == cur && !it.Cancelled && it.Open > 0 {
			open += it.Open
		}
	}
	switch {
	case open <= 0:
		return nil, conflictErr{"nothing is open in " + string(cur)}
	case amt > open:
		return nil, conflictErr{"the amount is more than the open balance"}
	}
	eff := amt
	if eff == 0 {
		eff = open
	}
	if !c.p.AtLeast(RoleAdmin) && eff > c.s.cfg.writeOffLimit() {
		return nil, forbiddenErr{"over api.supervisor_write_off_limit (" + c.s.cfg.writeOffLimit().String() + "): an admin must post it"}
	}
	return &event.WriteOffRequested{WriteOffID: c.entityID, Currency: cur, Amount: amt, Reason: q.Reason}, nil
}
