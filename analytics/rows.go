package analytics

import (
	"encoding/hex"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// Table is one arrears table and the columns rows are inserted with (every
// insert names its columns: ClickHouse 18.16 needs the explicit list).
type TableSpec struct {
	Name    string
	Columns []string
}

// InsertSQL is the INSERT prefix PrepareBatch takes for the table in db.
func (t *TableSpec) InsertSQL(db string) string {
	return "INSERT INTO " + db + "." + t.Name + " (" + strings.Join(t.Columns, ", ") + ")"
}

// The tables the sink fills, with their insert columns in Values order.
var (
	EventsTable = &TableSpec{"events", []string{"event_id", "event_time", "account_id", "kind", "source", "currency", "amount",
		"invoice_id", "payment_id", "ref_id", "issue_date", "due_date", "detail", "invoice_ids",
		"kafka_topic", "kafka_partition", "kafka_offset", "ingested_at"}}
	InvoicesTable = &TableSpec{"invoices", []string{"account_id", "invoice_id", "event_id", "event_time", "currency", "amount",
		"issue_date", "due_date", "bill_cycle", "ingested_at"}}
	PaymentsTable = &TableSpec{"payments", []string{"account_id", "payment_id", "event_id", "event_time", "currency", "amount",
		"method", "invoice_ids", "ingested_at"}}
	AccountsTable = &TableSpec{"accounts", []string{"account_id", "event_id", "event_time", "segment", "parent_id", "credit_class",
		"currency", "timezone", "credit_limit", "consents", "exemptions", "ingested_at"}}
	DisputesTable = &TableSpec{"disputes", []string{"account_id", "dispute_id", "event_id", "event_time", "status", "invoice_id",
		"currency", "amount", "credit_amount", "reason", "ingested_at"}}
	ArrangementsTable = &TableSpec{"arrangements", []string{"account_id", "arrangement_id", "event_id", "event_time", "type",
		"currency", "total_amount", "installments", "first_due_date", "last_due_date", "due_dates", "due_amounts", "ingested_at"}}
	ActionsTable = &TableSpec{"dunning_actions", []string{"action_id", "account_id", "action_time", "policy_name", "policy_version",
		"stage", "action_type", "channel", "template", "queue", "priority", "currency", "overdue_amount", "amount",
		"oldest_due_date", "days_past_due", "invoice_ids", "reason", "cond_names", "cond_values", "cond_rules",
		"kafka_partition", "kafka_offset", "ingested_at", "experiment_id", "arm"}}
	RiskTable = &TableSpec{"risk_events", []string{"event_id", "account_id", "event_time", "score", "pd", "tier", "previous_tier",
		"reason_codes", "reason_weights", "model_version", "kafka_partition", "kafka_offset", "ingested_at"}}
	StatusTable = &TableSpec{"account_status", []string{"account_id", "status_time", "segment", "closed", "currency",
		"open_amount", "overdue_amount", "disputed_amount", "unapplied_amount",
		"aging_current", "aging_1_30", "aging_31_60", "aging_61_90", "aging_91_120", "aging_120_plus",
		"bal_currency", "bal_open", "bal_overdue", "bal_disputed", "bal_unapplied",
		"bal_aging_current", "bal_aging_1_30", "bal_aging_31_60", "bal_aging_61_90", "bal_aging_91_120", "bal_aging_120_plus",
		"open_items", "oldest_due_date", "days_past_due", "stage", "service_state", "risk_tier", "pd", "arrangement_id",
		"on_hold", "source_partition", "source_offset", "kafka_partition", "kafka_offset", "ingested_at",
		"policy_version", "experiment_id", "arm", "blacklisted"}}
	GLTable = &TableSpec{"gl_entries", []string{"entry_id", "account_id", "entry_time", "kind", "currency", "amount",
		"debit_account", "credit_account", "reference", "description", "kafka_partition", "kafka_offset", "ingested_at"}}
	RiskFeaturesTable = &TableSpec{"risk_features", []string{"account_id", "snapshot_time", "segment", "days_past_due",
		"overdue_ratio", "utilisation", "late_payments_12m", "avg_days_to_pay", "reversals", "broken_promises",
		"disputes_opened", "tenure_days", "open_invoices", "overdue_amount", "oldest_due_date",
		"kafka_partition", "kafka_offset", "ingested_at"}}
	EventRecordsTable = &TableSpec{"event_records", []string{"kafka_partition", "kafka_offset", "event_time", "event_ms",
		"account_id", "event_id", "record_value", "ingested_at"}}
	DeadLettersTable = &TableSpec{"dead_letters", []string{"source_topic", "source_partition", "source_offset", "error_class",
		"reason", "dead_time", "record_key", "record_value", "kafka_partition", "kafka_offset", "ingested_at",
		"code", "value_size", "value_sha256", "truncated"}}
)

// SinkTables lists every table rows are built for, in a stable order.
func SinkTables() []*TableSpec {
	return []*TableSpec{EventsTable, InvoicesTable, PaymentsTable, AccountsTable, DisputesTable, ArrangementsTable,
		ActionsTable, RiskTable, StatusTable, RiskFeaturesTable, GLTable, DeadLettersTable, EventRecordsTable, PoliciesTable,
		GroupExposureTable, DebitNotesTable}
}

// Source locates the Kafka record a row was built from.
type Source struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Row is one row for one table, Values in Table.Columns order.
type Row struct {
	Table  *TableSpec
	Values []any
}

// Dec converts an Amount to the decimal ClickHouse's Decimal(18, 4) takes.
func Dec(a event.Amount) decimal.Decimal { return decimal.New(int64(a), -event.Scale) }

func utc(t time.Time) time.Time { return t.UTC() }

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// EventRows normalises one inbound event: always an events row, plus a row
// in the fact table of its kind (invoices, payments, accounts, disputes,
// arrangements; the operator events have none, see operatorRow). now is the ingestion time (the ReplacingMergeTree version).
func EventRows(ev event.Event, src Source, now time.Time) []Row {
	r := eventRow{id: ev.ID, at: utc(ev.Time), acct: ev.Account, kind: ev.Body.Kind().String(), source: ev.Source}
	var fact *Row
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		r.cur, r.amt, r.inv, r.issue, r.due, r.detail = string(b.Currency), b.Amount, b.InvoiceID, b.IssueDate, b.DueDate, b.BillCycle
		fact = &Row{InvoicesTable, []any{ev.Account, b.InvoiceID, ev.ID, r.at, string(b.Currency), Dec(b.Amount),
			b.IssueDate.Time(), b.DueDate.Time(), b.BillCycle, now}}
	case *event.InvoiceAdjusted:
		r.cur, r.amt, r.inv, r.ref, r.detail = string(b.Currency), b.Amount, b.InvoiceID, b.AdjustmentID, b.Type.String()
		if b.Reason != "" {
			r.detail += ": " + b.Reason
		}
	case *event.InvoiceCancelled:
		r.inv, r.detail = b.InvoiceID, b.Reason
	case *event.PaymentReceived:
		r.cur, r.amt, r.pay, r.detail, r.invs = string(b.Currency), b.Amount, b.PaymentID, b.Method, b.InvoiceIDs
		fact = &Row{PaymentsTable, []any{ev.Account, b.PaymentID, ev.ID, r.at, string(b.Currency), Dec(b.Amount),
			b.Method, strs(b.InvoiceIDs), now}}
	case *event.PaymentReversed:
		r.pay, r.detail = b.PaymentID, b.Reason
	case *event.Refund:
		r.cur, r.amt, r.pay, r.ref = string(b.Currency), b.Amount, b.PaymentID, b.RefundID
	case *event.AccountUpserted:
		r.cur, r.amt, r.detail = string(b.Currency), b.CreditLimit, string(b.Segment)
		consents := make([]string, len(b.Consents))
		for i, c := range b.Consents {
			consents[i] = string(c)
		}
		fact = &Row{AccountsTable, []any{ev.Account, ev.ID, r.at, string(b.Segment), b.ParentID, b.CreditClass,
			string(b.Currency), b.Timezone, Dec(b.CreditLimit), consents, strs(b.Exemptions), now}}
	case *event.AccountClosed:
		r.detail = b.Reason
	case *event.DisputeOpened:
		r.cur, r.amt, r.inv, r.ref, r.detail = string(b.Currency), b.Amount, b.InvoiceID, b.DisputeID, b.Reason
		fact = &Row{DisputesTable, []any{ev.Account, b.DisputeID, ev.ID, r.at, "OPEN", b.InvoiceID,
			string(b.Currency), Dec(b.Amount), Dec(0), b.Reason, now}}
	case *event.DisputeResolved:
		r.amt, r.ref, r.detail = b.CreditAmount, b.DisputeID, b.Outcome.String()
		fact = &Row{DisputesTable, []any{ev.Account, b.DisputeID, ev.ID, r.at, b.Outcome.String(), "",
			"", Dec(0), Dec(b.CreditAmount), "", now}}
	case *event.ArrangementCreated:
		var total event.Amount
		dues := make([]time.Time, len(b.Installments))
		amts := make([]decimal.Decimal, len(b.Installments))
		first, last := event.Date(0), event.Date(0)
		for i, in := range b.Installments {
			total += in.Amount
			dues[i], amts[i] = in.DueDate.Time(), Dec(in.Amount)
			if i == 0 || in.DueDate < first {
				first = in.DueDate
			}
			if in.DueDate > last {
				last = in.DueDate
			}
		}
		r.cur, r.amt, r.ref, r.detail, r.due = string(b.Currency), total, b.ArrangementID, b.Type.String(), last
		fact = &Row{ArrangementsTable, []any{ev.Account, b.ArrangementID, ev.ID, r.at, b.Type.String(), string(b.Currency),
			Dec(total), uint16(min(len(b.Installments), 65535)), first.Time(), last.Time(), dues, amts, now}}
	case *event.ArrangementCancelled:
		r.ref, r.detail = b.ArrangementID, b.Reason
	case *event.Hold:
		r.ref, r.detail, r.due = b.HoldID, b.Reason, event.DateOf(b.Until.UTC())
	case *event.Release:
		r.ref = b.HoldID
	case *event.ClockTick:
		r.detail = ""
	default:
		operatorRow(&r, ev.Body)
	}
	rows := []Row{{EventsTable, []any{r.id, r.at, r.acct, r.kind, r.source, r.cur, Dec(r.amt), r.inv, r.pay, r.ref,
		r.issue.Time(), r.due.Time(), r.detail, strs(r.invs), src.Topic, src.Partition, src.Offset, now}}}
	if fact != nil {
		rows = append(rows, *fact)
	}
	return rows
}

