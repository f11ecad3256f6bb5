// Package ledger is arrears' receivables ledger (DESIGN.md "Receivables
// ledger"): per account, the master data, the open items, the payments'
// allocation records and unapplied credit, per-currency balances and aging,
// and the counters risk and analytics are fed from.
//
// It is pure: no Kafka, Redis, ClickHouse, network, file or clock IO. The
// processor loads an Account (UnmarshalBinary), calls Apply with the event
// and the partition clock, and stores the account again (MarshalBinary)
// when Result.Changed; a *RejectError goes to the dead-letter topic with its
// Reason as the metric label, and the account is then untouched.
//
// What the ledger owns:
//   - items: InvoiceIssued opens one; credit and debit notes
//     (InvoiceAdjusted), InvoiceCancelled and upheld disputes change it;
//   - payments: allocated to the invoices they name, then oldest due first
//     (allocation.go); the rest is unapplied credit that later invoices use
//     automatically; PaymentReversed re-opens exactly what the payment
//     settled and drops the credit it left; Refund pays credit back;
//   - disputes: DisputeOpened marks part of an item disputed (not overdue,
//     still aged), DisputeResolved clears it;
//   - balances and aging as of an instant (aging.go), counters (counters.go);
//   - duplicates: a repeated event id or a known entity id is a Duplicate,
//     not an error; a known entity id with other content is rejected
//     (id_conflict);
//   - closing: AccountClosed refuses payments and new invoices
//     (closed_account) until AccountReopened;
//   - bounded growth: settled items and old payment records are pruned
//     after Rules.ReversalWindowDays (prune.go).
//
// Idempotence (dedupe.go). An event is a Duplicate when:
//   - its event id was accepted by the account within Rules.DedupeDays
//     (default 35) partition days, whatever its payload: every accepted
//     event's id is kept as a 48-bit hash (FNV-1a) with its day (7-8 bytes
//     an event) and pruned by the partition clock. Dunning's kinds
//     (arrangements, holds) are recorded by the core through NoteEvent;
//   - or it repeats an entity the account holds with the same content: an
//     invoice (same currency, issue and due date, and amount unless the
//     invoice was adjusted or cancelled since), a payment (same currency
//     and amount), an adjustment applied to the same invoice, a dispute
//     (same invoice and amount), a cancellation of a cancelled invoice, a
//     reversal of a reversed payment, a resolution of a resolved dispute, a
//     close of a closed account. The same id with other content is a
//     *RejectError with reason id_conflict: the first write stands;
//   - or it repeats an entity the account no longer holds, within
//     Rules.TombstoneDays (default 120) of its leaving: pruned invoices,
//     cancelled invoices, payments, reversed payments, adjustments and
//     disputes leave a hash of their id in the gone log when pruned;
//     refunds (which leave no entity) when applied; arrangements (the
//     core's RememberEntity) until their last installment's due date plus
//     the window. Content is gone with the entity, so any repeat is a
//     Duplicate.
//
// Each log holds at most 4096 entries (the oldest go first). Hash
// collisions are the only inexactness: with 48-bit hashes and a few dozen
// entries an account, a wrong Duplicate is about 1 in 10^13 events (a
// book taking 10^10 events a year sees one every few hundred years).
// The processor's per-partition applied-offset check covers redelivery;
// these rules cover producers re-publishing facts under the same or new
// event ids.
//
// Unknown invoices. A payment that names invoices the account does not
// hold is still applied: the cash settles the named invoices it can, then
// oldest due first, then stays as unapplied credit (allocation.go); the
// unknown names are listed in Result.UnknownInvoices and counted in
// Counters.UnknownInvoiceRefs, which the account status carries.
//
// Rejections carry a Reason (a bounded snake_case metric label) and a
// stable machine code, Reason.Code (the label upper-cased: ID_CONFLICT,
// CLOSED_ACCOUNT, ...), used as the dead-letter code.
//
// Time. The event's day (ev.Time) dates payments, settlements and counters;
// the partition clock (now) drives pruning and MaxDaysPastDue. Balance,
// Balances, Aging, OverdueItems and DaysPastDue take the calendar day of
// now in now's location: pass now.In(loc) for the account's timezone (the
// ledger loads no zone data itself).
//
// Arrangements, holds and clock ticks are dunning's; Apply ignores them.
package ledger
