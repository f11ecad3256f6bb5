package ledger

import "fmt"

// MaxAmount bounds every amount an event carries and every invoice total
// (10^11 currency units at event.Scale 4). With the item and payment limits
// below, sums over an account cannot overflow an int64.
const MaxAmount = 1_000_000_000_000_000

// maxCredit bounds an account's unapplied credit in one currency.
const maxCredit = 1 << 60

// maxDate bounds event dates (day 109,572 is 2270-01-01); day 0
// (1970-01-01) is the "unset" value of the Avro date and is rejected.
const maxDate = 109572

// Rules configure the ledger. The zero value is usable: every zero field
// takes its documented default.
type Rules struct {
	// RequireAccount rejects every event but AccountUpserted for an account
	// whose master data was never seen (reason unknown_account). Default
	// false: events may arrive before the account.
	RequireAccount bool
	// ReversalWindowDays is how long, counted from the payment date, a
	// payment's allocation record is kept so a PaymentReversed can re-open
	// exactly what it settled; later reversals are rejected as
	// unknown_payment. Fully settled or cancelled items are kept as long, and
	// as long as a kept record refers to them. Default 120.
	ReversalWindowDays int
	// DedupeDays is how long, counted in partition days from its
	// acceptance, an event id is remembered: a repeat within it is a
	// Duplicate whatever its payload. Default 35, at least 1.
	DedupeDays int
	// TombstoneDays is how long the id of an entity the account no longer
	// holds (a pruned invoice, payment, adjustment or dispute; a refund; an
	// ended arrangement) is remembered after it left: a repeat within it is
	// a Duplicate. Default 120: with the reversal window, a settled item or
	// a payment is recognised for at least 240 days after it settled or
	// was received, at about 9 bytes an id once pruned.
	TombstoneDays int
	// MaxItems bounds the items (open, or settled and kept) of an account;
	// an invoice beyond it is rejected as too_many_items. Default 1000.
	MaxItems int
	// MaxPayments bounds the kept payment allocation records; a payment
	// beyond it is rejected as too_many_items. Default 1000.
	MaxPayments int
}

// Defaults of Rules.
const (
	DefaultReversalWindowDays = 120
	DefaultDedupeDays         = 35
	DefaultTombstoneDays      = 120
	DefaultMaxItems           = 1000
	DefaultMaxPayments        = 1000
)

// DefaultRules returns Rules with every default filled in.
func DefaultRules() Rules {
	return Rules{
		ReversalWindowDays: DefaultReversalWindowDays,
		DedupeDays:         DefaultDedupeDays,
		TombstoneDays:      DefaultTombstoneDays,
		MaxItems:           DefaultMaxItems,
		MaxPayments:        DefaultMaxPayments,
	}
}

// Validate reports the first bad field.
func (r Rules) Validate() error {
	switch {
	case r.ReversalWindowDays < 0 || r.ReversalWindowDays > 36500:
		return fmt.Errorf("%w: reversal_window_days %d not in [0, 36500]", ErrInvalidRules, r.ReversalWindowDays)
	case r.DedupeDays < 0 || r.DedupeDays > 3660:
		return fmt.Errorf("%w: dedupe_days %d not in [0, 3660]", ErrInvalidRules, r.DedupeDays)
	case r.TombstoneDays < 0 || r.TombstoneDays > 36500:
		return fmt.Errorf("%w: tombstone_days %d not in [0, 36500]", ErrInvalidRules, r.TombstoneDays)
	case r.MaxItems < 0 || r.MaxItems > 1000:
		return fmt.Errorf("%w: max_items %d not in [0, 1000]", ErrInvalidRules, r.MaxItems)
	case r.MaxPayments < 0 || r.MaxPayments > 1000:
		return fmt.Errorf("%w: max_payments %d not in [0, 1000]", ErrInvalidRules, r.MaxPayments)
	}
	return nil
}

// withDefaults fills zero fields.
func (r Rules) withDefaults() Rules {
	if r.ReversalWindowDays == 0 {
		r.ReversalWindowDays = DefaultReversalWindowDays
	}
	if r.DedupeDays == 0 {
		r.DedupeDays = DefaultDedupeDays
	}
	if r.TombstoneDays == 0 {
		r.TombstoneDays = DefaultTombstoneDays
	}
	if r.MaxItems == 0 {
		r.MaxItems = DefaultMaxItems
	}
	if r.MaxPayments == 0 {
		r.MaxPayments = DefaultMaxPayments
	}
	return r
}