// EventRecordRow is the event_records row of an accepted record: its
// partition and offset on the accepted-events topic and its value
// unchanged, for `arrears simulate`.
func EventRecordRow(ev event.Event, at Source, value []byte, now time.Time) Row {
	return Row{EventRecordsTable, []any{at.Partition, at.Offset, utc(ev.Time), ev.Time.UnixMilli(), ev.Account, ev.ID,
		string(value), now}}
}

type eventRow struct {
	id, acct, kind, source, cur, inv, pay, ref, detail string
	at                                                 time.Time
	amt                                                event.Amount
	issue, due                                         event.Date
	invs                                               []string
}

// ActionRow is the dunning_actions row of a.
func ActionRow(a *event.DunningAction, src Source, now time.Time) Row {
	names := make([]string, len(a.Conditions))
	values := make([]string, len(a.Conditions))
	rules := make([]string, len(a.Conditions))
	for i, c := range a.Conditions {
		names[i], values[i], rules[i] = c.Name, c.Value, c.Rule
	}
	return Row{ActionsTable, []any{a.ActionID, a.Account, utc(a.Time), a.PolicyName, a.PolicyVersion, a.Stage,
		string(a.Type), string(a.Channel), a.Template, a.Queue, a.Priority, string(a.Currency), Dec(a.OverdueAmount),
		Dec(a.Amount), a.OldestDueDate.Time(), a.DaysPastDue, strs(a.Invoices), a.Reason, names, values, rules,
		src.Partition, src.Offset, now, a.ExperimentID, a.Arm}}
}

