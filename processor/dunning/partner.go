package dunning

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// The agency and legal lifecycle (policy finance: section, issue 15).
//
// Agency: an AGENCY_PLACEMENT action places the account with its agency
// (state: agency, currency, placed amount = the overdue amount in the
// dunning currency, since). While placed nothing is dunned (no stage, no
// contact, no fee: the agency collects) and the status says PLACED; a
// payment in the placement's currency is attributed to the agency up to
// what is left of the placed amount and, for an agency listed in
// finance.agencies, booked: a statistical GL entry
// AGENCY_RECOVERY (debit and credit gl.agency_recoveries: it moves no
// balance, it carries the gross amount) and, at the agency's
// commission_rate, AGENCY_COMMISSION (debit gl.agency_commission, credit
// gl.agency_payable); a reversal of such a payment takes both back
// (AGENCY_RECOVERY_REVERSED, AGENCY_COMMISSION_REVERSED). AgencyRecalled
// ends the placement (no more commission); AgencyReturned ends it with its outcome, and UNCOLLECTABLE
// goes on to finance.on_uncollectable (a LEGAL_REFERRAL or a WRITE_OFF);
// an episode ending with nothing owed ends it as RECOVERED.
// The ladder goes on (a later stage may still write off or refer to legal)
// but no stage notification is sent while placed or in legal (but those
// of the stage that placed or referred it): the agency or the lawyers are
// in touch with the customer.
//
// Legal: a LEGAL_REFERRAL action refers the account (the policy's legal
// fee is charged as a debit note and GL LEGAL_FEE); LegalCaseUpdated steps
// the case: OPENED (the court's reference), JUDGEMENT (amount awarded),
// SETTLED (amount agreed; with on_settlement: write_off what is overdue
// beyond it is written off: credit notes, newest items first, and GL
// WRITE_OFF referencing the case), CLOSED. From referral to CLOSED no
// notice is sent and the status says LEGAL.

// Finance is an account's finance state: its placement, legal case,
// interest accrual and booked provisions. Nil on most accounts. It is
// copied, never modified in place, so states stay values.
type Finance struct {
	// Placement is the current placement (Ended zero) or the last one.
	Placement *Placement
	// Legal is the current legal case (Closed zero) or the last one.
	Legal    *LegalCase
	Interest Interest
	// Provisions are the allowances booked per currency, and
	// ProvisionedFor the month end they were booked for.
	Provisions     []Provision
	ProvisionedFor event.Date
}

// Placement is a placement with a collections agency.
type Placement struct {
	Agency   string
	Currency event.Currency
	Placed   event.Amount
	Since    time.Time
	// Recovered is what payments during the placement brought in (at most
	// Placed); Commission the commission booked on it.
	Recovered  event.Amount
	Commission event.Amount
	// Payments are the payments attributed (the latest maxRecoveries),
	// so a reversal takes its recovery and commission back.
	Payments []AgencyPayment
	// Ended is when a recall or a return ended it (zero: placed);
	// Outcome is the return's (0 for a recall).
	Ended   time.Time
	Outcome event.AgencyOutcome
}

// AgencyPayment is a payment attributed to an agency.
type AgencyPayment struct {
	PaymentID  string
	Recovered  event.Amount
	Commission event.Amount
}

// Active reports a placement not ended.
func (p *Placement) Active() bool { return p != nil && p.Ended.IsZero() }

// LegalCase is a legal referral and the case that follows.
type LegalCase struct {
	Referred  time.Time
	CaseID    string
	Reference string
	// Status is the last step reported (0: referred, not opened yet).
	Status   event.LegalStatus
	Currency event.Currency
	Awarded  event.Amount
	Agreed   event.Amount
	Closed   time.Time
}

// Active reports a case referred and not closed.
func (c *LegalCase) Active() bool { return c != nil && c.Closed.IsZero() }

// Errors of the partner events.
var (
	// ErrNotPlaced is an AgencyRecalled or AgencyReturned for an account
	// that is not placed with that agency.
	ErrNotPlaced = errors.New("dunning: account not placed with the agency")
	// ErrNoLegalCase is a LegalCaseUpdated for an account without an open
	// referral, or for another case than the open one.
	ErrNoLegalCase = errors.New("dunning: no such legal case")
)

