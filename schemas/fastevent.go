package schemas

import (
	"github.com/arrears/arrears/processor/event"
)

// decodeEventFast decodes the Avro binary of the owned arrears.ArEvent
// schema directly into event types. DecodeEvent takes this path whenever
// the writer schema is exactly ours (same fingerprint), which is every
// record arrears and its generator write; any other writer schema goes
// through goavro and eventFromNative. The fuzz target checks both paths
// agree. Keep in step with ar_event.avsc: field order matters here.
func decodeEventFast(b []byte, maxItems int) (event.Event, error) {
	r := &avroReader{b: b, maxItems: maxItems}
	ev := event.Event{
		ID:      r.str("event_id"),
		Time:    r.timestamp("event_time"),
		Source:  r.str("source"),
		Account: r.str("account_id"),
	}
	kind := event.Kind(r.index("payload", len(event.Kinds())) + 1)
	if r.err != nil {
		return event.Event{}, r.err
	}
	r.path = "payload." + kind.String()
	switch kind {
	case event.KindInvoiceIssued:
		ev.Body = &event.InvoiceIssued{
			InvoiceID: r.str("invoice_id"),
			Currency:  event.Currency(r.str("currency")),
			Amount:    r.decimal("amount"),
			IssueDate: r.date("issue_date"),
			DueDate:   r.date("due_date"),
			BillCycle: r.optStr("bill_cycle"),
		}
	case event.KindInvoiceAdjusted:
		ev.Body = &event.InvoiceAdjusted{
			AdjustmentID: r.str("adjustment_id"),
			InvoiceID:    r.str("invoice_id"),
			Type:         event.AdjustmentType(r.index("type", len(adjustmentSymbols)) + 1),
			Currency:     event.Currency(r.str("currency")),
			Amount:       r.decimal("amount"),
			Reason:       r.optStr("reason"),
		}
	case event.KindInvoiceCancelled:
		ev.Body = &event.InvoiceCancelled{InvoiceID: r.str("invoice_id"), Reason: r.optStr("reason")}
	case event.KindPaymentReceived:
		ev.Body = &event.PaymentReceived{
			PaymentID:  r.str("payment_id"),
			Currency:   event.Currency(r.str("currency")),
			Amount:     r.decimal("amount"),
			Method:     r.optStr("method"),
			InvoiceIDs: r.strs("invoice_ids"),
		}
	case event.KindPaymentReversed:
		ev.Body = &event.PaymentReversed{PaymentID: r.str("payment_id"), Reason: r.optStr("reason")}
	case event.KindRefund:
		ev.Body = &event.Refund{
			RefundID:  r.str("refund_id"),
			Currency:  event.Currency(r.str("currency")),
			Amount:    r.decimal("amount"),
			PaymentID: r.optStr("payment_id"),
		}
	case event.KindAccountUpserted:
		a := &event.AccountUpserted{
			Segment:     event.Segment(segmentSymbols[r.index("segment", len(segmentSymbols))]),
			ParentID:    r.optStr("parent_id"),
			CreditClass: r.optStr("credit_class"),
			Currency:    event.Currency(r.str("currency")),
			Timezone:    r.optStr("timezone"),
			CreditLimit: r.decimal("credit_limit"),
		}
		r.blocks("consents", func() {
			a.Consents = append(a.Consents, event.Channel(channelSymbols[r.index("consents", len(channelSymbols))]))
		})
		a.Exemptions = r.strs("exemptions")
		ev.Body = a
	case event.KindAccountClosed:
		ev.Body = &event.AccountClosed{Reason: r.optStr("reason")}
	case event.KindDisputeOpened:
		ev.Body = &event.DisputeOpened{
			DisputeID: r.str("dispute_id"),
			InvoiceID: r.str("invoice_id"),
			Currency:  event.Currency(r.str("currency")),
			Amount:    r.decimal("amount"),
			Reason:    r.optStr("reason"),
		}
	case event.KindDisputeResolved:
		d := &event.DisputeResolved{
			DisputeID: r.str("dispute_id"),
			Outcome:   event.DisputeOutcome(r.index("outcome", len(outcomeSymbols)) + 1),
		}
		r.optStr("currency") // informational; event.DisputeResolved has no currency
		d.CreditAmount = r.decimal("credit_amount")
		ev.Body = d
	case event.KindArrangementCreated:
		a := &event.ArrangementCreated{
			ArrangementID: r.str("arrangement_id"),
			Type:          event.ArrangementType(r.index("type", len(arrangementSymbols)) + 1),
			Currency:      event.Currency(r.str("currency")),
		}
		r.blocks("installments", func() {
			a.Installments = append(a.Installments, event.Installment{DueDate: r.date("due_date"), Amount: r.decimal("amount")})
		})
		ev.Body = a
	case event.KindArrangementCancelled:
		ev.Body = &event.ArrangementCancelled{ArrangementID: r.str("arrangement_id"), Reason: r.optStr("reason")}
	case event.KindHold:
		ev.Body = &event.Hold{HoldID: r.str("hold_id"), Until: r.timestamp("until"), Reason: r.optStr("reason")}
	case event.KindRelease:
		ev.Body = &event.Release{HoldID: r.str("hold_id")}
	case event.KindClockTick:
		ev.Body = &event.ClockTick{Partition: r.int("partition")}
	case event.KindAccountReopened:
		ev.Body = &event.AccountReopened{Reason: r.optStr("reason")}
	default:
		ev.Body = decodeOperatorFast(r, kind)
	}
	if r.err != nil {
		return event.Event{}, r.err
	}
	if len(r.b) != 0 {
		return event.Event{}, malformed("%d trailing bytes after %s", len(r.b), EventSchema)
	}
	return ev, nil
}