// RiskRow is the risk_events row of r.
func RiskRow(r *event.RiskEvent, src Source, now time.Time) Row {
	codes := make([]string, len(r.Reasons))
	weights := make([]float64, len(r.Reasons))
	for i, rc := range r.Reasons {
		codes[i], weights[i] = rc.Code, rc.Contribution
	}
	return Row{RiskTable, []any{r.EventID, r.Account, utc(r.Time), r.Score, r.PD, r.Tier, r.PreviousTier,
		codes, weights, r.ModelVersion, src.Partition, src.Offset, now}}
}

// StatusRow is the account_status row of s: the first balance flattened,
// every balance in the parallel bal_* arrays. The encoded State is not kept.
func StatusRow(s *event.AccountStatus, src Source, now time.Time) Row {
	n := len(s.Balances)
	curs := make([]string, n)
	cols := make([][]decimal.Decimal, 10)
	for i := range cols {
		cols[i] = make([]decimal.Decimal, n)
	}
	for i, b := range s.Balances {
		curs[i] = string(b.Currency)
		for j, a := range [10]event.Amount{b.Open, b.Overdue, b.Disputed, b.Unapplied,
			b.Aging[0], b.Aging[1], b.Aging[2], b.Aging[3], b.Aging[4], b.Aging[5]} {
			cols[j][i] = Dec(a)
		}
	}
	var p event.CurrencyBalance
	if n > 0 {
		p = s.Balances[0]
	}
	return Row{StatusTable, []any{s.Account, utc(s.Time), string(s.Segment), b2u(s.Closed), string(p.Currency),
		Dec(p.Open), Dec(p.Overdue), Dec(p.Disputed), Dec(p.Unapplied),
		Dec(p.Aging[0]), Dec(p.Aging[1]), Dec(p.Aging[2]), Dec(p.Aging[3]), Dec(p.Aging[4]), Dec(p.Aging[5]),
		curs, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9],
		s.OpenItems, s.OldestDueDate.Time(), s.DaysPastDue, s.Stage, s.ServiceState, s.RiskTier, s.PD, s.Arrangement,
		b2u(s.OnHold), s.SourcePartition, s.SourceOffset, src.Partition, src.Offset, now,
		s.PolicyVersion, s.ExperimentID, s.Arm, b2u(s.Blacklisted)}}
}

