package processor

import "container/heap"

// timerSet holds a partition's pending wake-ups: one per account, popped in
// (time, account) order so firing is deterministic whatever the batching.
// The map is authoritative; heap entries that disagree with it are stale and
// skipped.
type timerSet struct {
	at map[string]int64
	h  timerHeap
}

func newTimerSet() *timerSet { return &timerSet{at: map[string]int64{}} }

// get returns the account's wake-up (0: none).
func (t *timerSet) get(acct string) int64 { return t.at[acct] }

// set schedules (ms > 0) or clears (ms == 0) the account's wake-up.
func (t *timerSet) set(acct string, ms int64) {
	if ms <= 0 {
		delete(t.at, acct)
		return
	}
	t.at[acct] = ms
	heap.Push(&t.h, timer{ms, acct})
	t.compact()
}

// compact rebuilds the heap from the map once stale entries (left by
// wake-ups that moved) outnumber the live ones twice over: without it the
// heap grows with every reschedule, not with the accounts.
func (t *timerSet) compact() {
	if len(t.h) <= 2*len(t.at)+1024 {
		return
	}
	h := make(timerHeap, 0, len(t.at))
	for acct, at := range t.at {
		h = append(h, timer{at, acct})
	}
	heap.Init(&h)
	t.h = h
}

// popDue removes and returns the earliest wake-up at or before now.
func (t *timerSet) popDue(now int64) (string, int64, bool) {
	for t.h.Len() > 0 {
		top := t.h[0]
		if top.at > now {
			return "", 0, false
		}
		heap.Pop(&t.h)
		if t.at[top.acct] == top.at {
			delete(t.at, top.acct)
			return top.acct, top.at, true
		}
	}
	return "", 0, false
}

// eachDue calls f with every account whose wake-up is at or before now,
// without removing it (in no particular order): the batch loads them with
// its other accounts before any fires.
func (t *timerSet) eachDue(now int64, f func(acct string)) {
	var walk func(i int)
	walk = func(i int) {
		if i >= len(t.h) || t.h[i].at > now {
			return
		}
		if e := t.h[i]; t.at[e.acct] == e.at {
			f(e.acct)
		}
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
}

// len is the number of pending wake-ups.
func (t *timerSet) len() int { return len(t.at) }

type timer struct {
	at   int64
	acct string
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].acct < h[j].acct
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