// decodeOperatorFast decodes the bodies of the operator, partner and
// erasure events (processor/event/operator.go), in ar_event.avsc order.
func decodeOperatorFast(r *avroReader, kind event.Kind) event.Body {
	switch kind {
	case event.KindExemptionSet:
		return &event.ExemptionSet{Exemption: r.str("exemption"), Until: r.optTimestamp("until"), Reason: r.optStr("reason")}
	case event.KindExemptionCleared:
		return &event.ExemptionCleared{Exemption: r.str("exemption"), Reason: r.optStr("reason")}
	case event.KindContactPreferencesChanged:
		c := &event.ContactPreferencesChanged{}
		r.blocks("consents", func() { c.Consents = append(c.Consents, event.Channel(r.symbol("consents", channelSymbols))) })
		c.Preferred = event.Channel(r.optSymbol("preferred", channelSymbols))
		return c
	case event.KindCeaseContact:
		return &event.CeaseContact{Active: r.bool("active"), Reason: r.optStr("reason")}
	case event.KindCallLogged:
		return &event.CallLogged{
			CallID:  r.str("call_id"),
			Outcome: event.CallOutcome(r.index("outcome", len(callOutcomeSymbols)) + 1),
			Note:    r.optStr("note"),
		}
	case event.KindCallbackScheduled:
		return &event.CallbackScheduled{
			CallbackID: r.str("callback_id"),
			At:         r.timestamp("at"),
			Queue:      r.optStr("queue"),
			Note:       r.optStr("note"),
		}
	case event.KindNoteAdded:
		return &event.NoteAdded{NoteID: r.str("note_id"), Text: r.str("text")}
	case event.KindWriteOffRequested:
		return &event.WriteOffRequested{
			WriteOffID: r.str("writeoff_id"),
			Currency:   event.Currency(r.str("currency")),
			Amount:     r.decimal("amount"),
			Reason:     r.optStr("reason"),
		}
	case event.KindAgencyRecalled:
		return &event.AgencyRecalled{AgencyID: r.optStr("agency_id"), Reason: r.optStr("reason")}
	case event.KindAgencyReturned:
		return &event.AgencyReturned{
			AgencyID: r.str("agency_id"),
			Outcome:  event.AgencyOutcome(r.index("outcome", len(agencyOutcomeSymbols)) + 1),
			Reason:   r.optStr("reason"),
		}
	case event.KindLegalCaseUpdated:
		return &event.LegalCaseUpdated{
			CaseID:    r.str("case_id"),
			Status:    event.LegalStatus(r.index("status", len(legalStatusSymbols)) + 1),
			Reference: r.optStr("reference"),
			Currency:  event.Currency(r.optStr("currency")),
			Amount:    r.decimal("amount"),
			Reason:    r.optStr("reason"),
		}
	case event.KindAccountErased:
		return &event.AccountErased{Reason: r.optStr("reason")}
	}
	if b := decodeGroupFast(r, kind); b != nil { // group.go
		return b
	}
	r.fail("payload", "no decoder for %s", kind) // unreachable: index bounds kind
	return nil
}