func (f *Finance) clone() *Finance {
	if f == nil {
		return &Finance{}
	}
	c := *f
	if f.Placement != nil {
		p := *f.Placement
		p.Payments = append([]AgencyPayment(nil), p.Payments...)
		c.Placement = &p
	}
	if f.Legal != nil {
		l := *f.Legal
		c.Legal = &l
	}
	c.Interest.Accruals = append([]Accrual(nil), f.Interest.Accruals...)
	c.Provisions = append([]Provision(nil), f.Provisions...)
	return &c
}

// IsPlaced reports an active agency placement.
func (s State) IsPlaced() bool { return s.Finance != nil && s.Finance.Placement.Active() }

// InLegal reports an active legal case.
func (s State) InLegal() bool { return s.Finance != nil && s.Finance.Legal.Active() }

// ApplyPartner records AgencyRecalled, AgencyReturned and LegalCaseUpdated
// (other kinds are returned unchanged); Evaluate decides what follows. On
// error st is returned unchanged.
func ApplyPartner(st State, ev event.Event, now time.Time) (State, error) {
	now = norm(now)
	f := st.Finance
	switch b := ev.Body.(type) {
	case *event.AgencyRecalled:
		if f == nil || !f.Placement.Active() || f.Placement.Agency != b.AgencyID {
			return st, fmt.Errorf("recall of event %s by agency %q: %w", ev.ID, b.AgencyID, ErrNotPlaced)
		}
		f = f.clone()
		f.Placement.Ended = now
	case *event.AgencyReturned:
		if f == nil || !f.Placement.Active() || f.Placement.Agency != b.AgencyID {
			return st, fmt.Errorf("return of event %s by agency %q: %w", ev.ID, b.AgencyID, ErrNotPlaced)
		}
		f = f.clone()
		f.Placement.Ended, f.Placement.Outcome = now, b.Outcome
	case *event.LegalCaseUpdated:
		if f == nil || !f.Legal.Active() || (f.Legal.CaseID != "" && f.Legal.CaseID != b.CaseID) || b.CaseID == "" {
			return st, fmt.Errorf("legal case %q of event %s: %w", b.CaseID, ev.ID, ErrNoLegalCase)
		}
		f = f.clone()
		c := f.Legal
		c.CaseID, c.Status = b.CaseID, b.Status
		if b.Reference != "" {
			c.Reference = b.Reference
		}
		if b.Currency != "" {
			c.Currency = b.Currency
		}
		switch b.Status {
		case event.LegalJudgement:
			c.Awarded = b.Amount
		case event.LegalSettled:
			c.Agreed = b.Amount
		case event.LegalClosed:
			c.Closed = now
		}
	default:
		return st, nil
	}
	n := st.clone()
	n.Finance = f
	return n, nil
}

// partners runs the finance lifecycle for this evaluation: postings due
// (interest, provisions), the agency's share of a payment, what a return
// or a case step leads to.
func (e *evaluator) partners() {
	e.postInterest()
	e.provision()
	if e.st.Finance == nil {
		return
	}
	switch t := e.in.Trigger; {
	case t.Kind == event.KindPaymentReceived && e.st.Finance.Placement.Active() && t.Currency == e.st.Finance.Placement.Currency:
		e.attribute(t)
	case t.Kind == event.KindPaymentReversed && e.st.Finance.Placement != nil:
		e.unattribute(t)
	case t.Kind == event.KindAgencyReturned || t.Kind == event.KindAgencyRecalled:
		e.returned()
	case t.Kind == event.KindLegalCaseUpdated:
		e.caseStep()
	}
}

// withPartner reports (and explains) an account with an agency or in
// legal: stage notifications are not sent then, except those of the
// evaluation that placed or referred it (the placement letter).
func (e *evaluator) withPartner(stage string) bool {
	f := e.st.Finance
	switch {
	case f == nil:
		return false
	case f.Placement.Active() && !f.Placement.Since.Equal(e.now):
		e.note("notice of stage %s not sent: placed with agency %s since %s (%s of %s %s recovered)", stage, f.Placement.Agency,
			f.Placement.Since.Format(time.DateOnly), f.Placement.Recovered, f.Placement.Placed, f.Placement.Currency)
		return true
	case f.Legal.Active() && !f.Legal.Referred.Equal(e.now):
		e.note("notice of stage %s not sent: in legal (case %q, status %s)", stage, f.Legal.CaseID, caseStatus(f.Legal))
		return true
	}
	return false
}

func caseStatus(c *LegalCase) string {
	if c.Status == 0 {
		return "REFERRED"
	}
	return c.Status.String()
}

func (e *evaluator) finance() *policy.Finance { return &e.pol.Finance }

