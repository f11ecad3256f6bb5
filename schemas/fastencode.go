package schemas

import (
	"fmt"

	"github.com/arrears/arrears/processor/event"
)

// Hand-written Avro binary encoders of the owned schemas, byte-identical to
// goavro's output (tests compare them). The *Native functions feed goavro
// for Avro JSON. Keep in step with the .avsc files: field order matters.

func writeEvent(w *avroWriter, ev *event.Event) {
	w.str(ev.ID)
	w.timestamp(ev.Time)
	w.str(ev.Source)
	w.str(ev.Account)
	w.long(int64(ev.Body.Kind()) - 1)
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		w.str(b.InvoiceID)
		w.str(string(b.Currency))
		w.decimal(b.Amount)
		w.date(b.IssueDate)
		w.date(b.DueDate)
		w.optStr(b.BillCycle)
	case *event.InvoiceAdjusted:
		w.str(b.AdjustmentID)
		w.str(b.InvoiceID)
		w.enumIndex("adjustment type", uint8(b.Type), len(adjustmentSymbols))
		w.str(string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.Reason)
	case *event.InvoiceCancelled:
		w.str(b.InvoiceID)
		w.optStr(b.Reason)
	case *event.PaymentReceived:
		w.str(b.PaymentID)
		w.str(string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.Method)
		w.strs(b.InvoiceIDs)
	case *event.PaymentReversed:
		w.str(b.PaymentID)
		w.optStr(b.Reason)
	case *event.Refund:
		w.str(b.RefundID)
		w.str(string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.PaymentID)
	case *event.AccountUpserted:
		w.enum("segment", string(b.Segment), segmentSymbols)
		w.optStr(b.ParentID)
		w.optStr(b.CreditClass)
		w.str(string(b.Currency))
		w.optStr(b.Timezone)
		w.decimal(b.CreditLimit)
		w.array(len(b.Consents), func(i int) { w.enum("consents", string(b.Consents[i]), channelSymbols) })
		w.strs(b.Exemptions)
	case *event.AccountClosed:
		w.optStr(b.Reason)
	case *event.DisputeOpened:
		w.str(b.DisputeID)
		w.str(b.InvoiceID)
		w.str(string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.Reason)
	case *event.DisputeResolved:
		w.str(b.DisputeID)
		w.enumIndex("dispute outcome", uint8(b.Outcome), len(outcomeSymbols))
		w.optStr("") // currency: not in event.DisputeResolved
		w.decimal(b.CreditAmount)
	case *event.ArrangementCreated:
		w.str(b.ArrangementID)
		w.enumIndex("arrangement type", uint8(b.Type), len(arrangementSymbols))
		w.str(string(b.Currency))
		w.array(len(b.Installments), func(i int) {
			w.date(b.Installments[i].DueDate)
			w.decimal(b.Installments[i].Amount)
		})
	case *event.ArrangementCancelled:
		w.str(b.ArrangementID)
		w.optStr(b.Reason)
	case *event.Hold:
		w.str(b.HoldID)
		w.timestamp(b.Until)
		w.optStr(b.Reason)
	case *event.Release:
		w.str(b.HoldID)
	case *event.ClockTick:
		w.int(b.Partition)
	case *event.AccountReopened:
		w.optStr(b.Reason)
	default:
		writeOperator(w, ev.Body)
	}
}

// writeOperator encodes the bodies of the operator, partner and erasure
// events (processor/event/operator.go).
func writeOperator(w *avroWriter, body event.Body) {
	switch b := body.(type) {
	case *event.ExemptionSet:
		w.str(b.Exemption)
		w.optTimestamp(b.Until)
		w.optStr(b.Reason)
	case *event.ExemptionCleared:
		w.str(b.Exemption)
		w.optStr(b.Reason)
	case *event.ContactPreferencesChanged:
		w.array(len(b.Consents), func(i int) { w.enum("consents", string(b.Consents[i]), channelSymbols) })
		w.optEnum("preferred", string(b.Preferred), channelSymbols)
	case *event.CeaseContact:
		w.bool(b.Active)
		w.optStr(b.Reason)
	case *event.CallLogged:
		w.str(b.CallID)
		w.enumIndex("call outcome", uint8(b.Outcome), len(callOutcomeSymbols))
		w.optStr(b.Note)
	case *event.CallbackScheduled:
		w.str(b.CallbackID)
		w.timestamp(b.At)
		w.optStr(b.Queue)
		w.optStr(b.Note)
	case *event.NoteAdded:
		w.str(b.NoteID, b.Text)
	case *event.WriteOffRequested:
		w.str(b.WriteOffID, string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.Reason)
	case *event.AgencyRecalled:
		w.optStr(b.AgencyID)
		w.optStr(b.Reason)
	case *event.AgencyReturned:
		w.str(b.AgencyID)
		w.enumIndex("agency outcome", uint8(b.Outcome), len(agencyOutcomeSymbols))
		w.optStr(b.Reason)
	case *event.LegalCaseUpdated:
		w.str(b.CaseID)
		w.enumIndex("legal status", uint8(b.Status), len(legalStatusSymbols))
		w.optStr(b.Reference)
		w.optStr(string(b.Currency))
		w.decimal(b.Amount)
		w.optStr(b.Reason)
	case *event.AccountErased:
		w.optStr(b.Reason)
	default:
		if !writeGroup(w, body) && w.err == nil { // group.go
			w.err = fmt.Errorf("%w: unsupported body %T", ErrEncode, body)
		}
	}
}

