package schemas

import (
	"context"
	"fmt"

	"github.com/arrears/arrears/processor/event"
	"github.com/linkedin/goavro/v2"
)

var actionSymbols = []string{
	string(event.ActionNotify), string(event.ActionAgentTask), string(event.ActionSuspend),
	string(event.ActionBarOutgoing), string(event.ActionThrottle), string(event.ActionRestore),
	string(event.ActionAgency), string(event.ActionLegal), string(event.ActionWriteOff), string(event.ActionFee),
	string(event.ActionManualReview), string(event.ActionArrangementMet), string(event.ActionArrangementBroken),
}

// EncodeAction encodes a dunning action for topic (ar.dunning.actions).
func (c *Codec) EncodeAction(ctx context.Context, topic string, a *event.DunningAction) ([]byte, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: nil DunningAction", ErrEncode)
	}
	return c.encode(ctx, topic, ActionSchema, 0, func(w *avroWriter) { writeAction(w, a) })
}

func actionNative(a *event.DunningAction) map[string]any {
	conds := make([]any, len(a.Conditions))
	for i, cd := range a.Conditions {
		conds[i] = map[string]any{"name": cd.Name, "value": cd.Value, "rule": cd.Rule}
	}
	var channel any
	if a.Channel != "" {
		channel = goavro.Union("arrears.Channel", string(a.Channel))
	}
	return map[string]any{
		"action_id": a.ActionID, "account_id": a.Account, "event_time": a.Time,
		"policy_name": a.PolicyName, "policy_version": a.PolicyVersion, "stage": a.Stage,
		"action_type": string(a.Type), "channel": channel, "template": opt(a.Template), "queue": opt(a.Queue),
		"priority": a.Priority, "currency": string(a.Currency), "overdue_amount": a.OverdueAmount.Rat(),
		"amount": a.Amount.Rat(), "oldest_due_date": a.OldestDueDate.Time(), "days_past_due": a.DaysPastDue,
		"invoice_ids": stringsNative(a.Invoices), "reason": opt(a.Reason), "conditions": conds,
		"experiment_id": opt(a.ExperimentID), "arm": opt(a.Arm),
	}
}

// DecodeAction decodes an ar.dunning.actions record in any accepted format.
func (c *Codec) DecodeAction(ctx context.Context, b []byte) (event.DunningAction, error) {
	return decodeOutput(ctx, c, b, ActionSchema, decodeActionFast, func(f *fields) event.DunningAction {
		a := event.DunningAction{
			ActionID:      f.str("action_id"),
			Account:       f.str("account_id"),
			Time:          f.timestamp("event_time"),
			PolicyName:    f.str("policy_name"),
			PolicyVersion: f.str("policy_version"),
			Stage:         f.str("stage"),
			Type:          event.ActionType(f.enum("action_type", actionSymbols...)),
			Channel:       event.Channel(f.optEnum("channel", channelSymbols...)),
			Template:      f.optStr("template"),
			Queue:         f.optStr("queue"),
			Priority:      f.int32Or("priority", 0),
			Currency:      event.Currency(f.str("currency")),
			OverdueAmount: f.amount("overdue_amount"),
			Amount:        f.amountOr("amount"),
			OldestDueDate: f.dateOr("oldest_due_date"),
			DaysPastDue:   f.int32Or("days_past_due", 0),
			Invoices:      f.strings("invoice_ids"),
			Reason:        f.optStr("reason"),
			ExperimentID:  f.optStr("experiment_id"),
			Arm:           f.optStr("arm"),
		}
		f.records("conditions", func(_ int, r *fields) {
			a.Conditions = append(a.Conditions, event.Condition{Name: r.str("name"), Value: r.str("value"), Rule: r.str("rule")})
		})
		return a
	})
}

// EncodeRisk encodes a risk event for topic (ar.risk.events).
func (c *Codec) EncodeRisk(ctx context.Context, topic string, r *event.RiskEvent) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: nil RiskEvent", ErrEncode)
	}
	return c.encode(ctx, topic, RiskSchema, 0, func(w *avroWriter) { writeRisk(w, r) })
}

func riskNative(r *event.RiskEvent) map[string]any {
	reasons := make([]any, len(r.Reasons))
	for i, rc := range r.Reasons {
		reasons[i] = map[string]any{"code": rc.Code, "contribution": rc.Contribution}
	}
	return map[string]any{
		"event_id": r.EventID, "account_id": r.Account, "event_time": r.Time, "score": r.Score, "pd": r.PD,
		"tier": r.Tier, "previous_tier": opt(r.PreviousTier), "reasons": reasons, "model_version": r.ModelVersion,
	}
}

// DecodeRisk decodes an ar.risk.events record in any accepted format.
func (c *Codec) DecodeRisk(ctx context.Context, b []byte) (event.RiskEvent, error) {
	return decodeOutput(ctx, c, b, RiskSchema, decodeRiskFast, func(f *fields) event.RiskEvent {
		r := event.RiskEvent{
			EventID:      f.str("event_id"),
			Account:      f.str("account_id"),
			Time:         f.timestamp("event_time"),
			Score:        f.int32("score"),
			PD:           f.float("pd"),
			Tier:         f.str("tier"),
			PreviousTier: f.optStr("previous_tier"),
			ModelVersion: f.str("model_version"),
		}
		f.records("reasons", func(_ int, rf *fields) {
			r.Reasons = append(r.Reasons, event.ReasonCode{Code: rf.str("code"), Contribution: rf.float("contribution")})
		})
		return r
	})
}

