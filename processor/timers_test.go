package processor

import (
	"fmt"
	"slices"
	"testing"
)

// TestTimerSet: wake-ups pop in (time, account) order, a rescheduled or
// cleared wake-up leaves no stale firing, and eachDue names exactly the
// accounts popDue would return up to the same instant.
func TestTimerSet(t *testing.T) {
	ts := newTimerSet()
	ts.set("C", 30)
	ts.set("A", 10)
	ts.set("B", 10)
	ts.set("D", 50)
	ts.set("E", 20)
	ts.set("E", 60) // rescheduled: its entry at 20 is stale
	ts.set("D", 0)  // cleared

	var due []string
	ts.eachDue(30, func(a string) { due = append(due, a) })
	slices.Sort(due)
	if want := []string{"A", "B", "C"}; !slices.Equal(due, want) {
		t.Fatalf("eachDue(30) = %v, want %v", due, want)
	}
	if ts.len() != 4 {
		t.Fatalf("eachDue removed wake-ups: %d left, want 4", ts.len())
	}

	var popped []string
	for {
		a, at, ok := ts.popDue(30)
		if !ok {
			break
		}
		popped = append(popped, a)
		if ts.get(a) != 0 || at > 30 {
			t.Fatalf("popped %s at %d, still pending %d", a, at, ts.get(a))
		}
	}
	if want := []string{"A", "B", "C"}; !slices.Equal(popped, want) {
		t.Fatalf("popDue(30) order = %v, want %v", popped, want)
	}
	if a, _, ok := ts.popDue(59); ok {
		t.Fatalf("popDue(59) fired %s: E moved to 60 and D was cleared", a)
	}
	if a, at, ok := ts.popDue(60); !ok || a != "E" || at != 60 {
		t.Fatalf("popDue(60) = %s %d %v, want E at 60", a, at, ok)
	}
	n := 0
	ts.eachDue(1<<62, func(string) { n++ })
	if n != 0 || ts.len() != 0 {
		t.Fatalf("after all fired: eachDue named %d, %d pending", n, ts.len())
	}
}

// TestTimerSetCompacts: rescheduling the same accounts over and over keeps
// the heap near the number of accounts, and firing order is unchanged.
func TestTimerSetCompacts(t *testing.T) {
	ts := newTimerSet()
	const accounts = 100
	for round := int64(1); round <= 200; round++ {
		for a := 0; a < accounts; a++ {
			ts.set(fmt.Sprintf("A%03d", a), 1000*round+int64(accounts-a))
		}
	}
	if len(ts.h) > 2*accounts+1024 {
		t.Fatalf("heap holds %d entries for %d accounts", len(ts.h), accounts)
	}
	var got []string
	for {
		a, at, ok := ts.popDue(1 << 62)
		if !ok {
			break
		}
		if want := 200000 + int64(len(got)) + 1; at != want {
			t.Fatalf("%s fired at %d, want its last wake-up %d", a, at, want)
		}
		got = append(got, a)
	}
	if len(got) != accounts || got[0] != "A099" || got[accounts-1] != "A000" {
		t.Fatalf("fired %d, first %v last %v; want A099 (earliest) to A000", len(got), got[0], got[len(got)-1])
	}
}
