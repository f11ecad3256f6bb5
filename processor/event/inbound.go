package event

import "time"

// Event is one inbound record of ar.events: the envelope every producer
// fills (id, time, source, account) and a typed Body.
type Event struct {
	// ID is the producer's unique event id; the ledger ignores a repeat.
	ID string
	// Time is when the fact happened at the source; it drives the partition clock.
	Time time.Time
	// Source names the producing system ("billing", "gateway:adyen", "crm").
	Source string
	// Account is the account id, also the Kafka key. Empty only for ClockTick.
	Account string
	// Body is one of the *InvoiceIssued ... *ClockTick types below.
	Body Body
}

// Body is implemented by every inbound payload type.
type Body interface{ Kind() Kind }

// Kind names an inbound event type; its String is the Avro record name.
type Kind uint8

// The inbound kinds, in the order of the Avro payload union.
const (
	KindUnknown Kind = iota
	KindInvoiceIssued
	KindInvoiceAdjusted
	KindInvoiceCancelled
	KindPaymentReceived
	KindPaymentReversed
	KindRefund
	KindAccountUpserted
	KindAccountClosed
	KindDisputeOpened
	KindDisputeResolved
	KindArrangementCreated
	KindArrangementCancelled
	KindHold
	KindRelease
	KindClockTick
	KindAccountReopened
	// Operator events (the API of issue 12, operator.go).
	KindExemptionSet
	KindExemptionCleared
	KindContactPreferencesChanged
	KindCeaseContact
	KindCallLogged
	KindCallbackScheduled
	KindNoteAdded
	KindWriteOffRequested
	KindAgencyRecalled
	// Collections-partner events (agency and legal lifecycle, operator.go).
	KindAgencyReturned
	KindLegalCaseUpdated
	// KindAccountErased is the right-to-erasure request (operator.go).
	KindAccountErased
	// Collections-group events, written by the group stage (group.go).
	KindGroupContext
	KindGroupServiceChange
	KindGroupConditions
	kindCount
)

var kindNames = [...]string{
	"Unknown", "InvoiceIssued", "InvoiceAdjusted", "InvoiceCancelled", "PaymentReceived",
	"PaymentReversed", "Refund", "AccountUpserted", "AccountClosed", "DisputeOpened",
	"DisputeResolved", "ArrangementCreated", "ArrangementCancelled", "Hold", "Release", "ClockTick",
	"AccountReopened", "ExemptionSet", "ExemptionCleared", "ContactPreferencesChanged", "CeaseContact",
	"CallLogged", "CallbackScheduled", "NoteAdded", "WriteOffRequested", "AgencyRecalled", "AgencyReturned",
	"LegalCaseUpdated", "AccountErased", "GroupContext", "GroupServiceChange",
	"GroupConditions",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Unknown"
}

// Kinds lists every valid inbound kind (bounded: safe as a metric label).
func Kinds() []Kind {
	ks := make([]Kind, 0, kindCount-1)
	for k := KindInvoiceIssued; k < kindCount; k++ {
		ks = append(ks, k)
	}
	return ks
}

// KindByName maps an Avro record name back to its Kind.
func KindByName(name string) Kind {
	for k := KindInvoiceIssued; k < kindCount; k++ {
		if kindNames[k] == name {
			return k
		}
	}
	return KindUnknown
}

// InvoiceIssued opens a receivable.
type InvoiceIssued struct {
	InvoiceID string
	Currency  Currency
	Amount    Amount
	IssueDate Date
	DueDate   Date
	// BillCycle is the bill run's cycle code, informational.
	BillCycle string
}

// AdjustmentType distinguishes credit from debit notes.
type AdjustmentType uint8

const (
	// Credit reduces the invoice's open amount (credit note).
	Credit AdjustmentType = iota + 1
	// Debit increases it (debit note, fees).
	Debit
)

func (t AdjustmentType) String() string {
	switch t {
	case Credit:
		return "CREDIT"
	case Debit:
		return "DEBIT"
	}
	return "UNKNOWN"
}

// InvoiceAdjusted is a credit or debit note against one invoice.
type InvoiceAdjusted struct {
	AdjustmentID string
	InvoiceID    string
	Type         AdjustmentType
	Currency     Currency
	Amount       Amount
	Reason       string
}

// InvoiceCancelled removes an invoice's open amount entirely.
type InvoiceCancelled struct {
	InvoiceID string
	Reason    string
}

// PaymentReceived is cash in. With InvoiceIDs empty it is allocated oldest due first.
type PaymentReceived struct {
	PaymentID  string
	Currency   Currency
	Amount     Amount
	Method     string
	InvoiceIDs []string
}

// PaymentReversed undoes a payment (bounce, chargeback); what it settled re-opens.
type PaymentReversed struct {
	PaymentID string
	Reason    string
}

// Refund pays unapplied credit back to the customer.
type Refund struct {
	RefundID  string
	Currency  Currency
	Amount    Amount
	PaymentID string
}

// Segment is the commercial segment that selects a dunning policy.
type Segment string

