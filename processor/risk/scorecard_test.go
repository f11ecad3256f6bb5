package risk

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

const defaultScorecardPath = "../../deploy/risk/scorecard.yaml"

func loadDefault(t testing.TB) *Scorecard {
	t.Helper()
	data, err := os.ReadFile(defaultScorecardPath)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Load(data, "scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// binned is a hand-written scorecard with bins and linear terms.
const binned = `
name: binned-test
intercept: -3
features:
  days_past_due:
    monotone: increasing
    bins:
      - {lower: 0, upper: 1, weight: -0.5}
      - {lower: 1, upper: 31, weight: 0.4}
      - {lower: 31, upper: 91, weight: 1.2}
      - {lower: 91, weight: 2.5}
  reversals: {weight: 0.8, transform: log1p, max: 10, monotone: increasing}
  broken_promises:
    monotone: increasing
    bins:
      - {lower: 0, upper: 1, weight: 0}
      - {lower: 1, upper: 2, weight: 0.7}
      - {lower: 2, weight: 1.3}
  tenure_days: {weight: -0.3, transform: log1p, max: 3650, center: 6, monotone: decreasing}
  utilisation: {weight: 0.6, max: 2, center: 0.4}
segments: {prepaid: 0.4, corporate: -0.3}
tiers:
  - {name: LOW, below: 0.05}
  - {name: MEDIUM, below: 0.2}
  - {name: HIGH, below: 0.5}
  - {name: VERY_HIGH}
`

func mustLoad(t testing.TB, y string) *Scorecard {
	t.Helper()
	sc, err := Load([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func randomFeatures(rng *rand.Rand) Features {
	segs := []event.Segment{event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale, ""}
	return Features{
		DaysPastDue:     int32(rng.IntN(400)),
		OverdueRatio:    rng.Float64(),
		Utilisation:     rng.Float64() * 3,
		LatePayments12M: int32(rng.IntN(13)),
		AvgDaysToPay:    rng.Float64() * 90,
		Reversals:       int32(rng.IntN(6)),
		BrokenPromises:  int32(rng.IntN(6)),
		DisputesOpened:  int32(rng.IntN(4)),
		TenureDays:      int32(rng.IntN(4000)),
		OpenInvoices:    int32(rng.IntN(20)),
		Segment:         segs[rng.IntN(len(segs))],
	}
}

func TestMonotonicity(t *testing.T) {
	type bump struct {
		name string
		set  func(*Features, int32)
		max  int32
	}
	bumps := []bump{
		{"days_past_due", func(f *Features, v int32) { f.DaysPastDue = v }, 500},
		{"reversals", func(f *Features, v int32) { f.Reversals = v }, 20},
		{"broken_promises", func(f *Features, v int32) { f.BrokenPromises = v }, 20},
		{"late_payments_12m", func(f *Features, v int32) { f.LatePayments12M = v }, 20},
	}
	cards := map[string]*Scorecard{"default": loadDefault(t), "binned": mustLoad(t, binned)}
	rng := rand.New(rand.NewPCG(1, 2))
	for cname, sc := range cards {
		for _, b := range bumps {
			for trial := 0; trial < 200; trial++ {
				f := randomFeatures(rng)
				prev := -1.0
				for v := int32(0); v <= b.max; v++ {
					b.set(&f, v)
					pd := sc.Score(f).PD
					if pd < prev {
						t.Fatalf("%s: PD fell from %.6f to %.6f as %s rose to %d (%+v)", cname, prev, pd, b.name, v, f)
					}
					prev = pd
				}
			}
		}
	}
	// tenure is declared decreasing in both scorecards
	for cname, sc := range cards {
		f := randomFeatures(rng)
		prev := 2.0
		for v := int32(0); v <= 5000; v += 7 {
			f.TenureDays = v
			pd := sc.Score(f).PD
			if pd > prev {
				t.Fatalf("%s: PD rose with tenure at %d", cname, v)
			}
			prev = pd
		}
	}
}

func TestContributionsSumToLogit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sc := range []*Scorecard{loadDefault(t), mustLoad(t, binned)} {
		for i := 0; i < 2000; i++ {
			r := sc.Score(randomFeatures(rng))
			sum := r.Intercept + r.SegmentOffset
			for _, c := range r.Contributions {
				sum += c
			}
			if sum != r.Logit {
				t.Fatalf("intercept+offset+contributions = %v, logit %v", sum, r.Logit)
			}
			if got := 1 / (1 + math.Exp(-r.Logit)); math.Abs(got-r.PD) > 1e-12 {
				t.Fatalf("PD %v, sigmoid(logit) %v", r.PD, got)
			}
			for k, rc := range r.TopReasons() {
				if !(rc.Contribution > 0) {
					t.Fatalf("reason %s has contribution %v", rc.Code, rc.Contribution)
				}
				if k > 0 && rc.Contribution > r.Reasons[k-1].Contribution {
					t.Fatalf("reasons out of order: %v", r.TopReasons())
				}
			}
		}
	}
}

func TestReasonCodes(t *testing.T) {
	sc := mustLoad(t, binned)
	f := Features{DaysPastDue: 120, Reversals: 3, BrokenPromises: 1, TenureDays: 30, Utilisation: 0.4}
	r := sc.Score(f)
	want := []event.ReasonCode{
		{Code: "DPD_HIGH", Contribution: 2.5},
		{Code: "REVERSALS", Contribution: 0.8 * math.Log1p(3)},
		// short tenure: 0.3*(6 - ln 31) ≈ 0.77 beats broken promises (0.7)
		{Code: "SHORT_TENURE", Contribution: -0.3 * (math.Log1p(30) - 6)},
	}
	got := r.TopReasons()
	if len(got) != 3 {
		t.Fatalf("reasons %v", got)
	}
	for i := range want {
		if got[i].Code != want[i].Code || math.Abs(got[i].Contribution-want[i].Contribution) > 1e-12 {
			t.Fatalf("reason %d = %+v, want %+v (all %v)", i, got[i], want[i], got)
		}
	}
	if r.Contributions[FeatureUtilisation] != 0 {
		t.Fatalf("utilisation at its center contributes %v", r.Contributions[FeatureUtilisation])
	}
	if c := r.Contributions[FeatureBrokenPromises]; c != 0.7 {
		t.Fatalf("broken promises contribution %v", c)
	}

	// a clean account has no positive contribution, hence no reasons
	clean := sc.Score(Features{TenureDays: 3000})
	if clean.NumReasons != 0 {
		t.Fatalf("clean account reasons %v", clean.TopReasons())
	}
	// ties keep feature order
	tie := mustLoad(t, `
name: tie
intercept: 0
features:
  reversals: {weight: 1}
  broken_promises: {weight: 1}
  disputes_opened: {weight: 1}
  late_payments_12m: {weight: 1}
tiers: [{name: LOW, below: 0.5}, {name: HIGH}]
`)
	r = tie.Score(Features{Reversals: 1, BrokenPromises: 1, DisputesOpened: 1, LatePayments12M: 1})
	codes := []string{r.Reasons[0].Code, r.Reasons[1].Code, r.Reasons[2].Code}
	if codes[0] != "LATE_PAYMENTS" || codes[1] != "REVERSALS" || codes[2] != "BROKEN_PROMISES" {
		t.Fatalf("tie order %v", codes)
	}
}

func TestTierBoundaries(t *testing.T) {
	sc := mustLoad(t, binned)
	cases := []struct {
		pd   float64
		want string
	}{
		{0, "LOW"},
		{math.Nextafter(0.05, 0), "LOW"},
		{0.05, "MEDIUM"},
		{math.Nextafter(0.2, 0), "MEDIUM"},
		{0.2, "HIGH"},
		{math.Nextafter(0.5, 0), "HIGH"},
		{0.5, "VERY_HIGH"},
		{1, "VERY_HIGH"},
	}
	for _, c := range cases {
		if got := sc.tierOf(c.pd); got != c.want {
			t.Errorf("tierOf(%v) = %s, want %s", c.pd, got, c.want)
		}
	}
	// through Score: an intercept-only card swept across the cut-offs
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		r := sc.Score(randomFeatures(rng))
		var want string
		switch {
		case r.PD < 0.05:
			want = "LOW"
		case r.PD < 0.2:
			want = "MEDIUM"
		case r.PD < 0.5:
			want = "HIGH"
		default:
			want = "VERY_HIGH"
		}
		if r.Tier != want {
			t.Fatalf("PD %v tier %s, want %s", r.PD, r.Tier, want)
		}
	}
}

func TestPointsScale(t *testing.T) {
	sc := mustLoad(t, `
name: pts
intercept: 0
tiers: [{name: LOW, below: 0.5}, {name: HIGH}]
points: {base: 600, base_odds: 50, pdo: 20, min: 0, max: 1000}
`)
	at := func(logit float64) int32 { return sc.points.score(logit) }
	if got := at(-math.Log(50)); got != 600 {
		t.Fatalf("score at base odds = %d", got)
	}
	if got := at(-math.Log(100)); got != 620 {
		t.Fatalf("score at doubled odds = %d", got)
	}
	if at(-1000) != 1000 || at(1000) != 0 || at(math.NaN()) != 0 {
		t.Fatal("score not clamped")
	}
	if r := sc.Score(Features{}); r.Score != at(0) || r.Score != int32(math.Round(600-20/math.Ln2*math.Log(50))) {
		t.Fatalf("Score = %d", r.Score)
	}
}

func TestScoreSanitisesInput(t *testing.T) {
	sc := loadDefault(t)
	odd := Features{
		DaysPastDue: -5, OverdueRatio: math.NaN(), Utilisation: math.Inf(1), AvgDaysToPay: math.Inf(-1),
		Reversals: math.MaxInt32, TenureDays: -1, Segment: "bogus",
	}
	r := sc.Score(odd)
	if math.IsNaN(r.Logit) || math.IsNaN(r.PD) || r.Tier == "" {
		t.Fatalf("odd input gave %+v", r)
	}
	if r.SegmentOffset != 0 {
		t.Fatalf("unknown segment offset %v", r.SegmentOffset)
	}
	// opposite infinite inputs on uncapped terms must not make a NaN logit
	opp := mustLoad(t, minimal+"features:\n  utilisation: {weight: 1000}\n  avg_days_to_pay: {weight: -1000}\n")
	r = opp.Score(Features{Utilisation: math.Inf(1), AvgDaysToPay: math.Inf(1)})
	if math.IsNaN(r.Logit) || math.IsInf(r.Logit, 0) {
		t.Fatalf("infinite inputs gave logit %v", r.Logit)
	}
}

func TestScoreAllocs(t *testing.T) {
	sc := loadDefault(t)
	f := randomFeatures(rand.New(rand.NewPCG(1, 1)))
	if n := testing.AllocsPerRun(100, func() { _ = sc.Score(f) }); n != 0 {
		t.Fatalf("Score allocates %v times", n)
	}
}

func BenchmarkScore(b *testing.B) {
	for _, c := range []struct {
		name string
		sc   *Scorecard
	}{{"default", loadDefault(b)}, {"binned", mustLoad(b, binned)}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(9, 9))
			fs := make([]Features, 1024)
			for i := range fs {
				fs[i] = randomFeatures(rng)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var sink float64
			for i := 0; b.Loop(); i++ {
				sink += c.sc.Score(fs[i&1023]).PD
			}
			_ = sink
		})
	}
}