// agingFields names CurrencyBalance.Aging's buckets in order.
var agingFields = [6]string{"aging_current", "aging_1_30", "aging_31_60", "aging_61_90", "aging_91_120", "aging_over_120"}

// EncodeStatus encodes an account status for topic (ar.account.status).
func (c *Codec) EncodeStatus(ctx context.Context, topic string, s *event.AccountStatus) ([]byte, error) {
	v, _, err := c.EncodeStatusState(ctx, topic, s)
	return v, err
}

// EncodeStatusState is EncodeStatus that also returns where in the value
// s.State's bytes are: the processor stores that slice of the changelog
// record as the account's state, so the state is encoded and copied once
// for Kafka and Redis.
func (c *Codec) EncodeStatusState(ctx context.Context, topic string, s *event.AccountStatus) (value, state []byte, err error) {
	if s == nil {
		return nil, nil, fmt.Errorf("%w: nil AccountStatus", ErrEncode)
	}
	at := 0
	// about 130 bytes of fields and 40 a currency's balances besides the state
	size := statusFieldBytes + len(s.State) + balanceBytes*len(s.Balances)
	v, err := c.encode(ctx, topic, StatusSchema, size, func(w *avroWriter) { at = writeStatus(w, s) })
	if err != nil {
		return nil, nil, err
	}
	return v, v[at : at+len(s.State) : at+len(s.State)], nil
}

// What a status record takes besides its state and balances, and a
// currency's balances (amounts of a few bytes each): the size EncodeStatusState
// allocates, so that its buffer seldom grows.
const (
	statusFieldBytes = 192
	balanceBytes     = 64
)

func statusNative(s *event.AccountStatus) map[string]any {
	balances := make([]any, len(s.Balances))
	for i, b := range s.Balances {
		m := map[string]any{
			"currency": string(b.Currency), "open": b.Open.Rat(), "overdue": b.Overdue.Rat(),
			"disputed": b.Disputed.Rat(), "unapplied": b.Unapplied.Rat(),
		}
		for j, name := range agingFields {
			m[name] = b.Aging[j].Rat()
		}
		balances[i] = m
	}
	var segment any
	if s.Segment != "" {
		segment = goavro.Union("arrears.Segment", string(s.Segment))
	}
	state := s.State
	if state == nil {
		state = []byte{}
	}
	return map[string]any{
		"account_id": s.Account, "event_time": s.Time, "segment": segment, "closed": s.Closed,
		"balances": balances, "open_items": s.OpenItems, "oldest_due_date": s.OldestDueDate.Time(),
		"days_past_due": s.DaysPastDue, "stage": opt(s.Stage), "service_state": opt(s.ServiceState),
		"risk_tier": opt(s.RiskTier), "pd": s.PD, "arrangement_id": opt(s.Arrangement), "on_hold": s.OnHold,
		"source_partition": s.SourcePartition, "source_offset": s.SourceOffset, "state": state,
		"unknown_invoice_refs": s.UnknownInvoiceRefs, "collections_status": s.CollectionsStatus,
		"policy_version": s.PolicyVersion, "experiment_id": opt(s.ExperimentID), "arm": opt(s.Arm),
		"blacklisted": s.Blacklisted,
	}
}

// DecodeStatus decodes an ar.account.status record in any accepted format.
func (c *Codec) DecodeStatus(ctx context.Context, b []byte) (event.AccountStatus, error) {
	return decodeOutput(ctx, c, b, StatusSchema, decodeStatusFast, func(f *fields) event.AccountStatus {
		s := event.AccountStatus{
			Account:         f.str("account_id"),
			Time:            f.timestamp("event_time"),
			Segment:         event.Segment(f.optEnum("segment", segmentSymbols...)),
			Closed:          f.boolOr("closed"),
			OpenItems:       f.int32Or("open_items", 0),
			OldestDueDate:   f.dateOr("oldest_due_date"),
			DaysPastDue:     f.int32Or("days_past_due", 0),
			Stage:           f.optStr("stage"),
			ServiceState:    f.optStr("service_state"),
			RiskTier:        f.optStr("risk_tier"),
			PD:              f.floatOr("pd"),
			Arrangement:     f.optStr("arrangement_id"),
			OnHold:          f.boolOr("on_hold"),
			SourcePartition: f.int32("source_partition"),
			SourceOffset:    f.int64("source_offset"),
			State:           f.bytes("state"),

			UnknownInvoiceRefs: f.int32Or("unknown_invoice_refs", 0),
			CollectionsStatus:  f.strOr("collections_status", "NONE"),
			PolicyVersion:      f.strOr("policy_version", ""),
			ExperimentID:       f.optStr("experiment_id"),
			Arm:                f.optStr("arm"),
			Blacklisted:        f.boolOr("blacklisted"),
		}
		f.records("balances", func(_ int, r *fields) {
			cb := event.CurrencyBalance{
				Currency:  event.Currency(r.str("currency")),
				Open:      r.amount("open"),
				Overdue:   r.amount("overdue"),
				Disputed:  r.amount("disputed"),
				Unapplied: r.amount("unapplied"),
			}
			for j, name := range agingFields {
				cb.Aging[j] = r.amount(name)
			}
			s.Balances = append(s.Balances, cb)
		})
		return s
	})
}

