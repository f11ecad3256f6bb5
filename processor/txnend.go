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
// and reports whether it committed. The flush runs before the guard is
// taken, so a revocation never waits for produce timeouts; the rebalance
// flag is read again under the guard, just before EndTransaction, as End
// reads its own.
func (g *endGuard) end(ctx context.Context, sess *kgo.GroupTransactSession, how kgo.TransactionEndTry) (bool, error) {
	cl := sess.Client()
	if g.rebalanced.Load() || len(cl.UncommittedOffsets()) > 0 {
		return g.viaSession(ctx, sess, how)
	}
	if how == kgo.TryCommit {
		if err := cl.Flush(ctx); err != nil {
			return false, err
		}
	} else if err := cl.AbortBufferedRecords(ctx); err != nil {
		return false, err
	}
	g.mu.Lock()
	if g.rebalanced.Load() {
		g.mu.Unlock()
		return g.viaSession(ctx, sess, how)
	}
	defer g.mu.Unlock()
	// End's retries: an end not attempted, abortable, or answered with an
	// unknown server error is not a confirmed commit, so it is retried as
	// an abort, at most 10 times in all
	err := cl.EndTransaction(ctx, how)
	for tries := 1; err != nil && tries < 10 && (errors.Is(err, kerr.OperationNotAttempted) || errors.Is(err, kerr.TransactionAbortable) || errors.Is(err, kerr.UnknownServerError)); tries++ {
		how = kgo.TryAbort
		err = cl.EndTransaction(ctx, how)
	}
	if err != nil {
		return false, err
	}
	return how == kgo.TryCommit, nil
}

// viaSession ends the transaction through End, which resets franz-go's own
// rebalance flags.
func (g *endGuard) viaSession(ctx context.Context, sess *kgo.GroupTransactSession, how kgo.TransactionEndTry) (bool, error) {
	g.rebalanced.Store(false)
	return sess.End(ctx, how)
}
