// Package processor runs arrears' partition-owned processing loop: it fetches
// input records from Kafka in a consumer group, decodes them, applies them to
// per-account state with the pure core, emits outputs and the input offsets
// in one Kafka transaction, then writes the committed state to the store
// (Redis) in one fenced, idempotent call per partition. It does IO through
// franz-go and the small Store and Codec interfaces it declares.
//
// loop.go holds the whole loop, each step a named call:
// fetch -> decode -> fire timers -> apply -> emit -> commit -> store.
// partition.go holds the per-partition steps, admit.go the envelope rules
// and the live-time clock guard, misroute.go the per-record co-partitioning
// (a record not on its key's murmur2 partition is forwarded there in the
// transaction, or dead-lettered), errors.go the one classifier (retry,
// dead-letter, fatal), emitter.go the transaction's outputs, watch.go the
// stall detection behind /readyz, restore.go the changelog catch-up,
// policyfeed*.go the published policy versions (ar.policies: read after
// each poll when due, handed to the core as a policy.Timeline; apply).
//
// Processing model (DESIGN.md "Processing model"):
//   - one consumer group session (franz-go GroupTransactSession); each poll is
//     split by input partition, and one goroutine per partition applies that
//     partition's records: nothing else touches a partition's state;
//   - all partitions' outputs of one poll, and the input offsets, commit in
//     one transaction; readers use read_committed;
//   - after the commit each partition's batch goes to the store, guarded by
//     the owner epoch and the last applied offset;
//   - the status topic is the changelog: every changed account's full state is
//     in it, so a new owner (or a flushed Redis) is caught up from it;
//   - time is the partition clock, moved only by input records; timers fire
//     when the clock passes them, before the record that moved the clock.
package processor
