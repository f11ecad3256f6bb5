package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// Config sizes the history. The zero value uses the defaults.
type Config struct {
	// Accounts is the number of accounts, one snapshot each. Default 20000.
	Accounts int
	// Seed makes the history reproducible. 0 is a valid seed.
	Seed uint64
	// Start and Months bound the snapshot times, spread uniformly.
	// Defaults 2024-01-01 UTC and 24.
	Start  time.Time
	Months int
	// BaseLogit is the logit of default of an average postpaid account.
	// Default -2.4 (about 8%).
	BaseLogit float64
	// Strength is the logit change per standard deviation of propensity.
	// Default 1.6.
	Strength float64
}

// Sample is one account snapshot.
type Sample struct {
	Account string
	Time    time.Time
	// Propensity is the latent, standard-normal default propensity.
	Propensity float64
	// TruePD is the probability the label was drawn with.
	TruePD    float64
	Features  risk.Features
	Defaulted bool
}

// segment mix and true per-segment logit offsets
var segmentMix = []struct {
	seg    event.Segment
	share  float64
	offset float64
}{
	{event.Prepaid, 0.25, 0.3},
	{event.Postpaid, 0.55, 0},
	{event.Corporate, 0.15, -0.4},
	{event.Wholesale, 0.05, -0.7},
}

// Generate returns cfg.Accounts samples in account order.
func Generate(cfg Config) []Sample {
	if cfg.Accounts <= 0 {
		cfg.Accounts = 20000
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Months <= 0 {
		cfg.Months = 24
	}
	if cfg.BaseLogit == 0 {
		cfg.BaseLogit = -2.4
	}
	if cfg.Strength == 0 {
		cfg.Strength = 1.6
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed_a11e_a125))
	span := cfg.Start.AddDate(0, cfg.Months, 0).Sub(cfg.Start)
	out := make([]Sample, cfg.Accounts)
	for i := range out {
		z := rng.NormFloat64()
		s := Sample{
			Account:    fmt.Sprintf("SYN%07d", i),
			Time:       cfg.Start.Add(time.Duration(rng.Int64N(int64(span)/int64(time.Hour))) * time.Hour),
			Propensity: z,
		}
		u := rng.Float64()
		seg := segmentMix[len(segmentMix)-1]
		for _, m := range segmentMix {
			if u < m.share {
				seg = m
				break
			}
			u -= m.share
		}
		s.Features = features(rng, z, seg.seg)
		s.TruePD = sigmoid(cfg.BaseLogit + cfg.Strength*z + seg.offset)
		s.Defaulted = rng.Float64() < s.TruePD
		out[i] = s
	}
	return out
}

// features draws noisy observations of propensity z.
func features(rng *rand.Rand, z float64, seg event.Segment) risk.Features {
	n := rng.NormFloat64
	f := risk.Features{Segment: seg}
	f.TenureDays = int32(math.Min(math.Exp(6.3-0.35*z+0.9*n()), 5000))
	f.OpenInvoices = 1 + poisson(rng, math.Exp(0.2+0.35*z))
	if rng.Float64() < sigmoid(-0.9+1.6*z+0.3*n()) {
		f.DaysPastDue = int32(math.Min(math.Exp(2.0+1.1*z+0.5*n()), 400))
		f.OverdueRatio = sigmoid(0.2 + 1.0*z + 0.6*n())
	}
	if seg != event.Prepaid {
		f.Utilisation = math.Exp(-0.9 + 0.4*z + 0.5*n())
	}
	f.LatePayments12M = min(poisson(rng, math.Exp(-0.3+0.8*z)), 12)
	f.AvgDaysToPay = math.Max(0, 22+7*z+8*n())
	f.Reversals = poisson(rng, math.Exp(-2.3+0.9*z))
	f.BrokenPromises = poisson(rng, math.Exp(-2.1+1.0*z))
	f.DisputesOpened = poisson(rng, math.Exp(-2.5+0.3*z))
	return f
}

// poisson draws a Poisson variate (Knuth; fine for the small means here).
func poisson(rng *rand.Rand, lambda float64) int32 {
	lambda = math.Min(lambda, 50)
	l, k, p := math.Exp(-lambda), int32(0), 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
