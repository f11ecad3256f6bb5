package risk

import (
	"math"

	"github.com/arrears/arrears/processor/event"
)

// MaxReasons is the number of reason codes a Result carries at most.
const MaxReasons = 3

// Scorecard is a loaded, validated logistic scorecard. It is immutable and
// safe for concurrent use. Build one with Load.
type Scorecard struct {
	name        string
	version     string
	description string
	intercept   float64
	terms       [NumFeatures]term
	segment     [4]float64 // by segmentIndex
	tiers       []tier
	points      points
}

type termKind uint8

const (
	termNone termKind = iota
	termLinear
	termBins
)

// term is one feature's part of the scorecard.
type term struct {
	kind termKind
	// linear: weight * (transform(clamp(x, min, max)) - center)
	weight    float64
	center    float64
	transform Transform
	min, max  float64
	// bins: the weight of the bin holding x; values below the first lower
	// bound or at/above the last upper bound take the nearest end bin.
	bins []bin
	// monotone is +1 (increasing), -1 (decreasing) or 0 (not declared).
	monotone int8
}

type bin struct {
	lower, upper float64 // [lower, upper); upper = +Inf for the last bin
	weight       float64
}

type tier struct {
	name  string
	below float64 // PD < below; +Inf for the last tier
}

// points maps the logit to the integer score:
// score = base + factor*(ln(odds_good) - ln(baseOdds)), factor = pdo/ln 2,
// odds_good = (1-PD)/PD = exp(-logit). Higher scores are safer.
type points struct {
	base, baseOdds, pdo float64
	min, max            float64
	// score = offset - factor*logit, set by Load
	offset, factor float64
}

// contribution returns the term's contribution to the logit for value x.
func (t *term) contribution(x float64) float64 {
	switch t.kind {
	case termLinear:
		if x < t.min {
			x = t.min
		}
		if x > t.max {
			x = t.max
		}
		return t.weight * (t.transform.Apply(x) - t.center)
	case termBins:
		for i := range t.bins {
			if x < t.bins[i].upper {
				return t.bins[i].weight
			}
		}
		if n := len(t.bins); n > 0 {
			return t.bins[n-1].weight
		}
	}
	return 0
}

// Result is one scored account. It is a plain value (no pointers besides
// strings owned by the scorecard), so Score does not allocate.
type Result struct {
	// Logit = Intercept + SegmentOffset + Contributions[0] + ... +
	// Contributions[NumFeatures-1], summed in exactly that order.
	Logit         float64
	Intercept     float64
	SegmentOffset float64
	// Contributions holds each feature's contribution to the logit, indexed
	// by Feature; positive values raise the PD.
	Contributions [NumFeatures]float64
	// PD is the probability of default, 1/(1+exp(-Logit)).
	PD float64
	// Score is the points-scaled integer score; higher is safer.
	Score int32
	// Tier is the name of the tier whose PD range holds PD.
	Tier string
	// Reasons are the (at most MaxReasons) features with the largest positive
	// contributions, largest first; ties keep feature order. Only
	// Reasons[:NumReasons] are set.
	Reasons    [MaxReasons]event.ReasonCode
	NumReasons int
	// ModelVersion is the scorecard's Version.
	ModelVersion string
}

// TopReasons returns the set reason codes, aliasing r.
func (r *Result) TopReasons() []event.ReasonCode {
	return r.Reasons[:r.NumReasons]
}

// Name returns the scorecard's name.
func (s *Scorecard) Name() string { return s.name }

// Version returns the content hash of the YAML the scorecard was loaded
// from (16 hex digits of its SHA-256).
func (s *Scorecard) Version() string { return s.version }

// Description returns the scorecard's free-text description.
func (s *Scorecard) Description() string { return s.description }

// Tiers returns the tier names, lowest risk first.
func (s *Scorecard) Tiers() []string {
	out := make([]string, len(s.tiers))
	for i, t := range s.tiers {
		out[i] = t.name
	}
	return out
}

// Score scores one account. It is pure, does not allocate and never fails:
// odd inputs are sanitised as Features.Value describes.
func (s *Scorecard) Score(f Features) Result {
	r := Result{Intercept: s.intercept, ModelVersion: s.version}
	if i := segmentIndex(f.Segment); i >= 0 {
		r.SegmentOffset = s.segment[i]
	}
	logit := r.Intercept + r.SegmentOffset
	for i := range s.terms {
		c := s.terms[i].contribution(f.Value(Feature(i)))
		r.Contributions[i] = c
		logit += c
	}
	r.Logit = logit
	r.PD = sigmoid(logit)
	r.Score = s.points.score(logit)
	r.Tier = s.tierOf(r.PD)
	r.pickReasons()
	return r
}

// pickReasons fills Reasons with the largest positive contributions.
func (r *Result) pickReasons() {
	var idx [MaxReasons]int
	n := 0
	for i, c := range r.Contributions {
		if !(c > 0) {
			continue
		}
		// insertion into the sorted top list; strict > keeps feature order on ties
		pos := n
		for pos > 0 && c > r.Contributions[idx[pos-1]] {
			pos--
		}
		if pos >= MaxReasons {
			continue
		}
		if n < MaxReasons {
			n++
		}
		copy(idx[pos+1:n], idx[pos:n-1])
		idx[pos] = i
	}
	for k := 0; k < n; k++ {
		f := Feature(idx[k])
		r.Reasons[k] = event.ReasonCode{Code: f.ReasonCode(), Contribution: r.Contributions[f]}
	}
	r.NumReasons = n
}

// tierOf returns the first tier whose cut-off is above pd.
func (s *Scorecard) tierOf(pd float64) string {
	for _, t := range s.tiers {
		if pd < t.below {
			return t.name
		}
	}
	if n := len(s.tiers); n > 0 {
		return s.tiers[n-1].name
	}
	return ""
}

func (p *points) score(logit float64) int32 {
	v := p.offset - p.factor*logit
	if math.IsNaN(v) || v < p.min {
		v = p.min
	}
	if v > p.max {
		v = p.max
	}
	return int32(math.Round(v))
}

// sigmoid is the logistic function, stable for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
