package schemas

import (
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
)

// The operator, partner and erasure events (processor/event/operator.go)
// in native form (goavro and Avro JSON, both directions) and their bounds.
// The hand-written binary codec of the same records is in fastevent.go and
// fastencode.go.

// Enum symbols of the operator events, in .avsc order.
var (
	callOutcomeSymbols   = symbolNames(event.CallOutcomes())
	agencyOutcomeSymbols = symbolNames(event.AgencyOutcomes())
	legalStatusSymbols   = symbolNames(event.LegalStatuses())
)

func symbolNames[T fmt.Stringer](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

func operatorFromNative(kind event.Kind, f *fields) event.Body {
	switch kind {
	case event.KindExemptionSet:
		return &event.ExemptionSet{Exemption: f.str("exemption"), Until: f.optTimestamp("until"), Reason: f.optStr("reason")}
	case event.KindExemptionCleared:
		return &event.ExemptionCleared{Exemption: f.str("exemption"), Reason: f.optStr("reason")}
	case event.KindContactPreferencesChanged:
		c := &event.ContactPreferencesChanged{Preferred: event.Channel(f.optEnum("preferred", channelSymbols...))}
		for i, v := range f.array("consents") {
			c.Consents = append(c.Consents, event.Channel(f.symbol(fmt.Sprintf("consents[%d]", i), v, true, channelSymbols...)))
		}
		return c
	case event.KindCeaseContact:
		return &event.CeaseContact{Active: f.boolean("active"), Reason: f.optStr("reason")}
	case event.KindCallLogged:
		return &event.CallLogged{
			CallID:  f.str("call_id"),
			Outcome: event.CallOutcome(symbolIndex(f.enum("outcome", callOutcomeSymbols...), callOutcomeSymbols)),
			Note:    f.optStr("note"),
		}
	case event.KindCallbackScheduled:
		return &event.CallbackScheduled{CallbackID: f.str("callback_id"), At: f.timestamp("at"),
			Queue: f.optStr("queue"), Note: f.optStr("note")}
	case event.KindNoteAdded:
		return &event.NoteAdded{NoteID: f.str("note_id"), Text: f.str("text")}
	case event.KindWriteOffRequested:
		return &event.WriteOffRequested{WriteOffID: f.str("writeoff_id"), Currency: event.Currency(f.str("currency")),
			Amount: f.amount("amount"), Reason: f.optStr("reason")}
	case event.KindAgencyRecalled:
		return &event.AgencyRecalled{AgencyID: f.optStr("agency_id"), Reason: f.optStr("reason")}
	case event.KindAgencyReturned:
		return &event.AgencyReturned{
			AgencyID: f.str("agency_id"),
			Outcome:  event.AgencyOutcome(symbolIndex(f.enum("outcome", agencyOutcomeSymbols...), agencyOutcomeSymbols)),
			Reason:   f.optStr("reason"),
		}
	case event.KindLegalCaseUpdated:
		return &event.LegalCaseUpdated{
			CaseID:    f.str("case_id"),
			Status:    event.LegalStatus(symbolIndex(f.enum("status", legalStatusSymbols...), legalStatusSymbols)),
			Reference: f.optStr("reference"),
			Currency:  event.Currency(f.optStr("currency")),
			Amount:    f.amountOr("amount"),
			Reason:    f.optStr("reason"),
		}
	case event.KindAccountErased:
		return &event.AccountErased{Reason: f.optStr("reason")}
	}
	if b := groupFromNative(kind, f); b != nil { // group.go
		return b
	}
	f.fail("payload", ErrInvalidField, "no converter for %s", kind)
	return nil
}

// optTime is the native form of an optional timestamp: nil for zero.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return goavro.Union("long.timestamp-millis", t)
}

