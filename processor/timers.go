package processor

import "container/heap"

// timerIndex is a partition's bounded window onto its timer index. The
// index itself is the store's sorted set (score: wake-up in unix ms,
// member: account), written with every committed batch; the partition
// holds only:
//
//   - wake: the timer of every account in its cache, as stored plus this
//     batch's changes: the authority for those accounts;
//   - page: the first due entries of the stored index, read (Store.Due) at
//     the start of a batch, at most the batch's wake budget;
//   - local: the wake-ups this batch set that its clock may still pass.
//
// Entries are popped in (time, account) order. A page or local entry that
// disagrees with wake is stale (the account woke or was rescheduled since)
// and skipped. Memory is the cache plus one page, whatever the book.
type timerIndex struct {
	wake  map[string]int64
	page  []Timer
	pos   int
	full  bool  // the page holds as many entries as asked: the store may hold more due
	until int64 // the batch clock the page was read for
	local timerHeap
}

func newTimerIndex() *timerIndex { return &timerIndex{wake: map[string]int64{}} }

// get returns the account's wake-up (0: none); the account must be cached.
func (t *timerIndex) get(acct string) int64 { return t.wake[acct] }

// known reports whether the account's timer is held (the account is cached).
func (t *timerIndex) known(acct string) bool {
	_, ok := t.wake[acct]
	return ok
}

// note records the stored timer of an account just loaded.
func (t *timerIndex) note(acct string, ms int64) { t.wake[acct] = max(ms, 0) }

// forget drops an account leaving the cache (its timer is in the store).
func (t *timerIndex) forget(acct string) { delete(t.wake, acct) }

// set schedules (ms > 0) or clears (ms == 0) the account's wake-up. One the
// batch's clock may still pass joins the local heap.
func (t *timerIndex) set(acct string, ms int64) {
	ms = max(ms, 0)
	t.wake[acct] = ms
	if ms > 0 && ms <= t.until {
		heap.Push(&t.local, Timer{At: ms, Account: acct})
	}
}

// startPage begins a batch whose clock goes up to until with page, the
// first due entries of the stored index (limit asked).
func (t *timerIndex) startPage(page []Timer, until int64, limit int) {
	t.page, t.pos, t.until, t.local = page, 0, until, nil
	t.full = limit > 0 && len(page) >= limit
	if limit <= 0 {
		t.full = true // nothing asked: the store may hold due entries
	}
}

// valid reports whether an entry is the account's current wake-up. An
// account not held counts as valid: the caller loads it and checks again.
func (t *timerIndex) valid(e Timer) bool {
	w, ok := t.wake[e.Account]
	return !ok || w == e.At
}

// next returns the earliest live wake-up at or before now without removing
// it, dropping stale entries on the way.
func (t *timerIndex) next(now int64) (Timer, bool) {
	for t.pos < len(t.page) && !t.valid(t.page[t.pos]) {
		t.pos++
	}
	for len(t.local) > 0 && !t.valid(t.local[0]) {
		heap.Pop(&t.local)
	}
	var e Timer
	switch {
	case t.pos < len(t.page) && (len(t.local) == 0 || !less(t.local[0], t.page[t.pos])):
		e = t.page[t.pos]
	case len(t.local) > 0:
		e = t.local[0]
	default:
		return Timer{}, false
	}
	return e, e.At <= now
}

// popDue removes and returns the earliest live wake-up at or before now.
// The account's timer is cleared (the wake-up sets the next one).
func (t *timerIndex) popDue(now int64) (Timer, bool) {
	e, ok := t.next(now)
	if !ok {
		return Timer{}, false
	}
	if t.pos < len(t.page) && t.page[t.pos] == e {
		t.pos++
	} else {
		heap.Pop(&t.local)
	}
	if t.known(e.Account) {
		t.wake[e.Account] = 0
	}
	return e, true
}

// more reports whether wake-ups at or before now may be left: a live one
// in the window, or a full page used up (the store holds the rest).
func (t *timerIndex) more(now int64) bool {
	if _, ok := t.next(now); ok {
		return true
	}
	return t.full && t.pos >= len(t.page)
}

// eachPaged calls f with every account of the page (the batch loads them
// with its other accounts before any fires).
func (t *timerIndex) eachPaged(f func(acct string)) {
	for _, e := range t.page {
		f(e.Account)
	}
}

func less(a, b Timer) bool {
	if a.At != b.At {
		return a.At < b.At
	}
	return a.Account < b.Account
}

type timerHeap []Timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return less(h[i], h[j]) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(Timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
