package event

import (
	"crypto/sha256"
	"time"
	"unicode/utf8"
)

// ActionType is what a dunning action asks a downstream system to do.
// The values are bounded and safe as metric labels.
type ActionType string

// Dunning action types (DESIGN.md "Dunning").
const (
	ActionNotify            ActionType = "NOTIFY"
	ActionAgentTask         ActionType = "AGENT_TASK"
	ActionSuspend           ActionType = "SUSPEND"
	ActionBarOutgoing       ActionType = "BAR_OUTGOING"
	ActionThrottle          ActionType = "THROTTLE"
	ActionRestore           ActionType = "RESTORE"
	ActionAgency            ActionType = "AGENCY_PLACEMENT"
	ActionLegal             ActionType = "LEGAL_REFERRAL"
	ActionWriteOff          ActionType = "WRITE_OFF"
	ActionFee               ActionType = "FEE"
	ActionManualReview      ActionType = "MANUAL_REVIEW"
	ActionArrangementMet    ActionType = "ARRANGEMENT_KEPT"
	ActionArrangementBroken ActionType = "ARRANGEMENT_BROKEN"
)

// Condition is one value that met a stage's entry condition, for explanations.
type Condition struct {
	Name  string // e.g. "days_past_due"
	Value string // e.g. "11"
	Rule  string // e.g. ">= 11"
}

// DunningAction is one decided action on ar.dunning.actions.
type DunningAction struct {
	// ActionID is deterministic: the same input replayed gives the same id.
	ActionID      string
	Account       string
	Time          time.Time // partition clock when decided
	PolicyName    string
	PolicyVersion string
	Stage         string
	Type          ActionType
	Channel       Channel // for NOTIFY
	Template      string
	Queue         string // for AGENT_TASK
	Priority      int32
	Currency      Currency
	OverdueAmount Amount
	Amount        Amount // fee or write-off amount
	OldestDueDate Date
	DaysPastDue   int32
	Invoices      []string
	Reason        string
	Conditions    []Condition
	// ExperimentID and Arm name the champion/challenger experiment the
	// account is assigned in and its arm (ArmChampion, ArmChallenger);
	// both empty outside experiments.
	ExperimentID string
	Arm          string
}

// The arms of a champion/challenger experiment.
const (
	ArmChampion   = "champion"
	ArmChallenger = "challenger"
)

// ReasonCode is one contribution to a risk score.
type ReasonCode struct {
	Code         string
	Contribution float64
}

// RiskEvent is emitted on ar.risk.events when the tier changes or the
// probability of default moves past the configured threshold.
type RiskEvent struct {
	EventID      string
	Account      string
	Time         time.Time
	Score        int32
	PD           float64
	Tier         string
	PreviousTier string
	Reasons      []ReasonCode
	ModelVersion string
}

// CurrencyBalance is an account's position in one currency.
type CurrencyBalance struct {
	Currency  Currency
	Open      Amount // sum of open items
	Overdue   Amount // open and past due, excluding disputed
	Disputed  Amount
	Unapplied Amount // unapplied cash (credit)
	// Aging buckets of the open amount: current, 1-30, 31-60, 61-90, 91-120, 120+.
	Aging [6]Amount
}

// AccountStatus is the account's collections state after a change, on the
// compacted ar.account.status topic. State carries the full encoded account
// state so the topic doubles as the changelog Redis is restored from.
type AccountStatus struct {
	Account       string
	Time          time.Time
	Segment       Segment
	Closed        bool
	Balances      []CurrencyBalance
	OpenItems     int32
	OldestDueDate Date
	DaysPastDue   int32
	Stage         string
	ServiceState  string // ACTIVE, SUSPENDED, BARRED, THROTTLED
	RiskTier      string
	PD            float64
	Arrangement   string // active arrangement id, if any
	OnHold        bool
	// UnknownInvoiceRefs counts the invoice ids the account's payments
	// named that it did not hold (their cash went oldest due first).
	UnknownInvoiceRefs int32
	// CollectionsStatus is where the account is in collections (CRM):
	// NONE, IN_DUNNING, IN_ARRANGEMENT or WRITTEN_OFF.
	CollectionsStatus string
	// PolicyVersion is the version of the policy that governs the account
	// (empty when none applies); ExperimentID and Arm as on DunningAction.
	PolicyVersion string
	ExperimentID  string
	Arm           string
	// Blacklisted is the CRM blacklist flag, set by policy.
	Blacklisted bool
	// SourcePartition/SourceOffset locate the input that caused this status.
	SourcePartition int32
	SourceOffset    int64
	State           []byte
}

// GLEntry is a journal entry for finance on ar.gl.
type GLEntry struct {
	EntryID       string
	Account       string
	Time          time.Time
	Kind          string // WRITE_OFF, FEE, BAD_DEBT_PROVISION
	Currency      Currency
	Amount        Amount
	DebitAccount  string
	CreditAccount string
	Reference     string
	Description   string
	// InvoiceID is the invoice of the debit note booked with the entry
	// (fees, interest, a recovery after write-off); "" for other kinds.
	InvoiceID string
}

// DeadLetter is rejected input on ar.dlq, with the reason and where it came from.
// Build one with NewDeadLetter so that Key and Value are bounded.
type DeadLetter struct {
	Reason     string
	ErrorClass string // bounded: decode, validation, ledger, sink, ...
	// Code is the machine-readable reason (FUTURE_EVENT_TIME, KEY_MISMATCH,
	// ...); empty for older records.
	Code      string
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	// Value is the original value, or its first MaxPayload bytes when it
	// was longer (Truncated).
	Value []byte
	// ValueSize and ValueSHA256 describe the whole original value, so a
	// truncated dead letter still identifies what was rejected.
	ValueSize   int64
	ValueSHA256 []byte
	Truncated   bool
	Time        time.Time
}

// DefaultMaxDeadLetterPayload is dlq.max_payload_bytes' default: how much of
// a rejected value a dead letter copies. It keeps every dead letter well
// under Kafka's default 1 MB record limit, whatever the input was.
const DefaultMaxDeadLetterPayload = 64 << 10

// maxDeadLetterKey bounds the copied key the same way (keys are account ids).
const maxDeadLetterKey = 1 << 10

// NewDeadLetter builds the dead letter of a rejected record: its coordinates,
// the reason, the size and SHA-256 of the whole value and at most
// maxPayload bytes of it (<= 0: DefaultMaxDeadLetterPayload). The processor
// and the sink both build their dead letters here.
func NewDeadLetter(topic string, partition int32, offset int64, key, value []byte, class, code, reason string, at time.Time, maxPayload int) *DeadLetter {
	if maxPayload <= 0 {
		maxPayload = DefaultMaxDeadLetterPayload
	}
	sum := sha256.Sum256(value)
	d := &DeadLetter{
		Reason: truncateString(reason, 1024), ErrorClass: class, Code: code,
		Topic: topic, Partition: partition, Offset: offset,
		Key: key, Value: value, ValueSize: int64(len(value)), ValueSHA256: sum[:], Time: at,
	}
	if d.Value == nil {
		d.Value = []byte{}
	}
	if len(d.Value) > maxPayload {
		d.Value = d.Value[:maxPayload]
		d.Truncated = true
	}
	if len(d.Key) > maxDeadLetterKey {
		d.Key = d.Key[:maxDeadLetterKey]
		d.Truncated = true
	}
	return d
}

// truncateString cuts s to at most n bytes on a rune boundary.
func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
