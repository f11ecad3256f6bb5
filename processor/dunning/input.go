package dunning

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Input is what the processor knows about the account when it calls
// Evaluate, filled from the account master data and the ledger.
type Input struct {
	Account     string
	Segment     event.Segment
	CreditClass string
	// Parent is the account's parent_id ("" none): under a group-level
	// policy an account with a parent is dunned by its group (group.go).
	Parent   string
	RiskTier string
	// PD is the risk state's probability of default (provisions).
	PD float64
	// Consents are the channels the customer agreed to be contacted on.
	Consents []event.Channel
	// Exemptions are the account's flags (VIP, GOVERNMENT...); the policy
	// says which route to manual review.
	Exemptions []string
	// Items are the account's open items with their open amount net of
	// disputes (items fully disputed or settled may be left out). Evaluate
	// itself decides which are past due at now in the account's time zone:
	// an item is past due from the day after its due date.
	Items []Item
	// Unapplied is the account's unapplied credit in the Trigger's
	// currency after a PaymentReceived: what the payment may recover of a
	// write-off (writtenoff.go).
	Unapplied event.Amount
	// Disputed is the amount under dispute per currency. With nothing
	// overdue but something disputed the episode pauses instead of ending.
	Disputed map[event.Currency]event.Amount
	// Trigger describes the event that caused this evaluation (zero for a
	// timer).
	Trigger Trigger
	// SkipExplanation leaves Decision.Explanation empty (nothing to do with
	// quiet hours): the live path emits actions with their own reasons and
	// never reads it, and formatting it on every evaluation is a measurable
	// share of the processor's CPU.
	SkipExplanation bool
}

// Item is one open receivable.
type Item struct {
	InvoiceID string
	Currency  event.Currency
	DueDate   event.Date
	// Open is the open amount excluding any disputed part.
	Open event.Amount
}

// Trigger is the event an evaluation follows. Payments carry their amount
// so an active arrangement can count what was paid toward it.
type Trigger struct {
	// Kind is the event's kind; KindUnknown (zero) means a timer fired.
	Kind    event.Kind
	EventID string
	// PaymentID, Currency and Amount are set for PaymentReceived (the
	// amount received) and PaymentReversed (the amount reversed, in the
	// original payment's currency).
	PaymentID string
	Currency  event.Currency
	Amount    event.Amount
}

// Decision is what one evaluation decided.
type Decision struct {
	// Actions are to be emitted on ar.dunning.actions, in order.
	Actions []event.DunningAction
	// GL entries (fees, write-offs) are to be emitted on ar.gl.
	GL []event.GLEntry
	// DebitNotes are fees the processor applies to the ledger as debit
	// notes (InvoiceAdjusted of type Debit on the oldest overdue invoice of
	// the fee's currency); AdjustmentID is deterministic, and NoteEntry
	// names the GL entry booked with each.
	DebitNotes []event.InvoiceAdjusted
	// CreditNotes are write-offs the processor applies to the ledger as
	// credit notes (a reversed recovery written off again, writtenoff.go);
	// AdjustmentID is deterministic.
	CreditNotes []event.InvoiceAdjusted
	// Outcomes report kept and broken arrangements (and installments).
	Outcomes []ArrangementOutcome
	// NextWake is when Evaluate wants to run again (zero: no timer).
	NextWake time.Time
	// Explanation says in a line what happened and why.
	Explanation string
}

// ArrangementOutcome is an installment kept, an arrangement fully kept, or
// an arrangement broken.
type ArrangementOutcome struct {
	ArrangementID string
	Type          event.ArrangementType
	// Kept is false for a broken arrangement.
	Kept bool
	// Installment is the 1-based installment kept or missed.
	Installment int
	// Complete is set when the whole arrangement is kept.
	Complete bool
	Time     time.Time
}
