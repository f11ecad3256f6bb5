package schemas

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
)

// Enum symbols shared by the schemas, in .avsc order.
var (
	segmentSymbols     = []string{string(event.Prepaid), string(event.Postpaid), string(event.Corporate), string(event.Wholesale)}
	channelSymbols     = []string{string(event.Email), string(event.SMS), string(event.Letter), string(event.Push)}
	adjustmentSymbols  = []string{event.Credit.String(), event.Debit.String()}
	outcomeSymbols     = []string{event.Upheld.String(), event.Rejected.String(), event.Withdrawn.String()}
	arrangementSymbols = []string{event.Promise.String(), event.InstallmentPlan.String()}
)

// DecodeEvent decodes one ar.events record in any accepted wire format and
// checks it against the Config's bounds (limits.go). Errors wrap one of the
// package's sentinels; only ErrRegistry is transient.
func (c *Codec) DecodeEvent(ctx context.Context, b []byte) (event.Event, error) {
	return c.decodeEvent(ctx, b, true)
}

// decodeEvent takes the hand-written path for records of exactly our schema
// when fast, goavro otherwise (the fuzz target compares the two).
func (c *Codec) decodeEvent(ctx context.Context, b []byte, fast bool) (event.Event, error) {
	s, body, err := c.frame(ctx, b)
	if err != nil {
		return event.Event{}, err
	}
	var (
		ev       event.Event
		replaced bool
	)
	if fast && s == builtins()[EventSchema] {
		ev, err = decodeEventFast(body, c.lim.maxItems)
	} else {
		var m map[string]any
		switch {
		case s == nil:
			// encoding/json replaces invalid UTF-8 with U+FFFD; note it
			// before it does, so the checker can refuse the field.
			replaced = !utf8.Valid(body)
			m, err = decodeJSON(body)
		default:
			m, err = s.native(body, EventSchema)
		}
		if err == nil {
			ev, err = eventFromNative(m)
		}
	}
	if err != nil {
		return event.Event{}, err
	}
	k := checker{l: &c.lim, zones: &c.zones, replaced: replaced}
	if err := k.checkEvent(&ev); err != nil {
		return event.Event{}, err
	}
	if replaced {
		return event.Event{}, malformed("JSON text is not valid UTF-8")
	}
	return ev, nil
}

// EncodeEvent encodes ev for topic: Confluent wire format under
// "<topic>-value" with a registry, single-object encoding otherwise.
func (c *Codec) EncodeEvent(ctx context.Context, topic string, ev event.Event) ([]byte, error) {
	if ev.Body == nil || reflect.ValueOf(ev.Body).IsNil() {
		return nil, fmt.Errorf("%w event %q: nil body", ErrEncode, ev.ID)
	}
	return c.encode(ctx, topic, EventSchema, 0, func(w *avroWriter) { writeEvent(w, &ev) })
}

// EncodeEventJSON renders ev as Avro JSON (unions wrapped with full names,
// dates as day numbers, timestamps as epoch millis, decimals as decimal
// strings such as "12.5000") that DecodeEvent accepts. For kcat and fixtures.
func EncodeEventJSON(ev event.Event) ([]byte, error) {
	m, err := eventToNative(ev)
	if err != nil {
		return nil, err
	}
	return encodeJSON(EventSchema, m)
}

func eventFromNative(m map[string]any) (event.Event, error) {
	f := newFields(m, "")
	ev := event.Event{
		ID:      f.str("event_id"),
		Time:    f.timestamp("event_time"),
		Source:  f.str("source"),
		Account: f.str("account_id"),
	}
	if f.err != nil {
		return event.Event{}, f.err
	}
	raw, ok := f.required("payload")
	if !ok {
		return event.Event{}, f.err
	}
	union, isMap := raw.(map[string]any)
	if !isMap || len(union) != 1 {
		return event.Event{}, &FieldError{Field: "payload", Err: ErrWrongType,
			Detail: `want a union value {"arrears.<Kind>": {...}}`}
	}
	for branch, v := range union {
		name := strings.TrimPrefix(branch, "arrears.")
		kind := event.KindByName(name)
		if kind == event.KindUnknown {
			return event.Event{}, &FieldError{Field: "payload", Err: ErrInvalidField,
				Detail: fmt.Sprintf("unknown event type %q", branch)}
		}
		body, isRec := v.(map[string]any)
		if !isRec {
			return event.Event{}, &FieldError{Field: "payload", Err: ErrWrongType,
				Detail: fmt.Sprintf("want record %s, got %s", name, typeName(v))}
		}
		var err error
		ev.Body, err = bodyFromNative(kind, newFields(body, "payload."+name))
		if err != nil {
			return event.Event{}, err
		}
	}
	return ev, nil
}