// place handles an AGENCY_PLACEMENT action of a stage.
func (e *evaluator) place(s *policy.Stage, j int, conds []event.Condition, reason string) {
	pa := &s.Actions[j]
	if e.st.IsPlaced() {
		e.note("%s of stage %s skipped: already placed with %s", pa.Type, s.Name, e.st.Finance.Placement.Agency)
		return
	}
	a := e.action(s.Name, j, e.now, pa.Type, conds, reason)
	a.Queue, a.Amount = pa.Agency, a.OverdueAmount
	e.emit(a)
	f := e.st.Finance.clone()
	f.Placement = &Placement{Agency: pa.Agency, Currency: e.cur, Placed: a.OverdueAmount, Since: e.now}
	e.st.Finance = f
	e.st.Deferred = nil // the agency contacts the customer now
	e.note("placed with agency %s: %s %s", pa.Agency, a.OverdueAmount, e.cur)
}

// attribute books the agency's share of payment t.
func (e *evaluator) attribute(t Trigger) {
	f := e.st.Finance.clone()
	p := f.Placement
	amt := min(t.Amount, p.Placed-p.Recovered)
	if amt <= 0 {
		e.note("payment %s: placement with %s already recovered in full", t.PaymentID, p.Agency)
		return
	}
	ag := e.finance().Agency(p.Agency)
	if ag == nil {
		// Not in finance.agencies: tracked, no GL (no commission known).
		p.Recovered += amt
		e.st.Finance = f
		e.note("payment %s: %s %s recovered by agency %s (not in finance.agencies: no GL)", t.PaymentID, amt, p.Currency, p.Agency)
		return
	}
	rate := ag.CommissionRate
	comm := mulDivMinor(int64(amt), int64(rate), policy.RateScale, p.Currency)
	p.Recovered += amt
	p.Commission += comm
	if len(p.Payments) >= maxRecoveries {
		p.Payments = p.Payments[1:]
	}
	p.Payments = append(p.Payments, AgencyPayment{PaymentID: t.PaymentID, Recovered: amt, Commission: comm})
	e.st.Finance = f
	gl := &e.finance().GL
	id := entryID(e.in.Account, "agency", t.EventID, p.Agency)
	desc := fmt.Sprintf("recovered by agency %s, policy %s, payment %s", p.Agency, e.policyRef(), t.PaymentID)
	e.d.GL = append(e.d.GL, event.GLEntry{
		EntryID: "gl-rec-" + id, Account: e.in.Account, Time: e.now, Kind: "AGENCY_RECOVERY",
		Currency: p.Currency, Amount: amt, DebitAccount: gl.AgencyRecoveries, CreditAccount: gl.AgencyRecoveries,
		Reference: p.Agency, Description: desc,
	})
	if comm > 0 {
		e.d.GL = append(e.d.GL, event.GLEntry{
			EntryID: "gl-comm-" + id, Account: e.in.Account, Time: e.now, Kind: "AGENCY_COMMISSION",
			Currency: p.Currency, Amount: comm, DebitAccount: gl.AgencyCommission, CreditAccount: gl.AgencyPayable,
			Reference: p.Agency, Description: fmt.Sprintf("commission %s on %s, %s", rate, amt, desc),
		})
	}
	e.note("payment %s: %s %s recovered by agency %s, commission %s", t.PaymentID, amt, p.Currency, p.Agency, comm)
}

// unattribute takes back what reversed payment t brought the agency: GL
// AGENCY_RECOVERY_REVERSED (statistical) and AGENCY_COMMISSION_REVERSED
// (debit agency_payable, credit agency_commission).
func (e *evaluator) unattribute(t Trigger) {
	f := e.st.Finance.clone()
	p := f.Placement
	keep := p.Payments[:0]
	for _, x := range p.Payments {
		if x.PaymentID != t.PaymentID || t.PaymentID == "" {
			keep = append(keep, x)
			continue
		}
		p.Recovered -= x.Recovered
		p.Commission -= x.Commission
		gl := &e.finance().GL
		id := entryID(e.in.Account, "agency reversed", t.EventID, p.Agency, x.PaymentID)
		desc := fmt.Sprintf("payment %s reversed, recovered by agency %s, policy %s", x.PaymentID, p.Agency, e.policyRef())
		e.d.GL = append(e.d.GL, event.GLEntry{
			EntryID: "gl-rec-" + id, Account: e.in.Account, Time: e.now, Kind: "AGENCY_RECOVERY_REVERSED",
			Currency: p.Currency, Amount: x.Recovered, DebitAccount: gl.AgencyRecoveries, CreditAccount: gl.AgencyRecoveries,
			Reference: p.Agency, Description: desc,
		})
		if x.Commission > 0 {
			e.d.GL = append(e.d.GL, event.GLEntry{
				EntryID: "gl-comm-" + id, Account: e.in.Account, Time: e.now, Kind: "AGENCY_COMMISSION_REVERSED",
				Currency: p.Currency, Amount: x.Commission, DebitAccount: gl.AgencyPayable, CreditAccount: gl.AgencyCommission,
				Reference: p.Agency, Description: desc,
			})
		}
		e.note("payment %s reversed: %s %s no longer recovered by agency %s, commission %s taken back", x.PaymentID, x.Recovered, p.Currency, p.Agency, x.Commission)
	}
	p.Payments = keep
	e.st.Finance = f
}

