package risk

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = `name: m
intercept: -2
tiers:
  - {name: LOW, below: 0.1}
  - {name: HIGH}
`

func TestLoadValid(t *testing.T) {
	sc := mustLoad(t, binned)
	if sc.Name() != "binned-test" || len(sc.Version()) != 16 {
		t.Fatalf("name %q version %q", sc.Name(), sc.Version())
	}
	if got := strings.Join(sc.Tiers(), ","); got != "LOW,MEDIUM,HIGH,VERY_HIGH" {
		t.Fatalf("tiers %s", got)
	}
	// any edit is a new version; the same bytes the same version
	again := mustLoad(t, binned)
	edited := mustLoad(t, binned+"# comment\n")
	if again.Version() != sc.Version() || edited.Version() == sc.Version() {
		t.Fatal("version is not the content hash")
	}
	m := mustLoad(t, minimal)
	if r := m.Score(Features{DaysPastDue: 100}); r.Logit != -2 || r.Tier != "HIGH" {
		t.Fatalf("minimal: %+v", r)
	}
	// defaults: min 0, no max, identity, center 0
	lin := mustLoad(t, minimal+"features:\n  days_past_due: {weight: 0.01}\n")
	if r := lin.Score(Features{DaysPastDue: 1000}); r.Contributions[FeatureDaysPastDue] != 10 {
		t.Fatalf("linear default: %v", r.Contributions[FeatureDaysPastDue])
	}
	// YAML anchors work
	mustLoad(t, minimal+"features:\n  reversals: &w {weight: 0.5}\n  broken_promises: *w\n")
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		yaml  string
		field string
		line  int
		msg   string
	}{
		{"not yaml", "name: [", "", 0, "yaml"},
		{"empty", "", "", 0, "empty"},
		{"not a mapping", "- a\n", "", 1, "mapping"},
		{"no name", "intercept: 1\ntiers: [{name: A, below: 0.1}, {name: B}]\n", "name", 1, "required"},
		{"bad name", "name: 'a b'\n", "name", 1, "letters"},
		{"no intercept", "name: x\ntiers: [{name: A, below: 0.1}, {name: B}]\n", "intercept", 1, "required"},
		{"no tiers", "name: x\nintercept: 0\n", "tiers", 1, "required"},
		{"unknown top field", minimal + "wieghts: 1\n", "wieghts", 6, "unknown field"},
		{"duplicate key", minimal + "intercept: 3\n", "intercept", 6, "twice"},
		{"intercept not number", "name: x\nintercept: high\n", "intercept", 2, "number"},
		{"intercept inf", "name: x\nintercept: .inf\n", "intercept", 2, "finite"},
		{"unknown feature", minimal + "features:\n  days_past_due: {weight: 1}\n  shoe_size: {weight: 1}\n", "features.shoe_size", 8, "unknown feature"},
		{"unknown feature field", minimal + "features:\n  reversals:\n    weight: 1\n    wieght: 2\n", "features.reversals.wieght", 9, "unknown field"},
		{"no weight", minimal + "features:\n  reversals:\n    center: 1\n", "features.reversals.weight", 8, "required"},
		{"weight and bins", minimal + "features:\n  reversals:\n    weight: 1\n    bins: [{lower: 0, weight: 1}]\n", "features.reversals", 8, "both"},
		{"bad transform", minimal + "features:\n  reversals: {weight: 1, transform: sqrt}\n", "features.reversals.transform", 7, "unknown transform"},
		{"max below min", minimal + "features:\n  reversals: {weight: 1, min: 5, max: 2}\n", "features.reversals.max", 7, "above min"},
		{"negative min", minimal + "features:\n  reversals: {weight: 1, min: -1}\n", "features.reversals.min", 7, ">= 0"},
		{"wrong sign", minimal + "features:\n  reversals: {weight: -1, monotone: increasing}\n", "features.reversals.monotone", 7, "contradicts"},
		{"bad monotone", minimal + "features:\n  reversals: {weight: 1, monotone: up}\n", "features.reversals.monotone", 7, "increasing or decreasing"},
		{"bins empty", minimal + "features:\n  reversals:\n    bins: []\n", "features.reversals.bins", 8, "non-empty"},
		{"bins overlap", minimal + `features:
  days_past_due:
    bins:
      - {lower: 0, upper: 30, weight: 0}
      - {lower: 20, upper: 60, weight: 1}
      - {lower: 60, weight: 2}
`, "features.days_past_due.bins[1].lower", 10, "overlaps"},
		{"bins unsorted", minimal + `features:
  days_past_due:
    bins:
      - {lower: 30, upper: 60, weight: 0}
      - {lower: 0, upper: 30, weight: 1}
`, "features.days_past_due.bins[1].lower", 10, "not sorted"},
		{"bins gap", minimal + `features:
  days_past_due:
    bins:
      - {lower: 0, upper: 30, weight: 0}
      - {lower: 31, weight: 1}
`, "features.days_past_due.bins[1].lower", 10, "gap"},
		{"bin empty range", minimal + "features:\n  days_past_due:\n    bins:\n      - {lower: 5, upper: 5, weight: 0}\n      - {lower: 5, weight: 1}\n", "features.days_past_due.bins[0].upper", 9, "above lower"},
		{"bin no upper", minimal + "features:\n  days_past_due:\n    bins:\n      - {lower: 0, weight: 0}\n      - {lower: 5, weight: 1}\n", "features.days_past_due.bins[0].upper", 9, "required"},
		{"bin no weight", minimal + "features:\n  days_past_due:\n    bins:\n      - {lower: 0}\n", "features.days_past_due.bins[0].weight", 9, "required"},
		{"bins not monotone", minimal + `features:
  days_past_due:
    monotone: increasing
    bins:
      - {lower: 0, upper: 30, weight: 1}
      - {lower: 30, weight: 0.5}
`, "features.days_past_due.monotone", 8, "not increasing"},
		{"unknown segment", minimal + "segments: {prepaid: 1, retail: 2}\n", "segments.retail", 6, "unknown field"},
		{"one tier", "name: x\nintercept: 0\ntiers: [{name: A}]\n", "tiers", 3, "at least two"},
		{"cut-offs not increasing", "name: x\nintercept: 0\ntiers:\n  - {name: A, below: 0.2}\n  - {name: B, below: 0.1}\n  - {name: C}\n", "tiers[1].below", 5, "increase"},
		{"cut-offs equal", "name: x\nintercept: 0\ntiers:\n  - {name: A, below: 0.2}\n  - {name: B, below: 0.2}\n  - {name: C}\n", "tiers[1].below", 5, "increase"},
		{"cut-off out of range", "name: x\nintercept: 0\ntiers:\n  - {name: A, below: 1.5}\n  - {name: C}\n", "tiers[0].below", 4, "(0, 1)"},
		{"last tier with below", "name: x\nintercept: 0\ntiers:\n  - {name: A, below: 0.1}\n  - {name: C, below: 0.9}\n", "tiers[1].below", 5, "last tier"},
		{"missing below", "name: x\nintercept: 0\ntiers:\n  - {name: A}\n  - {name: C}\n", "tiers[0].below", 4, "required"},
		{"duplicate tier", "name: x\nintercept: 0\ntiers:\n  - {name: A, below: 0.1}\n  - {name: A}\n", "tiers[1].name", 5, "twice"},
		{"bad tier name", "name: x\nintercept: 0\ntiers:\n  - {name: 'A B', below: 0.1}\n  - {name: C}\n", "tiers[0].name", 4, "letters"},
		{"bad pdo", minimal + "points: {pdo: 0}\n", "points.pdo", 6, "> 0"},
		{"bad points range", minimal + "points: {min: 10, max: 5}\n", "points.max", 6, "above min"},
		{"unknown points field", minimal + "points: {base: 1, scale: 2}\n", "points.scale", 6, "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load([]byte(c.yaml), "card.yaml")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.Field != c.field || ce.Line != c.line || !strings.Contains(ce.Msg, c.msg) {
				t.Fatalf("got field %q line %d msg %q; want field %q line %d msg containing %q", ce.Field, ce.Line, ce.Msg, c.field, c.line, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "card.yaml") || (c.field != "" && !strings.Contains(err.Error(), c.field)) {
				t.Fatalf("message %q does not name the file and field", err)
			}
		})
	}
}

