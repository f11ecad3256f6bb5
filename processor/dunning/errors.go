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
	// ErrInvalidHold is a Hold without an id.
	ErrInvalidHold = errors.New("dunning: invalid hold")
	// ErrUnknownHold is a Release of a hold the account does not have.
	ErrUnknownHold = errors.New("dunning: unknown hold")
	// ErrStateVersion is an encoded state with an unknown version byte.
	ErrStateVersion = errors.New("dunning: unknown state version")
	// ErrStateCorrupt is an encoded state that is truncated or malformed.
	ErrStateCorrupt = errors.New("dunning: corrupt state")
)
