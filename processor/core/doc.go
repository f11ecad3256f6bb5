// Package core is the pure decision step of arrears: it applies one event, or
// one fired timer, to an account's state and returns the effects (status,
// dunning actions, risk events, GL entries, the next wake-up). It composes
// the ledger, dunning and risk packages and does no IO; the processor runs it
// live, and replay and simulation run the very same code.
package core
