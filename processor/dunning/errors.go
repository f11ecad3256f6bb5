package dunning

import "errors"

// Errors returned by ApplyEvent and State.UnmarshalBinary. ApplyEvent wraps
// them with the event's details; test with errors.Is.
var (
	// ErrInvalidArrangement is an ArrangementCreated that cannot be tracked
	// (no id, no installments, non-positive amounts, unordered due dates,
	// bad currency).
	ErrInvalidArrangement = errors.New("dunning: invalid arrangement")
	// ErrUnknownArrangement is a cancellation of an arrangement that is not
	// the account's active one.
	ErrUnknownArrangement = errors.New("dunning: unknown arrangement")
	// ErrArrangementTooLong is an arrangement beyond Limits: more
	// installments than MaxInstallments, or one due beyond
	// MaxArrangementDays.
	ErrArrangementTooLong = errors.New("dunning: arrangement beyond the limits")
	// ErrArrangementConflict repeats the active arrangement's id with other
	// installments, type or currency.
	ErrArrangementConflict = errors.New("dunning: arrangement id repeated with other content")
	// ErrInvalidHold is a Hold without an id.
	ErrInvalidHold = errors.New("dunning: invalid hold")
	// ErrHoldTooLong is a Hold ending more than Limits.MaxHoldDays ahead.
	ErrHoldTooLong = errors.New("dunning: hold beyond the limit")
	// ErrUnknownHold is a Release of a hold the account does not have.
	ErrUnknownHold = errors.New("dunning: unknown hold")
	// ErrInvalidOperator is an operator event dunning cannot take (no
	// exemption flag, no call-back or write-off id, an unknown call
	// outcome, a preferred channel without consent).
	ErrInvalidOperator = errors.New("dunning: invalid operator event")
	// ErrUnknownExemption clears an exemption the account does not have.
	ErrUnknownExemption = errors.New("dunning: unknown exemption")
	// ErrOperatorLimit is an operator event beyond the bounds of the
	// operator state (MaxOperatorExemptions, MaxCallbacks, MaxCallbackDays).
	ErrOperatorLimit = errors.New("dunning: operator state beyond the limits")
	// ErrNoPolicy is a call-back or write-off on an account no policy
	// applies to (the queue and GL accounts are the policy's).
	ErrNoPolicy = errors.New("dunning: no policy applies to the account")
	// ErrWriteOffExceedsBalance is a manual write-off larger than the open
	// balance (net of disputes) in its currency, or with nothing open.
	ErrWriteOffExceedsBalance = errors.New("dunning: write-off exceeds the open balance")
	// ErrStateVersion is an encoded state with an unknown version byte.
	ErrStateVersion = errors.New("dunning: unknown state version")
	// ErrStateCorrupt is an encoded state that is truncated or malformed.
	ErrStateCorrupt = errors.New("dunning: corrupt state")
)
