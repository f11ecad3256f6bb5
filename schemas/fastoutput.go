package schemas

import (
	"encoding/binary"
	"math"

	"github.com/arrears/arrears/processor/event"
)

// Hand-written decoders of the owned output schemas, the mirror of the
// writers in fastencode.go. The ClickHouse sink decodes every output record
// it lands, and goavro's generic maps were most of its CPU and allocations
// (a map per record and per nested record, an interface per field). The
// Decode* methods take these whenever the writer schema is exactly ours
// (the fingerprints arrears writes, spec or legacy); any other writer (a
// registry id of another text, JSON, an evolved schema) still goes through
// goavro. TestFastOutputsAgree and FuzzFastOutputs check both paths give
// the same value or both fail. Keep in step with the .avsc files: field
// order matters here.

func decodeActionFast(b []byte) (event.DunningAction, error) {
	r := &avroReader{b: b, path: ActionSchema}
	a := event.DunningAction{
		ActionID:      r.str("action_id"),
		Account:       r.str("account_id"),
		Time:          r.timestamp("event_time"),
		PolicyName:    r.str("policy_name"),
		PolicyVersion: r.str("policy_version"),
		Stage:         r.str("stage"),
		Type:          event.ActionType(r.symbol("action_type", actionSymbols)),
		Channel:       event.Channel(r.optSymbol("channel", channelSymbols)),
		Template:      r.optStr("template"),
		Queue:         r.optStr("queue"),
		Priority:      r.int("priority"),
		Currency:      event.Currency(r.str("currency")),
		OverdueAmount: r.decimal18("overdue_amount"),
		Amount:        r.decimal18("amount"),
		OldestDueDate: r.date("oldest_due_date"),
		DaysPastDue:   r.int("days_past_due"),
		Invoices:      r.strs("invoice_ids"),
		Reason:        r.optStr("reason"),
	}
	r.blocks("conditions", func() {
		a.Conditions = append(a.Conditions, event.Condition{Name: r.str("name"), Value: r.str("value"), Rule: r.str("rule")})
	})
	a.ExperimentID = r.optStr("experiment_id")
	a.Arm = r.optStr("arm")
	if err := r.end(); err != nil {
		return event.DunningAction{}, err
	}
	return a, nil
}

func decodeRiskFast(b []byte) (event.RiskEvent, error) {
	r := &avroReader{b: b, path: RiskSchema}
	e := event.RiskEvent{
		EventID:      r.str("event_id"),
		Account:      r.str("account_id"),
		Time:         r.timestamp("event_time"),
		Score:        r.int("score"),
		PD:           r.double("pd"),
		Tier:         r.str("tier"),
		PreviousTier: r.optStr("previous_tier"),
	}
	r.blocks("reasons", func() {
		e.Reasons = append(e.Reasons, event.ReasonCode{Code: r.str("code"), Contribution: r.double("contribution")})
	})
	e.ModelVersion = r.str("model_version")
	if err := r.end(); err != nil {
		return event.RiskEvent{}, err
	}
	return e, nil
}

func decodeStatusFast(b []byte) (event.AccountStatus, error) {
	r := &avroReader{b: b, path: StatusSchema}
	s := event.AccountStatus{
		Account: r.str("account_id"),
		Time:    r.timestamp("event_time"),
		Segment: event.Segment(r.optSymbol("segment", segmentSymbols)),
		Closed:  r.bool("closed"),
	}
	r.blocks("balances", func() {
		cb := event.CurrencyBalance{
			Currency:  event.Currency(r.str("currency")),
			Open:      r.decimal18("open"),
			Overdue:   r.decimal18("overdue"),
			Disputed:  r.decimal18("disputed"),
			Unapplied: r.decimal18("unapplied"),
		}
		for j, name := range agingFields {
			cb.Aging[j] = r.decimal18(name)
		}
		s.Balances = append(s.Balances, cb)
	})
	s.OpenItems = r.int("open_items")
	s.OldestDueDate = r.date("oldest_due_date")
	s.DaysPastDue = r.int("days_past_due")
	s.Stage = r.optStr("stage")
	s.ServiceState = r.optStr("service_state")
	s.RiskTier = r.optStr("risk_tier")
	s.PD = r.double("pd")
	s.Arrangement = r.optStr("arrangement_id")
	s.OnHold = r.bool("on_hold")
	s.SourcePartition = r.int("source_partition")
	s.SourceOffset = r.long("source_offset")
	s.State = r.bytes("state")
	s.UnknownInvoiceRefs = r.int("unknown_invoice_refs")
	s.CollectionsStatus = r.str("collections_status")
	s.PolicyVersion = r.str("policy_version")
	s.ExperimentID = r.optStr("experiment_id")
	s.Arm = r.optStr("arm")
	s.Blacklisted = r.bool("blacklisted")
	if err := r.end(); err != nil {
		return event.AccountStatus{}, err
	}
	return s, nil
}

func decodeGLFast(b []byte) (event.GLEntry, error) {
	r := &avroReader{b: b, path: GLSchema}
	g := event.GLEntry{
		EntryID:       r.str("entry_id"),
		Account:       r.str("account_id"),
		Time:          r.timestamp("event_time"),
		Kind:          r.str("kind"),
		Currency:      event.Currency(r.str("currency")),
		Amount:        r.decimal18("amount"),
		DebitAccount:  r.str("debit_account"),
		CreditAccount: r.str("credit_account"),
		Reference:     r.optStr("reference"),
		Description:   r.optStr("description"),
		InvoiceID:     r.optStr("invoice_id"),
	}
	if err := r.end(); err != nil {
		return event.GLEntry{}, err
	}
	return g, nil
}

func (r *avroReader) bool(field string) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) == 0 || r.b[0] > 1 {
		r.fail(field, "not a boolean")
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *avroReader) double(field string) float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail(field, "truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

// decimal18 reads a decimal and refuses one beyond decimal(18,4), as the
// goavro path does (fields.go asAmount).
func (r *avroReader) decimal18(field string) event.Amount {
	a := r.decimal(field)
	if r.err == nil && (a > event.MaxDecimal || a < -event.MaxDecimal) {
		r.err = invalid(r.path, field, CodeInvalidAmount, "%s does not fit decimal(18,4)", a)
	}
	return a
}

// symbol reads an enum.
func (r *avroReader) symbol(field string, symbols []string) string {
	i := r.index(field, len(symbols))
	if r.err != nil {
		return ""
	}
	return symbols[i]
}

// optSymbol reads ["null", enum].
func (r *avroReader) optSymbol(field string, symbols []string) string {
	if r.index(field, 2) == 0 {
		return ""
	}
	return r.symbol(field, symbols)
}

// end reports the first error, or bytes left after the record.
func (r *avroReader) end() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = malformed("%d trailing bytes after %s", len(r.b), r.path)
	}
	return r.err
}