// FuzzScorecardLoad feeds arbitrary bytes to Load: it must never panic or
// hang, every failure must be a *ConfigError naming the file, and whatever
// loads must score to a tier with a finite logit. Regression inputs live in
// testdata/fuzz/FuzzScorecardLoad.
func FuzzScorecardLoad(f *testing.F) {
	f.Add([]byte(binned))
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "features:\n  reversals: {weight: 1, max: 3}\n"))
	f.Add([]byte(minimal + "features:\n  reversals: &w {weight: 0.5}\n  broken_promises: *w\n"))
	if b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "risk", "scorecard.yaml")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Load(data, "fuzz.yaml")
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "fuzz.yaml" || ce.Msg == "" {
				t.Fatalf("error is not a *ConfigError naming the file: %v", err)
			}
			return
		}
		r := sc.Score(Features{DaysPastDue: 30, Reversals: 2, TenureDays: 100, Segment: "prepaid"})
		if r.Tier == "" || math.IsNaN(r.Logit) || math.IsInf(r.Logit, 0) {
			t.Fatalf("loaded scorecard gave tier %q logit %g", r.Tier, r.Logit)
		}
	})
}

// TestLoadRefusesAliasBomb: an alias bomb where the tiers go is refused by
// the parser's bound, before anything walks it.
func TestLoadRefusesAliasBomb(t *testing.T) {
	doc := "name: x\nintercept: 0\nt0: &t0 [{name: A, below: 0.1}, {name: B}]\n"
	for i := 1; i <= 9; i++ {
		doc += fmt.Sprintf("t%d: &t%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*t%d,", i-1), 10), ","))
	}
	_, err := Load([]byte(doc+"tiers: *t9\n"), "bomb.yaml")
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != "bomb.yaml" || !strings.Contains(ce.Msg, "aliases expanded") {
		t.Fatalf("err = %v, want the alias bound", err)
	}
}
