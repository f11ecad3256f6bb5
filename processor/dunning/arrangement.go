package dunning

import (
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// maxPayments bounds the payments remembered per arrangement; older ones
// are merged (their reversal can then no longer be matched).
const maxPayments = 64

// countPayment counts a payment (or takes back a reversed one) toward the
// active arrangement. A reversal takes back what the payment counted,
// found by PaymentID; Trigger.Amount is not needed for it.
func (e *evaluator) countPayment() {
	a, t := e.st.Arrangement, e.in.Trigger
	if a == nil || (t.Currency != "" && t.Currency != a.Currency) {
		return
	}
	switch t.Kind {
	case event.KindPaymentReceived:
		if t.Amount <= 0 {
			return
		}
		for _, p := range a.Payments {
			if p.ID == t.PaymentID && p.ID != "" {
				return // counted already
			}
		}
		if len(a.Payments) >= maxPayments {
			a.Payments[0].Amount += a.Payments[1].Amount
			a.Payments = append(a.Payments[:1], a.Payments[2:]...)
			a.Payments[0].ID = ""
		}
		a.Payments = append(a.Payments, Payment{ID: t.PaymentID, Amount: t.Amount})
		a.Paid += t.Amount
		e.note("payment %s of %s %s counted toward arrangement %s (%s of %s paid)",
			t.PaymentID, t.Amount, a.Currency, a.ID, a.Paid, a.total(len(a.Installments)))
	case event.KindPaymentReversed:
		for i, p := range a.Payments {
			if p.ID != t.PaymentID || p.ID == "" {
				continue
			}
			a.Payments = append(a.Payments[:i], a.Payments[i+1:]...)
			a.Paid -= p.Amount
			for a.Met > 0 && a.Paid < a.total(a.Met) {
				a.Met--
			}
			e.note("payment %s reversed: arrangement %s back to %s paid", p.ID, a.ID, a.Paid)
			return
		}
	}
}

// breakAt is when an installment is missed: the start of the local day
// after its due date plus the policy's grace days.
func (e *evaluator) breakAt(in event.Installment) time.Time {
	return e.localMidnight(in.DueDate + 1 + event.Date(e.pol.Arrangements.GraceDays))
}

// arrangement settles the active arrangement: installments kept, the whole
// arrangement kept or broken. It returns false while the arrangement
// pauses escalation.
func (e *evaluator) arrangement() bool {
	a := e.st.Arrangement
	if a == nil {
		return true
	}
	n := len(a.Installments)
	met := a.Met
	for met < n && a.Paid >= a.total(met+1) {
		met++
	}
	if met == n {
		e.arrangementKept(a, n)
		return true
	}
	for i := a.Met; i < met; i++ {
		e.d.Outcomes = append(e.d.Outcomes, ArrangementOutcome{ArrangementID: a.ID, Type: a.Type, Kept: true, Installment: i + 1, Time: e.now})
		e.note("arrangement %s: installment %d of %d kept", a.ID, i+1, n)
	}
	a.Met = met
	next := a.Installments[met]
	if brk := e.breakAt(next); !e.now.Before(brk) {
		e.arrangementBroken(a, met)
		return true
	}
	if e.st.Service != ServiceActive &&
		((a.Type == event.InstallmentPlan && e.pol.Arrangements.RestoreOnPlan) ||
			(a.Type == event.Promise && e.pol.Arrangements.RestoreOnPromise)) {
		act := e.action("arrangement:"+a.ID, 0, a.Created, event.ActionRestore, nil,
			fmt.Sprintf("%s: %s %s created, service %s restored while it runs", e.policyRef(), a.Type, a.ID, e.st.Service))
		e.emit(act)
		e.st.Service = ServiceActive
	}
	brk := e.breakAt(next)
	e.wakeAt(brk)
	e.markPaused()
	e.note("paused: %s %s, installment %d of %d (%s %s due %s) paid %s of %s, missed at %s",
		a.Type, a.ID, met+1, n, next.Amount, a.Currency, next.DueDate, a.Paid-a.total(met), next.Amount,
		brk.In(e.loc).Format(time.RFC3339))
	return false
}

func (e *evaluator) arrangementKept(a *Arrangement, n int) {
	for i := a.Met; i < n; i++ {
		e.d.Outcomes = append(e.d.Outcomes, ArrangementOutcome{ArrangementID: a.ID, Type: a.Type, Kept: true,
			Installment: i + 1, Complete: i == n-1, Time: e.now})
	}
	act := e.action("arrangement:"+a.ID, n, e.now, event.ActionArrangementMet, nil,
		fmt.Sprintf("%s: %s %s kept (%s %s paid toward it)", e.policyRef(), a.Type, a.ID, a.Paid, a.Currency))
	act.Currency, act.Amount = a.Currency, a.Paid
	e.emit(act)
	e.note("%s %s kept", a.Type, a.ID)
	e.st.Arrangement = nil
}

func (e *evaluator) arrangementBroken(a *Arrangement, missed int) {
	in := a.Installments[missed]
	e.d.Outcomes = append(e.d.Outcomes, ArrangementOutcome{ArrangementID: a.ID, Type: a.Type, Installment: missed + 1, Time: e.now})
	conds := []event.Condition{
		{Name: "installment_due", Value: in.DueDate.String(), Rule: fmt.Sprintf("+ %d grace days passed", e.pol.Arrangements.GraceDays)},
		{Name: "paid_toward_installment", Value: (a.Paid - a.total(missed)).String(), Rule: "< " + in.Amount.String()},
	}
	act := e.action("arrangement:"+a.ID, missed+1, e.breakAt(in), event.ActionArrangementBroken, conds,
		fmt.Sprintf("%s: %s %s broken: installment %d of %d (%s %s due %s) not paid",
			e.policyRef(), a.Type, a.ID, missed+1, len(a.Installments), in.Amount, a.Currency, in.DueDate))
	act.Amount = in.Amount
	e.emit(act)
	e.st.Arrangement = nil
	if r := e.pol.Arrangements.ResumeStage; r != "" {
		e.st.Resume = r
		e.note("%s %s broken: resuming at stage %s", a.Type, a.ID, r)
	} else {
		e.note("%s %s broken: escalation resumes", a.Type, a.ID)
	}
}
