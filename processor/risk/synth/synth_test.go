package synth

import (
	"reflect"
	"testing"
)

func TestGenerate(t *testing.T) {
	a := Generate(Config{Accounts: 5000, Seed: 42})
	b := Generate(Config{Accounts: 5000, Seed: 42})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different history")
	}
	if reflect.DeepEqual(a, Generate(Config{Accounts: 5000, Seed: 43})) {
		t.Fatal("different seeds, same history")
	}
	var defaults, riskyDefaults, risky int
	for _, s := range a {
		if s.Defaulted {
			defaults++
		}
		if s.Propensity > 1 {
			risky++
			if s.Defaulted {
				riskyDefaults++
			}
		}
		if !s.Features.Segment.Valid() || s.Features.DaysPastDue < 0 || s.Features.OverdueRatio > 1 {
			t.Fatalf("bad sample %+v", s)
		}
	}
	rate, riskyRate := float64(defaults)/float64(len(a)), float64(riskyDefaults)/float64(risky)
	t.Logf("default rate %.3f, among propensity > 1: %.3f", rate, riskyRate)
	if rate < 0.05 || rate > 0.3 || riskyRate < 2*rate {
		t.Fatalf("default rate %.3f, risky %.3f", rate, riskyRate)
	}
}