// RiskFeaturesRow is an account's risk features at a status record's time,
// with the overdue amount and oldest unpaid due date that label outcomes.
func RiskFeaturesRow(s *event.AccountStatus, f risk.Features, src Source, now time.Time) Row {
	var overdue event.Amount
	if len(s.Balances) > 0 {
		overdue = s.Balances[0].Overdue
	}
	return Row{RiskFeaturesTable, []any{s.Account, utc(s.Time), string(f.Segment), f.DaysPastDue,
		f.OverdueRatio, f.Utilisation, f.LatePayments12M, f.AvgDaysToPay, f.Reversals, f.BrokenPromises,
		f.DisputesOpened, f.TenureDays, f.OpenInvoices, Dec(overdue), s.OldestDueDate.Time(),
		src.Partition, src.Offset, now}}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// GLRow is the gl_entries row of g.
func GLRow(g *event.GLEntry, src Source, now time.Time) Row {
	return Row{GLTable, []any{g.EntryID, g.Account, utc(g.Time), g.Kind, string(g.Currency), Dec(g.Amount),
		g.DebitAccount, g.CreditAccount, g.Reference, g.Description, src.Partition, src.Offset, now}}
}

// DeadLetterRow is the dead_letters row of d (value_sha256 in hex).
func DeadLetterRow(d *event.DeadLetter, src Source, now time.Time) Row {
	return Row{DeadLettersTable, []any{d.Topic, d.Partition, d.Offset, d.ErrorClass, d.Reason, utc(d.Time),
		string(d.Key), string(d.Value), src.Partition, src.Offset, now,
		d.Code, d.ValueSize, hex.EncodeToString(d.ValueSHA256), b2u(d.Truncated)}}
}