func writeAction(w *avroWriter, a *event.DunningAction) {
	w.str(a.ActionID)
	w.str(a.Account)
	w.timestamp(a.Time)
	w.str(a.PolicyName)
	w.str(a.PolicyVersion)
	w.str(a.Stage)
	w.enum("action_type", string(a.Type), actionSymbols)
	if a.Channel == "" {
		w.long(0)
	} else {
		w.long(1)
		w.enum("channel", string(a.Channel), channelSymbols)
	}
	w.optStr(a.Template)
	w.optStr(a.Queue)
	w.int(a.Priority)
	w.str(string(a.Currency))
	w.decimal(a.OverdueAmount)
	w.decimal(a.Amount)
	w.date(a.OldestDueDate)
	w.int(a.DaysPastDue)
	w.strs(a.Invoices)
	w.optStr(a.Reason)
	w.array(len(a.Conditions), func(i int) {
		w.str(a.Conditions[i].Name)
		w.str(a.Conditions[i].Value)
		w.str(a.Conditions[i].Rule)
	})
	w.optStr(a.ExperimentID)
	w.optStr(a.Arm)
}

func writeRisk(w *avroWriter, r *event.RiskEvent) {
	w.str(r.EventID)
	w.str(r.Account)
	w.timestamp(r.Time)
	w.int(r.Score)
	w.double(r.PD)
	w.str(r.Tier)
	w.optStr(r.PreviousTier)
	w.array(len(r.Reasons), func(i int) {
		w.str(r.Reasons[i].Code)
		w.double(r.Reasons[i].Contribution)
	})
	w.str(r.ModelVersion)
}

// writeStatus writes s and returns the offset of s.State's bytes in w.b.
func writeStatus(w *avroWriter, s *event.AccountStatus) (stateAt int) {
	w.str(s.Account)
	w.timestamp(s.Time)
	if s.Segment == "" {
		w.long(0)
	} else {
		w.long(1)
		w.enum("segment", string(s.Segment), segmentSymbols)
	}
	w.bool(s.Closed)
	w.array(len(s.Balances), func(i int) {
		b := &s.Balances[i]
		w.str(string(b.Currency))
		w.decimal(b.Open)
		w.decimal(b.Overdue)
		w.decimal(b.Disputed)
		w.decimal(b.Unapplied)
		for _, a := range b.Aging {
			w.decimal(a)
		}
	})
	w.int(s.OpenItems)
	w.date(s.OldestDueDate)
	w.int(s.DaysPastDue)
	w.optStr(s.Stage)
	w.optStr(s.ServiceState)
	w.optStr(s.RiskTier)
	w.double(s.PD)
	w.optStr(s.Arrangement)
	w.bool(s.OnHold)
	w.int(s.SourcePartition)
	w.long(s.SourceOffset)
	w.bytes(s.State)
	stateAt = len(w.b) - len(s.State)
	w.int(s.UnknownInvoiceRefs)
	w.str(s.CollectionsStatus)
	w.str(s.PolicyVersion)
	w.optStr(s.ExperimentID)
	w.optStr(s.Arm)
	w.bool(s.Blacklisted)
	return stateAt
}

func writeGL(w *avroWriter, g *event.GLEntry) {
	w.str(g.EntryID, g.Account)
	w.timestamp(g.Time)
	w.str(g.Kind, string(g.Currency))
	w.decimal(g.Amount)
	w.str(g.DebitAccount, g.CreditAccount)
	w.optStr(g.Reference)
	w.optStr(g.Description)
	w.optStr(g.InvoiceID)
}

func writeDeadLetter(w *avroWriter, d *event.DeadLetter) {
	w.str(d.Reason, d.ErrorClass, d.Topic)
	w.int(d.Partition)
	w.long(d.Offset)
	w.optBytes(d.Key)
	w.bytes(d.Value)
	w.timestamp(d.Time)
	w.optStr(d.Code)
	if d.ValueSize == 0 && d.ValueSHA256 == nil {
		w.long(0)
	} else {
		w.long(1)
		w.long(d.ValueSize)
	}
	w.optBytes(d.ValueSHA256)
	w.bool(d.Truncated)
}
