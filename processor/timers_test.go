package processor

import (
	"slices"
	"testing"
)

// drain pops every live wake-up at or before now, as the accounts.
func drain(ti *timerIndex, now int64) []string {
	var out []string
	for {
		e, ok := ti.popDue(now)
		if !ok {
			return out
		}
		if ti.get(e.Account) != 0 {
			panic("popped wake-up still pending")
		}
		out = append(out, e.Account)
	}
}

// TestTimerIndex: the page and this batch's own wake-ups pop merged in
// (time, account) order; an entry whose account woke or moved since is
// skipped; a wake-up set past the batch's clock stays out of the window.
func TestTimerIndex(t *testing.T) {
	ti := newTimerIndex()
	page := []Timer{{10, "A"}, {10, "B"}, {20, "E"}, {30, "C"}, {50, "D"}}
	for _, e := range page {
		ti.note(e.Account, e.At)
	}
	ti.startPage(page, 60, 10)
	ti.set("E", 60)  // rescheduled: its page entry at 20 is stale
	ti.set("D", 0)   // cleared
	ti.set("F", 15)  // new this batch, due between B and C
	ti.set("G", 100) // past the batch's clock: the store keeps it
	if got, want := drain(ti, 30), []string{"A", "B", "F", "C"}; !slices.Equal(got, want) {
		t.Fatalf("popDue(30) order = %v, want %v", got, want)
	}
	if e, ok := ti.popDue(59); ok {
		t.Fatalf("popDue(59) fired %v: E moved to 60 and D was cleared", e)
	}
	if got := drain(ti, 60); !slices.Equal(got, []string{"E"}) {
		t.Fatalf("popDue(60) = %v, want E", got)
	}
	if ti.more(60) {
		t.Fatal("more(60) after the page (not full) and the batch's wake-ups were used up")
	}
	if ti.get("G") != 100 {
		t.Fatalf("G's timer = %d, want 100", ti.get("G"))
	}
}

// TestTimerIndexBacklog: a full page, partly fired, says more are due; a
// full page used up says so too (the store holds the rest); an unknown
// account's entry is offered for loading, not dropped.
func TestTimerIndexBacklog(t *testing.T) {
	ti := newTimerIndex()
	page := []Timer{{1, "A"}, {2, "B"}, {3, "C"}}
	ti.note("A", 1)
	ti.note("B", 2)
	ti.startPage(page, 10, 3)
	ti.popDue(10)
	if !ti.more(10) {
		t.Fatal("more: B and C are due")
	}
	ti.popDue(10)
	if e, ok := ti.next(10); !ok || e.Account != "C" || ti.known("C") {
		t.Fatalf("next = %v %v, want C (not loaded yet)", e, ok)
	}
	ti.note("C", 3)
	ti.popDue(10)
	if !ti.more(10) {
		t.Fatal("more after a full page was used up: the store may hold more")
	}
	ti.startPage(nil, 10, 3)
	if ti.more(10) {
		t.Fatal("more after an empty page")
	}
	ti.startPage(nil, 10, 0)
	if !ti.more(10) {
		t.Fatal("more with no budget: the store was not asked")
	}
	ti.forget("A")
	if ti.known("A") {
		t.Fatal("forget kept A")
	}
}
