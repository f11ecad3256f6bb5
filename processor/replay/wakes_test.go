package replay

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWakesOrder: wake-ups set, moved and cleared at random pop in (time,
// account) order, each live one exactly once, none that moved or was
// cleared.
func TestWakesOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := NewWakes()
	want := map[string]int64{}
	for range 5000 {
		a := string(rune('a' + r.IntN(26)))
		a += string(rune('a' + r.IntN(26)))
		ms := int64(r.IntN(40)) // few instants, as policies make them; 0 clears
		w.Set(a, ms)
		if ms == 0 {
			delete(want, a)
		} else {
			want[a] = ms
		}
	}
	type wake struct {
		at   int64
		acct string
	}
	var exp []wake
	for a, at := range want {
		if at <= 30 {
			exp = append(exp, wake{at, a})
		}
	}
	slices.SortFunc(exp, func(x, y wake) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.acct, y.acct)) })
	var got []wake
	for {
		a, at, ok := w.PopDue(30)
		if !ok {
			break
		}
		got = append(got, wake{at, a})
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("popped %d wake-ups %v..., want %d %v...", len(got), got[:min(len(got), 5)], len(exp), exp[:min(len(exp), 5)])
	}
	for a, at := range want {
		if at > 30 && w.At(a) != at {
			t.Errorf("%s: wake-up %d lost after popping up to 30", a, at)
		}
	}
}
