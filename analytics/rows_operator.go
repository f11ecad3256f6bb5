package analytics

import (
	"strings"

	"github.com/arrears/arrears/processor/event"
)

// operatorRow fills the events row of the operator, partner and erasure
// events (processor/event/operator.go). They have no fact table: the
// account timeline reads them from events, where ref_id is the
// exemption, call, call-back, note, write-off, agency or case id, detail
// the outcome or status and the note or reason ("WRONG_NUMBER: moved"; a
// call-back's "queue: note"),
// due_date the day an exemption ends or a call-back is due, and
// currency/amount a write-off's or a judgement's.
func operatorRow(r *eventRow, body event.Body) {
	switch b := body.(type) {
	case *event.ExemptionSet:
		r.ref, r.detail = b.Exemption, b.Reason
		if !b.Until.IsZero() {
			r.due = event.DateOf(b.Until.UTC())
		}
	case *event.ExemptionCleared:
		r.ref, r.detail = b.Exemption, b.Reason
	case *event.ContactPreferencesChanged:
		consents := make([]string, len(b.Consents))
		for i, c := range b.Consents {
			consents[i] = string(c)
		}
		r.detail = "consents: " + strings.Join(consents, ",")
		if b.Preferred != "" {
			r.detail += "; preferred: " + string(b.Preferred)
		}
	case *event.CeaseContact:
		r.detail = labelled("LIFTED", b.Reason)
		if b.Active {
			r.detail = labelled("ACTIVE", b.Reason)
		}
	case *event.CallLogged:
		r.ref, r.detail = b.CallID, labelled(b.Outcome.String(), b.Note)
	case *event.CallbackScheduled:
		// "queue: note", or "queue" alone; ": note" when no queue is named,
		// so the queue is always what precedes the first ": ".
		r.ref, r.detail, r.due = b.CallbackID, b.Queue, event.DateOf(b.At.UTC())
		if b.Note != "" {
			r.detail += ": " + b.Note
		}
	case *event.NoteAdded:
		r.ref, r.detail = b.NoteID, b.Text
	case *event.WriteOffRequested:
		r.ref, r.cur, r.amt, r.detail = b.WriteOffID, string(b.Currency), b.Amount, b.Reason
	case *event.AgencyRecalled:
		r.ref, r.detail = b.AgencyID, b.Reason
	case *event.AgencyReturned:
		r.ref, r.detail = b.AgencyID, labelled(b.Outcome.String(), b.Reason)
	case *event.LegalCaseUpdated:
		r.ref, r.cur, r.amt = b.CaseID, string(b.Currency), b.Amount
		r.detail = labelled(labelled(b.Status.String(), b.Reference), b.Reason)
	case *event.AccountErased:
		r.detail = b.Reason
	}
}

// labelled is "label: text", or whichever of the two is not empty.
func labelled(label, text string) string {
	switch {
	case label == "":
		return text
	case text == "":
		return label
	}
	return label + ": " + text
}
