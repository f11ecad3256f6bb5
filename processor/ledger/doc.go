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
//   - duplicates: a repeated event id (ring of recent ids) or a known entity
//     id (invoice, payment, adjustment, dispute) is a Duplicate, not an error;
//   - bounded growth: settled items and old payment records are pruned
//     after Rules.ReversalWindowDays (prune.go).
//
// Duplicates and their limits. An event is a Duplicate when:
//   - its id is in the account's ring of recent event-id hashes (64-bit
//     FNV-1a, Rules.RecentEvents slots, default 8). Only the kinds without
//     a kept entity id enter the ring (AccountUpserted, AccountClosed,
//     InvoiceCancelled, Refund, DisputeResolved), so it covers the last 8 of
//     those whatever the payment traffic; a refund also puts its refund id
//     there (refunds leave no entity), so a refund re-sent under a new
//     event id is caught while it is in the ring;
//   - or its entity is known: an invoice id the account holds, a payment id
//     with a kept allocation record (reversed or not), an adjustment id
//     already applied to its invoice, a dispute id opened (or resolved) on a
//     kept item, a cancellation of a cancelled invoice, a close of a closed
//     account. First write wins: a known id with different content is still
//     a Duplicate.
//
// After pruning (Rules.ReversalWindowDays, default 120 days) the ledger
// forgets settled items and old payments: a repeat of them would be applied
// again, and so would a refund, upsert or resolution that has left the ring.
// The processor's per-partition applied-offset check covers
// redelivery; these limits only matter for producers re-publishing old
// facts under new event ids.
//
// Time. The event's day (ev.Time) dates payments, settlements and counters;
// the partition clock (now) drives pruning and MaxDaysPastDue. Balance,
// Balances, Aging, OverdueItems and DaysPastDue take the calendar day of
// now in now's location: pass now.In(loc) for the account's timezone (the
// ledger loads no zone data itself).
//
// Arrangements, holds and clock ticks are dunning's; Apply ignores them.
package ledger
