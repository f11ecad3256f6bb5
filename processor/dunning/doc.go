// Package dunning decides, per account, which collections actions are due
// under a policy (DESIGN.md "Dunning").
//
// It is pure: no Kafka, Redis, ClickHouse, network or file IO, and no
// clock: time comes only from the now argument (the partition clock). The
// processor owns the IO:
//
//  1. For every event of an account it first applies the event to the
//     receivables ledger, then calls ApplyEvent (arrangements, holds and
//     dispute outcomes are dunning's own state; other kinds are no-ops),
//     then Evaluate with an Input filled from the ledger and a Trigger
//     describing the event.
//  2. It stores Decision.NextWake in the partition's timer set and calls
//     Evaluate again (Trigger zero) when the partition clock passes it.
//  3. It emits Decision.Actions and Decision.GL, applies
//     Decision.DebitNotes to the ledger as debit notes (fees), and reports
//     Decision.Outcomes to the ledger (a broken arrangement feeds the risk
//     counters).
//  4. It stores the returned State (MarshalBinary: compact, versioned).
//
// Dunning is account-level: one action covers every overdue item, as in
// the TimelyBill example. An episode starts when the overdue amount (net of
// disputes) reaches the policy's minimum past the grace days and ends when
// nothing is overdue; the episode number makes action ids unique and
// deterministic: an action id is a hash of the account, policy version,
// episode, stage, action index and scheduled instant, so replaying the same
// input yields the same ids.
//
// Sim drives one account through time with a ticking clock (sim.go), the
// way the processor does, for the golden timelines and the simulation; it
// is the package's only export that production code does not call.
//
// ApplyOperator (operator.go) takes the operator API's events
// (exemptions, contact preferences, cease-contact, calls, call-backs,
// manual write-offs) instead of ApplyEvent; Evaluate acts on them first
// (operator_eval.go, operator_writeoff.go).
//
// The finance lifecycle (issue 15) is dunning's too: ApplyPartner records
// the agencies' and law firms' events (partner.go: placement, recall,
// return, legal case), Accrue accrues late-payment interest on the account
// as the previous step left it (the core calls it before each step;
// interest.go), and Evaluate books commission, legal fees, interest
// postings and month-end provisions as GL entries and debit notes. That
// state (Finance) is encoded on its own (partner_codec.go) as an optional
// fourth part of the core's account state.
//
// Limits (limits.go) bound holds (MaxHoldDays) and arrangements
// (MaxArrangementDays, MaxInstallments); the core passes the configured
// ones, ApplyEvent uses the defaults.
package dunning
