// Package event defines the domain records that flow through arrears: the
// inbound receivables events (invoices, payments, adjustments, accounts,
// disputes, arrangements, holds, clock ticks) and the outbound effects
// (dunning actions, risk events, account status, GL entries, dead letters).
//
// It is pure: plain Go values with no IO and no dependency on Avro, Kafka,
// Redis or ClickHouse. The schemas package maps these types to and from Avro;
// ledger, dunning and risk consume and produce them.
package event
