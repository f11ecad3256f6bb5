package processor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// How a transaction ends. franz-go's GroupTransactSession.End learns that
// the broker supports KIP-447 only from a TxnOffsetCommit response; a
// transaction that consumed nothing (wake-ups only) commits no offsets, so
// End takes the path for brokers older than 2.5 and holds its lock for
// 500 ms after the commit, a wait the next transaction's End and any
// revocation then sit through (franz-go v1.22.3, txn.go). A bill run's
// tail of wake-up-only transactions took ~0.62 s each, ~0.50 s of it
// there (docs/bench.md, 2026-12-03), and a payment polled after one
// waited for it too.
//
// So a transaction without consumed offsets ends here, directly: the
// client's Flush and EndTransaction, as End does for it, less the wait.
// What End adds for such a transaction is kept: it aborts if partitions
// were revoked or lost since the session's last End (franz-go's wrapper
// of the rebalance callbacks stops calling ours until End resets it, so
// after a revocation the next end is End's), and a revocation cannot
// complete while EndTransaction runs (endGuard.mu, which the callbacks
// take, as End's lock does). The restore's wait for the stable offset to
// reach the high watermark (restore.go) covers the commit markers the 500
// ms were meant for.
type endGuard struct {
	mu         sync.Mutex
	rebalanced atomic.Bool // a revoke or lost callback ran since the last End
}

// rebalancing is called first thing in the revoke and lost callbacks; the
// returned func is called when they are done.
func (g *endGuard) rebalancing() (done func()) {
	g.rebalanced.Store(true)
	g.mu.Lock()
	return g.mu.Unlock
}

// end ends the session's open transaction (commit when how is TryCommit)
// and reports whether it committed.
func (g *endGuard) end(ctx context.Context, sess *kgo.GroupTransactSession, how kgo.TransactionEndTry) (bool, error) {
	cl := sess.Client()
	g.mu.Lock()
	if g.rebalanced.Load() || len(cl.UncommittedOffsets()) > 0 {
		g.mu.Unlock()
		g.rebalanced.Store(false) // End resets franz-go's own flags
		return sess.End(ctx, how)
	}
	defer g.mu.Unlock()
	if how == kgo.TryCommit {
		if err := cl.Flush(ctx); err != nil {
			return false, err
		}
	} else if err := cl.AbortBufferedRecords(ctx); err != nil {
		return false, err
	}
	err := cl.EndTransaction(ctx, how)
	if how == kgo.TryCommit && (errors.Is(err, kerr.OperationNotAttempted) || errors.Is(err, kerr.TransactionAbortable) || errors.Is(err, kerr.UnknownServerError)) {
		// as End: the commit is not confirmed, so it counts as an abort
		return false, cl.EndTransaction(ctx, kgo.TryAbort)
	}
	if err != nil {
		return false, err
	}
	return how == kgo.TryCommit, nil
}