func bodyFromNative(kind event.Kind, f *fields) (event.Body, error) {
	var b event.Body
	switch kind {
	case event.KindInvoiceIssued:
		b = &event.InvoiceIssued{
			InvoiceID: f.str("invoice_id"),
			Currency:  event.Currency(f.str("currency")),
			Amount:    f.amount("amount"),
			IssueDate: f.date("issue_date"),
			DueDate:   f.date("due_date"),
			BillCycle: f.optStr("bill_cycle"),
		}
	case event.KindInvoiceAdjusted:
		b = &event.InvoiceAdjusted{
			AdjustmentID: f.str("adjustment_id"),
			InvoiceID:    f.str("invoice_id"),
			Type:         event.AdjustmentType(symbolIndex(f.enum("type", adjustmentSymbols...), adjustmentSymbols)),
			Currency:     event.Currency(f.str("currency")),
			Amount:       f.amount("amount"),
			Reason:       f.optStr("reason"),
		}
	case event.KindInvoiceCancelled:
		b = &event.InvoiceCancelled{InvoiceID: f.str("invoice_id"), Reason: f.optStr("reason")}
	case event.KindPaymentReceived:
		b = &event.PaymentReceived{
			PaymentID:  f.str("payment_id"),
			Currency:   event.Currency(f.str("currency")),
			Amount:     f.amount("amount"),
			Method:     f.optStr("method"),
			InvoiceIDs: f.strings("invoice_ids"),
		}
	case event.KindPaymentReversed:
		b = &event.PaymentReversed{PaymentID: f.str("payment_id"), Reason: f.optStr("reason")}
	case event.KindRefund:
		b = &event.Refund{
			RefundID:  f.str("refund_id"),
			Currency:  event.Currency(f.str("currency")),
			Amount:    f.amount("amount"),
			PaymentID: f.optStr("payment_id"),
		}
	case event.KindAccountUpserted:
		a := &event.AccountUpserted{
			Segment:     event.Segment(f.enum("segment", segmentSymbols...)),
			ParentID:    f.optStr("parent_id"),
			CreditClass: f.optStr("credit_class"),
			Currency:    event.Currency(f.str("currency")),
			Timezone:    f.optStr("timezone"),
			CreditLimit: f.amountOr("credit_limit"),
			Exemptions:  f.strings("exemptions"),
		}
		for i, v := range f.array("consents") {
			a.Consents = append(a.Consents, event.Channel(f.symbol(fmt.Sprintf("consents[%d]", i), v, true, channelSymbols...)))
		}
		b = a
	case event.KindAccountClosed:
		b = &event.AccountClosed{Reason: f.optStr("reason")}
	case event.KindDisputeOpened:
		b = &event.DisputeOpened{
			DisputeID: f.str("dispute_id"),
			InvoiceID: f.str("invoice_id"),
			Currency:  event.Currency(f.str("currency")),
			Amount:    f.amount("amount"),
			Reason:    f.optStr("reason"),
		}
	case event.KindDisputeResolved:
		b = &event.DisputeResolved{
			DisputeID:    f.str("dispute_id"),
			Outcome:      event.DisputeOutcome(symbolIndex(f.enum("outcome", outcomeSymbols...), outcomeSymbols)),
			CreditAmount: f.amountOr("credit_amount"),
		}
		f.optStr("currency") // type-checked; event.DisputeResolved has no currency
	case event.KindArrangementCreated:
		a := &event.ArrangementCreated{
			ArrangementID: f.str("arrangement_id"),
			Type:          event.ArrangementType(symbolIndex(f.enum("type", arrangementSymbols...), arrangementSymbols)),
			Currency:      event.Currency(f.str("currency")),
		}
		f.records("installments", func(_ int, r *fields) {
			a.Installments = append(a.Installments, event.Installment{DueDate: r.date("due_date"), Amount: r.amount("amount")})
		})
		b = a
	case event.KindArrangementCancelled:
		b = &event.ArrangementCancelled{ArrangementID: f.str("arrangement_id"), Reason: f.optStr("reason")}
	case event.KindHold:
		b = &event.Hold{HoldID: f.str("hold_id"), Until: f.timestamp("until"), Reason: f.optStr("reason")}
	case event.KindRelease:
		b = &event.Release{HoldID: f.str("hold_id")}
	case event.KindClockTick:
		b = &event.ClockTick{Partition: f.int32Or("partition", -1)}
	case event.KindAccountReopened:
		b = &event.AccountReopened{Reason: f.optStr("reason")}
	default:
		b = operatorFromNative(kind, f)
	}
	if f.err != nil {
		return nil, f.err
	}
	return b, nil
}

// symbolIndex maps an enum symbol to its 1-based Go constant (0 when empty).
func symbolIndex(s string, symbols []string) int {
	for i, sym := range symbols {
		if s == sym {
			return i + 1
		}
	}
	return 0
}

// symbolOf is the reverse of symbolIndex for encoding.
func symbolOf[T ~uint8](v T, symbols []string, what string) (string, error) {
	if v < 1 || int(v) > len(symbols) {
		return "", fmt.Errorf("%w: %s %d", ErrEncode, what, v)
	}
	return symbols[v-1], nil
}

