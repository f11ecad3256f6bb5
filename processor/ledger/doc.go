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
// Arrangements, holds and clock ticks are dunning's; Apply ignores them.
package ledger
