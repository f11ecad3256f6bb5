// Package replay runs input events through the pure core (processor/core)
// with the processor's partition clock semantics and no Kafka, Redis or
// Avro: per partition a clock that only moves forward with the input, the
// due wake-ups fired in (time, account) order before each event, then
// core.Apply at the partition clock, as processor/partition.go's step does.
//
// Two ways decide alike. A Book replays partitions in order and keeps every
// account decoded (`arrears bench` times the core with it). An Account
// replays one account at a time from its whole history, given each
// record's partition clock: no state outlives its account, so memory does
// not grow with the book (`arrears simulate` replays landed history under
// other policies with it). TestAccountMajorAgrees checks they agree.
//
// It owns the Book, the account-major replay and the wake-up index. It
// does no IO.
package replay
