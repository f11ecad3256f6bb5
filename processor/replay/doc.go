// Package replay runs input events through the pure core (processor/core)
// with the processor's partition clock semantics and no Kafka, Redis or
// Avro: per partition a clock that only moves forward with the input, the
// due wake-ups fired in (time, account) order before each event, then
// core.Apply at the partition clock, as processor/partition.go's step does.
// `arrears bench` times the core with it and `arrears simulate` replays
// landed history under other policies with it.
//
// It owns the Book (every account's state, each partition's clock and
// wake-ups) and the wake-up index. It does no IO.
package replay
