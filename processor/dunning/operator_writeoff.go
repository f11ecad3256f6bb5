package dunning

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/arrears/arrears/processor/event"
)

// manualWriteOff carries out the WriteOffRequested ApplyOperator took, as
// a WRITE_OFF action and its GL entry, like a policy's write-off stage:
// the open amount (net of disputes) in the request's currency, oldest due
// first, up to the requested amount (zero: all of it, not only what is
// overdue). The invoices it covers in full are the action's Invoices (the
// processor closes them with credit notes, as for any WRITE_OFF); the one
// it covers in part gets a credit note for that part here. From then on
// the account is written off until payments recover it (writtenoff.go).
func (e *evaluator) manualWriteOff(o *Operator) bool {
	w := o.writeOff
	if w == nil {
		return false
	}
	o.writeOff = nil
	var items []Item
	var open event.Amount
	for _, it := range e.in.Items {
		if it.Currency == w.Currency && it.Open > 0 {
			items = append(items, it)
			open += it.Open
		}
	}
	slices.SortFunc(items, func(x, y Item) int {
		return cmp.Or(cmp.Compare(x.DueDate, y.DueDate), cmp.Compare(x.InvoiceID, y.InvoiceID))
	})
	amt := w.Amount
	if amt == 0 || amt > open {
		amt = open
	}
	if amt == 0 {
		e.note("write-off %s: nothing open in %s", w.ID, w.Currency)
		return false
	}
	requested := "whole open balance"
	if w.Amount > 0 {
		requested = w.Amount.String() + " " + string(w.Currency)
	}
	reason := fmt.Sprintf("manual write-off %s of %s %s requested by %s", w.ID, amt, w.Currency, w.Source)
	if w.Reason != "" {
		reason += ": " + w.Reason
	}
	conds := []event.Condition{{Name: "write_off_amount", Value: requested, Rule: "<= open " + open.String() + " " + string(w.Currency)}}
	a := e.action("writeoff:"+w.ID, 0, e.now, event.ActionWriteOff, conds, reason)
	a.Currency, a.Amount, a.OverdueAmount, a.Invoices = w.Currency, amt, e.overdue.get(w.Currency), nil
	left := amt
	for _, it := range items {
		if left == 0 {
			break
		}
		part := min(left, it.Open)
		left -= part
		if part == it.Open {
			a.Invoices = append(a.Invoices, it.InvoiceID)
			continue
		}
		e.d.CreditNotes = append(e.d.CreditNotes, event.InvoiceAdjusted{AdjustmentID: "wo-" + a.ActionID + "-" + it.InvoiceID,
			InvoiceID: it.InvoiceID, Type: event.Credit, Currency: w.Currency, Amount: part, Reason: "write-off " + a.ActionID})
		e.st.addWrittenOff(it.InvoiceID, w.Currency, part)
		a.Conditions = append(a.Conditions, event.Condition{Name: "partial_invoice", Value: it.InvoiceID + " " + part.String(),
			Rule: "credited in part"})
	}
	e.emit(a)
	e.d.GL = append(e.d.GL, event.GLEntry{EntryID: "gl-" + a.ActionID, Account: e.in.Account, Time: e.now, Kind: "WRITE_OFF",
		Currency: w.Currency, Amount: amt, DebitAccount: e.pol.GL.BadDebt, CreditAccount: e.pol.GL.Receivables,
		Reference: a.ActionID, Description: fmt.Sprintf("manual write-off %s requested by %s", w.ID, w.Source)})
	e.note("manual write-off %s: %s %s written off", w.ID, amt, w.Currency)
	return true
}
