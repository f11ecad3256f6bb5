package replay

import "slices"

// Wakes is a replay's timer index: one wake-up per account, fired in (time,
// account) order as the processor's are. Wake-ups cluster on few instants
// (a stage's hour in the account's zone), so they are kept as the sorted
// distinct instants, each with its accounts (sorted when it comes due); an
// entry that disagrees with at (the wake-up moved) is stale and skipped.
type Wakes struct {
	at     map[string]int64
	times  []int64
	accts  map[int64][]string
	sorted bool // accts[times[0]] is in account order
}

// NewWakes is an empty index.
func NewWakes() *Wakes { return &Wakes{at: map[string]int64{}, accts: map[int64][]string{}} }

// At is the account's wake-up (unix ms), 0 when none.
func (w *Wakes) At(acct string) int64 { return w.at[acct] }

// Set schedules (ms > 0) or clears the account's wake-up.
func (w *Wakes) Set(acct string, ms int64) {
	if ms <= 0 {
		delete(w.at, acct)
		return
	}
	if w.at[acct] == ms {
		return
	}
	w.at[acct] = ms
	as, ok := w.accts[ms]
	if !ok {
		i, _ := slices.BinarySearch(w.times, ms)
		w.times = slices.Insert(w.times, i, ms)
	}
	if w.times[0] == ms {
		w.sorted = false
	}
	w.accts[ms] = append(as, acct)
}

// PopDue removes and returns the earliest wake-up at or before now.
func (w *Wakes) PopDue(now int64) (string, int64, bool) {
	for len(w.times) > 0 && w.times[0] <= now {
		t := w.times[0]
		as := w.accts[t]
		if !w.sorted {
			slices.Sort(as)
			w.sorted = true
		}
		for len(as) > 0 {
			a := as[0]
			as = as[1:]
			if w.at[a] == t {
				delete(w.at, a)
				w.accts[t] = as
				return a, t, true
			}
		}
		delete(w.accts, t)
		w.times, w.sorted = w.times[1:], false
	}
	return "", 0, false
}
