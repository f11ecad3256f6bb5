package dunning

import (
	"fmt"
	"slices"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Limits bound the holds and arrangements ApplyEvent accepts. The zero
// value is usable: every zero field takes its default.
type Limits struct {
	// MaxHoldDays refuses a Hold whose Until is more than this many days
	// after now (ErrHoldTooLong). Default 90.
	MaxHoldDays int
	// MaxArrangementDays refuses an arrangement with an installment due
	// more than this many days after (or before) now's day
	// (ErrArrangementTooLong). Default 366.
	MaxArrangementDays int
	// MaxInstallments refuses an arrangement with more installments
	// (ErrArrangementTooLong). Default 52.
	MaxInstallments int
}

// Defaults of Limits.
const (
	DefaultMaxHoldDays        = 90
	DefaultMaxArrangementDays = 366
	DefaultMaxInstallments    = 52
)

// maxInstallmentAmount bounds one installment (the ledger's MaxAmount).
const maxInstallmentAmount = 1_000_000_000_000_000

func (l Limits) withDefaults() Limits {
	if l.MaxHoldDays <= 0 {
		l.MaxHoldDays = DefaultMaxHoldDays
	}
	if l.MaxArrangementDays <= 0 {
		l.MaxArrangementDays = DefaultMaxArrangementDays
	}
	if l.MaxInstallments <= 0 {
		l.MaxInstallments = DefaultMaxInstallments
	}
	return l
}

// ApplyEvent is the package's ApplyEvent with these limits.
func (l Limits) ApplyEvent(st State, ev event.Event, pol *policy.Policy, now time.Time) (State, error) {
	l = l.withDefaults()
	switch b := ev.Body.(type) {
	case *event.Hold:
		if max := now.Add(time.Duration(l.MaxHoldDays) * 24 * time.Hour); b.Until.After(max) {
			return st, fmt.Errorf("hold %q of event %s until %s: more than %d days ahead: %w",
				b.HoldID, ev.ID, b.Until.UTC().Format(time.RFC3339), l.MaxHoldDays, ErrHoldTooLong)
		}
	case *event.ArrangementCreated:
		if err := l.check(b, event.DateOf(now)); err != nil {
			return st, fmt.Errorf("arrangement %q of event %s: %w", b.ArrangementID, ev.ID, err)
		}
	}
	return applyEvent(st, ev, pol, now)
}

func (l Limits) check(b *event.ArrangementCreated, today event.Date) error {
	if err := checkArrangement(b); err != nil {
		return err
	}
	if n := len(b.Installments); n > l.MaxInstallments {
		return fmt.Errorf("%d installments, at most %d: %w", n, l.MaxInstallments, ErrArrangementTooLong)
	}
	h := event.Date(l.MaxArrangementDays)
	for i, in := range b.Installments {
		if in.DueDate > today+h || in.DueDate < today-h {
			return fmt.Errorf("installment %d due %s, more than %d days from %s: %w", i+1, in.DueDate, l.MaxArrangementDays, today, ErrArrangementTooLong)
		}
		if in.Amount > maxInstallmentAmount {
			return fmt.Errorf("installment %d amount %s: %w", i+1, in.Amount, ErrInvalidArrangement)
		}
	}
	return nil
}

// sameArrangement reports whether b repeats the tracked arrangement a.
func sameArrangement(a *Arrangement, b *event.ArrangementCreated) bool {
	return a.Type == b.Type && a.Currency == b.Currency && slices.Equal(a.Installments, b.Installments)
}

// LastDue is an arrangement's last installment due date (0 without
// installments): the core remembers its id until then plus the tombstone
// window.
func LastDue(b *event.ArrangementCreated) event.Date {
	if n := len(b.Installments); n > 0 {
		return b.Installments[n-1].DueDate
	}
	return 0
}