func operatorToNative(body event.Body) (map[string]any, error) {
	switch b := body.(type) {
	case *event.ExemptionSet:
		return map[string]any{"exemption": b.Exemption, "until": optTime(b.Until), "reason": opt(b.Reason)}, nil
	case *event.ExemptionCleared:
		return map[string]any{"exemption": b.Exemption, "reason": opt(b.Reason)}, nil
	case *event.ContactPreferencesChanged:
		consents := make([]any, len(b.Consents))
		for i, ch := range b.Consents {
			consents[i] = string(ch)
		}
		var preferred any
		if b.Preferred != "" {
			preferred = goavro.Union("arrears.Channel", string(b.Preferred))
		}
		return map[string]any{"consents": consents, "preferred": preferred}, nil
	case *event.CeaseContact:
		return map[string]any{"active": b.Active, "reason": opt(b.Reason)}, nil
	case *event.CallLogged:
		o, err := symbolOf(b.Outcome, callOutcomeSymbols, "call outcome")
		if err != nil {
			return nil, err
		}
		return map[string]any{"call_id": b.CallID, "outcome": o, "note": opt(b.Note)}, nil
	case *event.CallbackScheduled:
		return map[string]any{"callback_id": b.CallbackID, "at": b.At, "queue": opt(b.Queue), "note": opt(b.Note)}, nil
	case *event.NoteAdded:
		return map[string]any{"note_id": b.NoteID, "text": b.Text}, nil
	case *event.WriteOffRequested:
		return map[string]any{"writeoff_id": b.WriteOffID, "currency": string(b.Currency), "amount": b.Amount.Rat(),
			"reason": opt(b.Reason)}, nil
	case *event.AgencyRecalled:
		return map[string]any{"agency_id": opt(b.AgencyID), "reason": opt(b.Reason)}, nil
	case *event.AgencyReturned:
		o, err := symbolOf(b.Outcome, agencyOutcomeSymbols, "agency outcome")
		if err != nil {
			return nil, err
		}
		return map[string]any{"agency_id": b.AgencyID, "outcome": o, "reason": opt(b.Reason)}, nil
	case *event.LegalCaseUpdated:
		s, err := symbolOf(b.Status, legalStatusSymbols, "legal status")
		if err != nil {
			return nil, err
		}
		return map[string]any{"case_id": b.CaseID, "status": s, "reference": opt(b.Reference),
			"currency": opt(string(b.Currency)), "amount": b.Amount.Rat(), "reason": opt(b.Reason)}, nil
	case *event.AccountErased:
		return map[string]any{"reason": opt(b.Reason)}, nil
	}
	if m := groupToNative(body); m != nil { // group.go
		return m, nil
	}
	return nil, fmt.Errorf("%w: unsupported body %T", ErrEncode, body)
}

// checkOperator validates the operator, partner and erasure events: ids
// present and bounded, texts bounded (max_text_bytes: notes and reasons),
// enums known, amounts in their currency and not negative.
func (k *checker) checkOperator(body event.Body) {
	switch b := body.(type) {
	case *event.ExemptionSet:
		k.exemption(b.Exemption)
		if !b.Until.IsZero() {
			k.instant("until", b.Until)
		}
		k.text("reason", b.Reason)
	case *event.ExemptionCleared:
		k.exemption(b.Exemption)
		k.text("reason", b.Reason)
	case *event.ContactPreferencesChanged:
		k.items("consents", len(b.Consents))
	case *event.CeaseContact:
		k.text("reason", b.Reason)
	case *event.CallLogged:
		k.id("call_id", b.CallID)
		k.known("outcome", b.Outcome.String())
		k.text("note", b.Note)
	case *event.CallbackScheduled:
		k.id("callback_id", b.CallbackID)
		k.instant("at", b.At)
		k.optID("queue", b.Queue)
		k.text("note", b.Note)
	case *event.NoteAdded:
		k.id("note_id", b.NoteID)
		if b.Text == "" {
			k.fail("text", CodeInvalidText, "empty note")
		}
		k.text("text", b.Text)
	case *event.WriteOffRequested:
		k.id("writeoff_id", b.WriteOffID)
		k.money(b.Currency, "amount", b.Amount)
		k.notNegative("amount", b.Amount)
		k.text("reason", b.Reason)
	case *event.AgencyRecalled:
		k.optID("agency_id", b.AgencyID)
		k.text("reason", b.Reason)
	case *event.AgencyReturned:
		k.id("agency_id", b.AgencyID)
		k.known("outcome", b.Outcome.String())
		k.text("reason", b.Reason)
	case *event.LegalCaseUpdated:
		k.id("case_id", b.CaseID)
		k.known("status", b.Status.String())
		k.text("reference", b.Reference)
		if b.Currency != "" || b.Amount != 0 {
			k.money(b.Currency, "amount", b.Amount)
		}
		k.notNegative("amount", b.Amount)
		k.text("reason", b.Reason)
	case *event.AccountErased:
		k.text("reason", b.Reason)
	default:
		k.checkGroup(body) // group.go
	}
}

// exemption checks a required exemption flag (a code: non-empty text).
func (k *checker) exemption(s string) {
	if s == "" {
		k.fail("exemption", CodeInvalidText, "empty exemption")
	}
	k.text("exemption", s)
}

// known refuses an enum outside its symbols (a Go value built by hand; a
// decoded one is always in range).
func (k *checker) known(field, symbol string) {
	if symbol == "UNKNOWN" {
		k.fail(field, CodeInvalidField, "unknown %s", field)
	}
}

func (k *checker) notNegative(field string, a event.Amount) {
	if a < 0 {
		k.fail(field, CodeInvalidAmount, "negative amount")
	}
}