// placementPaid ends an active placement when the episode ends with
// nothing owed: RECOVERED.
func (e *evaluator) placementPaid() {
	if !e.st.IsPlaced() {
		return
	}
	f := e.st.Finance.clone()
	f.Placement.Ended, f.Placement.Outcome = e.now, event.AgencyRecovered
	e.st.Finance = f
	e.note("placement with agency %s ended: paid in full (%s of %s %s recovered)", f.Placement.Agency,
		f.Placement.Recovered, f.Placement.Placed, f.Placement.Currency)
}

// returned handles the end of a placement.
func (e *evaluator) returned() {
	p := e.st.Finance.Placement
	if p == nil || !p.Ended.Equal(e.now) {
		return
	}
	if p.Outcome == 0 {
		e.note("recalled from agency %s (%s of %s %s recovered)", p.Agency, p.Recovered, p.Placed, p.Currency)
		return
	}
	e.note("returned by agency %s: %s (%s of %s %s recovered)", p.Agency, p.Outcome, p.Recovered, p.Placed, p.Currency)
	if p.Outcome != event.AgencyUncollectable || len(e.items) == 0 {
		return
	}
	stage := &policy.Stage{Name: "agency-return:" + p.Agency}
	reason := fmt.Sprintf("%s: agency %s returned the account %s", e.policyRef(), p.Agency, p.Outcome)
	switch e.finance().OnUncollectable {
	case event.ActionLegal:
		e.refer(stage, e.action(stage.Name, 0, e.now, event.ActionLegal, nil, reason))
	case event.ActionWriteOff:
		e.writeOff(stage, 0, nil, reason)
	}
}

// referral handles a LEGAL_REFERRAL action of a stage.
func (e *evaluator) referral(s *policy.Stage, j int, conds []event.Condition, reason string) {
	if e.st.InLegal() {
		e.note("%s of stage %s skipped: already in legal", event.ActionLegal, s.Name)
		return
	}
	e.refer(s, e.action(s.Name, j, e.now, event.ActionLegal, conds, reason))
}

// refer emits referral a, opens the case and charges the legal fee.
func (e *evaluator) refer(s *policy.Stage, a event.DunningAction) {
	a.Amount = a.OverdueAmount
	e.emit(a)
	f := e.st.Finance.clone()
	f.Legal = &LegalCase{Referred: e.now, Currency: e.cur}
	e.st.Finance = f
	e.st.Deferred = nil
	e.note("referred to legal: %s %s", a.OverdueAmount, e.cur)
	lr := &e.finance().Legal
	if lr.FeeAmount > 0 {
		desc := fmt.Sprintf("legal fee, policy %s stage %s", e.policyRef(), s.Name)
		e.charge(charge{id: a.ActionID, kind: "LEGAL_FEE", cur: lr.FeeCurrency, amt: lr.FeeAmount,
			credit: e.finance().GL.LegalFees, desc: desc})
	}
}

// caseStep handles what a legal case step leads to.
func (e *evaluator) caseStep() {
	c := e.st.Finance.Legal
	if c == nil {
		return
	}
	switch c.Status {
	case event.LegalOpened:
		e.note("legal case %s opened (reference %s)", c.CaseID, c.Reference)
	case event.LegalJudgement:
		e.note("legal case %s: judgement for %s %s", c.CaseID, c.Awarded, c.Currency)
	case event.LegalClosed:
		e.note("legal case %s closed", c.CaseID)
	case event.LegalSettled:
		e.note("legal case %s settled for %s %s", c.CaseID, c.Agreed, c.Currency)
		if e.finance().Legal.WriteOffOnSettlement {
			e.settle(c)
		}
	}
}

