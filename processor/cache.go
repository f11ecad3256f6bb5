package processor

import (
	"context"
	"fmt"

	"github.com/arrears/arrears/processor/core"
)

// A partition's decoded accounts: the cache of core.State by account,
// bounded by processor.cache_accounts, filled from the store in one call
// per batch (partition.decode) and emptied of clean accounts after the
// status records (partition.finish).

// get returns the account's state from the cache or the store (new if absent).
func (pt *partition) get(ctx context.Context, acct string) (*core.State, error) {
	if st := pt.cache[acct]; st != nil {
		pt.groupSeen(acct, st)
		return st, nil
	}
	if err := pt.load(ctx, []string{acct}); err != nil {
		return nil, err
	}
	pt.groupSeen(acct, pt.cache[acct])
	return pt.cache[acct], nil
}

func (pt *partition) load(ctx context.Context, accts []string) error {
	if len(accts) == 0 {
		return nil
	}
	vals, err := pt.d.store.Load(ctx, pt.id, pt.epoch, accts)
	if err != nil {
		return fmt.Errorf("load accounts: %w", err)
	}
	for _, a := range accts {
		st := pt.newState()
		v, ok := vals[a]
		if ok {
			if err := st.UnmarshalBinary(v.State); err != nil {
				return fmt.Errorf("decode stored state: %w", err)
			}
			pt.sizes[a] = len(v.State)
		}
		pt.cache[a] = st
		pt.timers.note(a, v.Wake)
	}
	return nil
}

// evict keeps the cache bounded by dropping clean entries, down to 7/8 of
// the bound: the cache stays nearly full (dropping half made it hold 3/4 on
// average) while an eviction still comes only every few batches.
func (pt *partition) evict() {
	limit := pt.d.cfg.CacheAccounts
	if len(pt.cache) <= limit {
		return
	}
	for a, st := range pt.cache {
		if len(pt.cache) <= limit-limit/8 {
			break
		}
		if !pt.dirty[a] {
			delete(pt.cache, a)
			delete(pt.sizes, a)
			pt.timers.forget(a)
			if len(pt.spare) < limit/4 { // a quarter: what the loads between evictions take, about
				*st = core.State{} // what it held goes; the struct is reused
				pt.spare = append(pt.spare, st)
			}
		}
	}
}

// newState is an empty state for load to decode into: one evict dropped,
// else a new one. A book larger than the cache misses on most events, and
// a State is ~760 bytes before what it holds. Spares are kept up to a
// quarter of the cache's bound: the bench's throughput phase (100k
// accounts) then allocated 188 MB of states instead of 430; keeping up to
// the whole bound took it to 59 MB but held 17 MB more heap and 342 MB
// RSS against 295 (docs/bench.md, 2026-12-04 evening).
func (pt *partition) newState() *core.State {
	if n := len(pt.spare); n > 0 {
		st := pt.spare[n-1]
		pt.spare = pt.spare[:n-1]
		return st
	}
	return &core.State{}
}