// The four segments of DESIGN.md.
const (
	Prepaid   Segment = "prepaid"
	Postpaid  Segment = "postpaid"
	Corporate Segment = "corporate"
	Wholesale Segment = "wholesale"
)

// Valid reports whether s is one of the four segments.
func (s Segment) Valid() bool {
	switch s {
	case Prepaid, Postpaid, Corporate, Wholesale:
		return true
	}
	return false
}

// Channel is a contact channel.
type Channel string

// Contact channels.
const (
	Email  Channel = "email"
	SMS    Channel = "sms"
	Letter Channel = "letter"
	Push   Channel = "push"
)

// AccountUpserted creates or replaces an account's master data.
type AccountUpserted struct {
	Segment     Segment
	ParentID    string
	CreditClass string
	Currency    Currency
	// Timezone is an IANA name ("Europe/Berlin"); empty means UTC.
	Timezone    string
	CreditLimit Amount
	// Consents lists the channels the customer agreed to be contacted on.
	Consents []Channel
	// Exemptions are flags such as "VIP" or "GOVERNMENT" that route the
	// account to manual review instead of automatic actions.
	Exemptions []string
}

// AccountClosed closes an account; further payments and new invoices on it
// are rejected until an AccountReopened.
type AccountClosed struct{ Reason string }

// AccountReopened opens a closed account again (a no-op on an open one).
type AccountReopened struct{ Reason string }

// DisputeOpened puts (part of) an invoice in dispute.
type DisputeOpened struct {
	DisputeID string
	InvoiceID string
	Currency  Currency
	Amount    Amount
	Reason    string
}

// DisputeOutcome is how a dispute ended.
type DisputeOutcome uint8

const (
	// Upheld: the customer was right; CreditAmount (if any) is credited.
	Upheld DisputeOutcome = iota + 1
	// Rejected: the amount returns to dunning after the policy's grace.
	Rejected
	// Withdrawn: the customer withdrew it; like Rejected without grace.
	Withdrawn
)

func (o DisputeOutcome) String() string {
	switch o {
	case Upheld:
		return "UPHELD"
	case Rejected:
		return "REJECTED"
	case Withdrawn:
		return "WITHDRAWN"
	}
	return "UNKNOWN"
}

// DisputeResolved closes a dispute.
type DisputeResolved struct {
	DisputeID string
	Outcome   DisputeOutcome
	// CreditAmount, when > 0, is credited to the disputed invoice.
	CreditAmount Amount
}

// ArrangementType distinguishes a promise to pay from an installment plan.
type ArrangementType uint8

const (
	// Promise is a single promised payment.
	Promise ArrangementType = iota + 1
	// InstallmentPlan is several scheduled payments.
	InstallmentPlan
)

func (t ArrangementType) String() string {
	switch t {
	case Promise:
		return "PROMISE"
	case InstallmentPlan:
		return "INSTALLMENT_PLAN"
	}
	return "UNKNOWN"
}

// Installment is one scheduled payment of an arrangement.
type Installment struct {
	DueDate Date
	Amount  Amount
}

// ArrangementCreated records a promise to pay or an installment plan.
type ArrangementCreated struct {
	ArrangementID string
	Type          ArrangementType
	Currency      Currency
	Installments  []Installment
}

// ArrangementCancelled cancels an arrangement (dunning resumes).
type ArrangementCancelled struct {
	ArrangementID string
	Reason        string
}

// Hold pauses dunning for the account until Until (manual pause).
type Hold struct {
	HoldID string
	Until  time.Time
	Reason string
}

// Release ends a hold early.
type Release struct{ HoldID string }

// ClockTick advances a partition's clock. Partition is the partition it was
// produced to (-1 when unknown); it carries no account.
type ClockTick struct{ Partition int32 }

func (*InvoiceIssued) Kind() Kind        { return KindInvoiceIssued }
func (*InvoiceAdjusted) Kind() Kind      { return KindInvoiceAdjusted }
func (*InvoiceCancelled) Kind() Kind     { return KindInvoiceCancelled }
func (*PaymentReceived) Kind() Kind      { return KindPaymentReceived }
func (*PaymentReversed) Kind() Kind      { return KindPaymentReversed }
func (*Refund) Kind() Kind               { return KindRefund }
func (*AccountUpserted) Kind() Kind      { return KindAccountUpserted }
func (*AccountClosed) Kind() Kind        { return KindAccountClosed }
func (*DisputeOpened) Kind() Kind        { return KindDisputeOpened }
func (*DisputeResolved) Kind() Kind      { return KindDisputeResolved }
func (*ArrangementCreated) Kind() Kind   { return KindArrangementCreated }
func (*ArrangementCancelled) Kind() Kind { return KindArrangementCancelled }
func (*Hold) Kind() Kind                 { return KindHold }
func (*Release) Kind() Kind              { return KindRelease }
func (*ClockTick) Kind() Kind            { return KindClockTick }
func (*AccountReopened) Kind() Kind      { return KindAccountReopened }
