package processor

import (
	"context"
	"time"
)

// Store is what the processor needs from the state store (Redis). Every call
// concerns one partition, whose keys share the hash tag {p<N>} so each write
// is atomic on one node, also on Redis Cluster.
type Store interface {
	// Claim makes this process the owner of partition p: it bumps and returns
	// the partition's owner epoch (fencing any previous owner) with the
	// partition's metadata.
	Claim(ctx context.Context, p int32) (Meta, error)
	// Load returns the stored state and timer of the given accounts; absent
	// accounts are missing from the map. It checks, in the same atomic read,
	// that epoch is still the partition's (else ErrFenced, or ErrLost when
	// the partition's metadata is gone), so that accounts of a flushed store
	// are never taken for new ones. Epoch 0 reads without the check (tools).
	Load(ctx context.Context, p int32, epoch int64, accounts []string) (map[string]Stored, error)
	// Due returns, fenced like Load, the first limit timers of p due at or
	// before until (unix ms), in (time, account) order: one page of the
	// partition's timer index, which stays in the store.
	Due(ctx context.Context, p int32, epoch int64, until int64, limit int) ([]Timer, error)
	// Apply writes one committed batch atomically, if and only if epoch is still
	// the partition's epoch (else ErrFenced; ErrLost when the partition's
	// metadata is gone, i.e. Redis was flushed) and the batch is newer than
	// what was applied (else it is a no-op and Apply returns ErrStale).
	Apply(ctx context.Context, p int32, epoch int64, b *Batch) error
}

// Stored is one account as the store holds it.
type Stored struct {
	// State is the encoded core.State.
	State []byte
	// Wake is the account's pending timer in unix ms (0: none).
	Wake int64
}

// Timer is one entry of a partition's timer index: account Account wakes
// at At (unix ms).
type Timer struct {
	At      int64
	Account string
}

// Meta is a partition's bookkeeping in the store.
type Meta struct {
	// Epoch is the owner epoch returned by Claim.
	Epoch int64
	// Applied is the last input offset applied, per input topic.
	Applied map[string]int64
	// Changelog is the next changelog (status topic) offset not yet reflected
	// in the store; restore resumes reading there.
	Changelog int64
	// Clock is the partition clock (unix ms).
	Clock int64
	// Fresh reports that the partition had no metadata (new or flushed store).
	Fresh bool
}

// Batch is the store write that follows one committed Kafka transaction.
type Batch struct {
	// Applied is the last input offset of the batch per input topic.
	Applied map[string]int64
	// Changelog is the changelog offset after the batch's status records.
	Changelog int64
	// Clock is the partition clock after the batch.
	Clock int64
	// Put holds the new encoded state of every changed account; a nil
	// (empty) state deletes the account (an erasure, erase.go).
	Put map[string][]byte
	// Timers sets (ms > 0) or clears (ms == 0) an account's pending timer.
	Timers map[string]int64
}

// Add puts a changelog entry's state and timer in the batch.
func (b *Batch) Add(e ChangelogEntry) {
	b.Put[e.Account] = e.State
	b.Timers[e.Account] = e.Wake
}

// storeGrace is how long a committed transaction's store write may go on
// once the run is stopped.
const storeGrace = 5 * time.Second

// afterCommit is the context of a committed transaction's store write: the
// run's, except that a stop (ctx cancelled) lets the write finish, for at
// most storeGrace. A stop landing between the commit and the write would
// otherwise leave the store behind the changelog until the partition's
// next owner restored it (a clean stop or rebalance hands over a current
// store; a crash still relies on the restore).
func afterCommit(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(storeGrace, cancel) })
	return wctx, func() { stop(); cancel() }
}