// EncodeGL encodes a journal entry for topic (ar.gl).
func (c *Codec) EncodeGL(ctx context.Context, topic string, g *event.GLEntry) ([]byte, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: nil GLEntry", ErrEncode)
	}
	return c.encode(ctx, topic, GLSchema, 0, func(w *avroWriter) { writeGL(w, g) })
}

func glNative(g *event.GLEntry) map[string]any {
	return map[string]any{
		"entry_id": g.EntryID, "account_id": g.Account, "event_time": g.Time, "kind": g.Kind,
		"currency": string(g.Currency), "amount": g.Amount.Rat(), "debit_account": g.DebitAccount,
		"credit_account": g.CreditAccount, "reference": opt(g.Reference), "description": opt(g.Description),
		"invoice_id": opt(g.InvoiceID),
	}
}

// DecodeGL decodes an ar.gl record in any accepted format.
func (c *Codec) DecodeGL(ctx context.Context, b []byte) (event.GLEntry, error) {
	return decodeOutput(ctx, c, b, GLSchema, decodeGLFast, func(f *fields) event.GLEntry {
		g := event.GLEntry{
			EntryID:       f.str("entry_id"),
			Account:       f.str("account_id"),
			Time:          f.timestamp("event_time"),
			Kind:          f.str("kind"),
			Currency:      event.Currency(f.str("currency")),
			Amount:        f.amount("amount"),
			DebitAccount:  f.str("debit_account"),
			CreditAccount: f.str("credit_account"),
			Reference:     f.optStr("reference"),
			Description:   f.optStr("description"),
			InvoiceID:     f.optStr("invoice_id"),
		}
		return g
	})
}

// EncodeDeadLetter encodes a rejected record for topic (ar.dlq).
func (c *Codec) EncodeDeadLetter(ctx context.Context, topic string, d *event.DeadLetter) ([]byte, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: nil DeadLetter", ErrEncode)
	}
	return c.encode(ctx, topic, DeadLetterSchema, 0, func(w *avroWriter) { writeDeadLetter(w, d) })
}

// optUnion is the native value of a ["null", typ] union: nil unless set.
func optUnion(typ string, v any, set bool) any {
	if !set {
		return nil
	}
	return goavro.Union(typ, v)
}

func deadLetterNative(d *event.DeadLetter) map[string]any {
	var key any
	if d.Key != nil {
		key = goavro.Union("bytes", d.Key)
	}
	value := d.Value
	if value == nil {
		value = []byte{}
	}
	return map[string]any{
		"reason": d.Reason, "error_class": d.ErrorClass, "topic": d.Topic, "partition": d.Partition,
		"offset": d.Offset, "key": key, "value": value, "event_time": d.Time,
		"code": optUnion("string", d.Code, d.Code != ""), "value_size": optUnion("long", d.ValueSize, d.ValueSize != 0 || d.ValueSHA256 != nil),
		"value_sha256": optUnion("bytes", d.ValueSHA256, d.ValueSHA256 != nil), "truncated": d.Truncated,
	}
}

// DecodeDeadLetter decodes an ar.dlq record in any accepted format.
func (c *Codec) DecodeDeadLetter(ctx context.Context, b []byte) (event.DeadLetter, error) {
	return decodeOutput(ctx, c, b, DeadLetterSchema, nil, func(f *fields) event.DeadLetter {
		// where it came from, then what it carried
		d := event.DeadLetter{Topic: f.str("topic"), Partition: f.int32("partition"), Offset: f.int64("offset"), Time: f.timestamp("event_time")}
		d.Reason, d.ErrorClass, d.Code = f.str("reason"), f.str("error_class"), f.optStr("code")
		d.Key, d.Value, d.Truncated = f.optBytes("key"), f.bytes("value"), f.boolOr("truncated")
		d.ValueSize, d.ValueSHA256 = f.optInt64("value_size"), f.optBytes("value_sha256")
		return d
	})
}

// decodeOutput decodes b as one of our output records: read takes the
// fields, and the first field problem is the error.
func decodeOutput[T any](ctx context.Context, c *Codec, b []byte, schema string, fast func([]byte) (T, error), read func(f *fields) T) (T, error) {
	var zero T
	s, body, err := c.frame(ctx, b)
	if err != nil {
		return zero, err
	}
	if fast != nil && !c.slowOutputs && s == builtins()[schema] {
		return fast(body)
	}
	m, err := nativeOf(s, body, schema)
	if err != nil {
		return zero, err
	}
	f := newFields(m, "")
	v := read(f)
	if f.err != nil {
		return zero, f.err
	}
	return v, nil
}