// settle writes off what is overdue in the case's currency beyond the
// amount agreed, newest items first.
func (e *evaluator) settle(c *LegalCase) {
	rest := e.overdue.get(c.Currency) - c.Agreed
	if rest <= 0 {
		return
	}
	total := rest
	for i := len(e.items) - 1; i >= 0 && rest > 0; i-- {
		it := e.items[i]
		if it.Currency != c.Currency {
			continue
		}
		amt := min(rest, it.Open)
		rest -= amt
		id := entryID(e.in.Account, "settlement", c.CaseID, it.InvoiceID)
		e.d.CreditNotes = append(e.d.CreditNotes, event.InvoiceAdjusted{AdjustmentID: "settle-" + id, InvoiceID: it.InvoiceID,
			Type: event.Credit, Currency: c.Currency, Amount: amt, Reason: "legal settlement " + c.CaseID})
		e.st.addWrittenOff(it.InvoiceID, c.Currency, amt)
	}
	e.d.GL = append(e.d.GL, event.GLEntry{
		EntryID: "gl-" + entryID(e.in.Account, "settlement", c.CaseID), Account: e.in.Account, Time: e.now, Kind: "WRITE_OFF",
		Currency: c.Currency, Amount: total, DebitAccount: e.pol.GL.BadDebt, CreditAccount: e.pol.GL.Receivables,
		Reference:   c.CaseID,
		Description: fmt.Sprintf("write-off beyond the legal settlement %s of %s, policy %s", c.CaseID, c.Agreed, e.policyRef()),
	})
	e.note("%s %s beyond the settlement written off", total, c.Currency)
}

// charge is a debit note on the oldest overdue invoice of its currency
// with its GL entry (debit receivables): a fee, a legal fee, interest.
type charge struct {
	id, kind string
	cur      event.Currency
	amt      event.Amount
	credit   string
	desc     string
	// inv is the invoice to charge ("": the oldest overdue in cur).
	inv string
}

// charge books c; it reports false (and explains) when no invoice takes it.
func (e *evaluator) charge(c charge) bool {
	inv := c.inv
	if inv == "" {
		inv = e.oldestIn(c.cur)
	}
	if inv == "" {
		e.note("%s %s %s skipped: nothing overdue in %s", c.kind, c.amt, c.cur, c.cur)
		return false
	}
	desc := c.desc + ", invoice " + inv
	note, entry := noteIDs("fee-", c.id)
	e.d.GL = append(e.d.GL, event.GLEntry{
		EntryID: entry, Account: e.in.Account, Time: e.now, Kind: c.kind,
		Currency: c.cur, Amount: c.amt, DebitAccount: e.pol.GL.Receivables, CreditAccount: c.credit,
		Reference: c.id, Description: desc, InvoiceID: inv,
	})
	e.d.DebitNotes = append(e.d.DebitNotes, event.InvoiceAdjusted{
		AdjustmentID: note, InvoiceID: inv, Type: event.Debit, Currency: c.cur, Amount: c.amt, Reason: desc,
	})
	return true
}

// noteIDs are the ids of a debit note and of the GL entry booked with it,
// made from one id: "<prefix>id" and "gl-id" (NoteEntry and NoteOf
// reverse it).
func noteIDs(prefix, id string) (note, entry string) { return prefix + id, "gl-" + id }

// notePrefixes are the GL entry kinds booked with a debit note (charge:
// fees, legal fees, interest; recover: what a payment recovers after a
// write-off) and the prefix of the note's adjustment id.
var notePrefixes = map[string]string{"FEE": "fee-", "LEGAL_FEE": "fee-", "INTEREST": "fee-", "BAD_DEBT_RECOVERY": "rec-"}

// NoteEntry is the id of the GL entry booked with the debit note whose
// adjustment id is note (Decision.DebitNotes). The processor drops that
// entry when the ledger refuses the note, so the GL never books what the
// ledger lacks.
func NoteEntry(note string) string {
	_, id, _ := strings.Cut(note, "-")
	return "gl-" + id
}

// NoteOf is the adjustment id of the debit note booked with the GL entry
// of the given kind and id; ok is false for a kind booked without one.
func NoteOf(kind, entryID string) (note string, ok bool) {
	prefix, booked := notePrefixes[kind]
	id, isEntry := strings.CutPrefix(entryID, "gl-")
	if !booked || !isEntry || id == "" {
		return "", false
	}
	return prefix + id, true
}