// opt is the native form of an optional string: nil for "".
func opt(s string) any {
	if s == "" {
		return nil
	}
	return goavro.Union("string", s)
}

func stringsNative(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func eventToNative(ev event.Event) (map[string]any, error) {
	if ev.Body == nil || reflect.ValueOf(ev.Body).IsNil() {
		return nil, fmt.Errorf("%w event %q: nil body", ErrEncode, ev.ID)
	}
	body, err := bodyToNative(ev.Body)
	if err != nil {
		return nil, fmt.Errorf("encode event %q: %w", ev.ID, err)
	}
	return map[string]any{
		"event_id":   ev.ID,
		"event_time": ev.Time,
		"source":     ev.Source,
		"account_id": ev.Account,
		"payload":    goavro.Union("arrears."+ev.Body.Kind().String(), body),
	}, nil
}

func bodyToNative(body event.Body) (map[string]any, error) {
	switch b := body.(type) {
	case *event.InvoiceIssued:
		return map[string]any{
			"invoice_id": b.InvoiceID, "currency": string(b.Currency), "amount": b.Amount.Rat(),
			"issue_date": b.IssueDate.Time(), "due_date": b.DueDate.Time(), "bill_cycle": opt(b.BillCycle),
		}, nil
	case *event.InvoiceAdjusted:
		t, err := symbolOf(b.Type, adjustmentSymbols, "adjustment type")
		if err != nil {
			return nil, err
		}
		return map[string]any{
			"adjustment_id": b.AdjustmentID, "invoice_id": b.InvoiceID, "type": t,
			"currency": string(b.Currency), "amount": b.Amount.Rat(), "reason": opt(b.Reason),
		}, nil
	case *event.InvoiceCancelled:
		return map[string]any{"invoice_id": b.InvoiceID, "reason": opt(b.Reason)}, nil
	case *event.PaymentReceived:
		return map[string]any{
			"payment_id": b.PaymentID, "currency": string(b.Currency), "amount": b.Amount.Rat(),
			"method": opt(b.Method), "invoice_ids": stringsNative(b.InvoiceIDs),
		}, nil
	case *event.PaymentReversed:
		return map[string]any{"payment_id": b.PaymentID, "reason": opt(b.Reason)}, nil
	case *event.Refund:
		return map[string]any{
			"refund_id": b.RefundID, "currency": string(b.Currency), "amount": b.Amount.Rat(),
			"payment_id": opt(b.PaymentID),
		}, nil
	case *event.AccountUpserted:
		consents := make([]any, len(b.Consents))
		for i, ch := range b.Consents {
			consents[i] = string(ch)
		}
		return map[string]any{
			"segment": string(b.Segment), "parent_id": opt(b.ParentID), "credit_class": opt(b.CreditClass),
			"currency": string(b.Currency), "timezone": opt(b.Timezone), "credit_limit": b.CreditLimit.Rat(),
			"consents": consents, "exemptions": stringsNative(b.Exemptions),
		}, nil
	case *event.AccountClosed:
		return map[string]any{"reason": opt(b.Reason)}, nil
	case *event.DisputeOpened:
		return map[string]any{
			"dispute_id": b.DisputeID, "invoice_id": b.InvoiceID, "currency": string(b.Currency),
			"amount": b.Amount.Rat(), "reason": opt(b.Reason),
		}, nil
	case *event.DisputeResolved:
		o, err := symbolOf(b.Outcome, outcomeSymbols, "dispute outcome")
		if err != nil {
			return nil, err
		}
		return map[string]any{
			"dispute_id": b.DisputeID, "outcome": o, "currency": nil, "credit_amount": b.CreditAmount.Rat(),
		}, nil
	case *event.ArrangementCreated:
		t, err := symbolOf(b.Type, arrangementSymbols, "arrangement type")
		if err != nil {
			return nil, err
		}
		inst := make([]any, len(b.Installments))
		for i, in := range b.Installments {
			inst[i] = map[string]any{"due_date": in.DueDate.Time(), "amount": in.Amount.Rat()}
		}
		return map[string]any{
			"arrangement_id": b.ArrangementID, "type": t, "currency": string(b.Currency), "installments": inst,
		}, nil
	case *event.ArrangementCancelled:
		return map[string]any{"arrangement_id": b.ArrangementID, "reason": opt(b.Reason)}, nil
	case *event.Hold:
		return map[string]any{"hold_id": b.HoldID, "until": b.Until, "reason": opt(b.Reason)}, nil
	case *event.Release:
		return map[string]any{"hold_id": b.HoldID}, nil
	case *event.ClockTick:
		return map[string]any{"partition": b.Partition}, nil
	case *event.AccountReopened:
		return map[string]any{"reason": opt(b.Reason)}, nil
	}
	return operatorToNative(body)
}
