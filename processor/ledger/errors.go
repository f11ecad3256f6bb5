package ledger

import (
	"errors"
	"fmt"
	"strings"
)

// Reason is why the ledger rejected an event. The set is closed and small,
// so a Reason is safe as a metric label; its String is snake_case.
type Reason uint8

// Rejection reasons.
const (
	// ReasonInvalidField is a missing id, an unknown enum value or an empty
	// required field.
	ReasonInvalidField Reason = iota + 1
	// ReasonNonPositiveAmount is an amount <= 0 where a positive one is required.
	ReasonNonPositiveAmount
	// ReasonAmountOutOfRange is an amount above MaxAmount.
	ReasonAmountOutOfRange
	// ReasonUnknownCurrency is a currency that is not an ISO 4217 code.
	ReasonUnknownCurrency
	// ReasonCurrencyMismatch is an event whose currency differs from the
	// invoice or payment it names.
	ReasonCurrencyMismatch
	// ReasonUnknownInvoice names an invoice the account does not hold.
	ReasonUnknownInvoice
	// ReasonUnknownPayment names a payment the account does not hold (never
	// seen, or pruned after the reversal window).
	ReasonUnknownPayment
	// ReasonUnknownDispute resolves a dispute that was never opened.
	ReasonUnknownDispute
	// ReasonUnknownAccount is an event for an account without master data
	// while Rules.RequireAccount is set.
	ReasonUnknownAccount
	// ReasonClosedAccount is a payment or a new invoice on a closed account
	// (AccountReopened opens it again).
	ReasonClosedAccount
	// ReasonRefundExceedsCredit is a refund above the unapplied credit.
	ReasonRefundExceedsCredit
	// ReasonCreditExceedsInvoice is a credit note (or an upheld dispute's
	// credit) above the invoice's current amount.
	ReasonCreditExceedsInvoice
	// ReasonDisputeExceedsOpen disputes more than the undisputed open amount.
	ReasonDisputeExceedsOpen
	// ReasonInvoiceCancelled adjusts or disputes a cancelled invoice.
	ReasonInvoiceCancelled
	// ReasonInvalidDates is a due date before the issue date or a date out
	// of range.
	ReasonInvalidDates
	// ReasonTooManyItems would take the account past Rules.MaxItems open
	// items or Rules.MaxPayments allocation records.
	ReasonTooManyItems
	// ReasonIDConflict repeats an entity id the account knows (invoice,
	// payment, adjustment, dispute) with different content: the first
	// write stands and the repeat goes to the dead-letter topic.
	ReasonIDConflict
	reasonCount
)

var reasonNames = [...]string{
	"unknown",
	"invalid_field",
	"negative_or_zero_amount",
	"amount_out_of_range",
	"unknown_currency",
	"currency_mismatch",
	"unknown_invoice",
	"unknown_payment",
	"unknown_dispute",
	"unknown_account",
	"closed_account",
	"refund_exceeds_credit",
	"credit_exceeds_invoice",
	"dispute_exceeds_open",
	"invoice_cancelled",
	"invalid_dates",
	"too_many_items",
	"id_conflict",
}

// String returns the reason's metric label, e.g. "refund_exceeds_credit".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Code is the reason's stable machine code, its String upper-cased (e.g.
// "REFUND_EXCEEDS_CREDIT"): the dead-letter code of a rejection.
func (r Reason) Code() string { return strings.ToUpper(r.String()) }

// Reasons lists every rejection reason, for pre-registering metric labels.
func Reasons() []Reason {
	rs := make([]Reason, 0, reasonCount-1)
	for r := ReasonInvalidField; r < reasonCount; r++ {
		rs = append(rs, r)
	}
	return rs
}

// RejectError is an event the ledger refuses. The account is untouched and
// the event belongs on the dead-letter topic. Error() reads
// "<reason>: <detail>", e.g. "refund_exceeds_credit: refund R1 of 50.0000
// EUR exceeds the unapplied credit of 20.0000 EUR".
type RejectError struct {
	Reason Reason
	Detail string
}

func (e *RejectError) Error() string { return e.Reason.String() + ": " + e.Detail }

// Code is the rejection's stable machine code (Reason.Code).
func (e *RejectError) Code() string { return e.Reason.Code() }

// Is makes errors.Is(err, &RejectError{Reason: r}) match any rejection with
// reason r.
func (e *RejectError) Is(target error) bool {
	t, ok := target.(*RejectError)
	return ok && t.Reason == e.Reason && (t.Detail == "" || t.Detail == e.Detail)
}

// ReasonOf returns the rejection reason of err, or 0 when err is not a
// *RejectError.
func ReasonOf(err error) Reason {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason
	}
	return 0
}

func reject(r Reason, format string, args ...any) error {
	return &RejectError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// Errors of UnmarshalBinary and Rules.Validate.
var (
	// ErrStateVersion is an encoded account with an unknown version byte.
	ErrStateVersion = errors.New("ledger: unknown account state version")
	// ErrStateCorrupt is an encoded account that is truncated or malformed.
	ErrStateCorrupt = errors.New("ledger: corrupt account state")
	// ErrInvalidRules is a Rules value that failed validation.
	ErrInvalidRules = errors.New("ledger: invalid rules")
)
