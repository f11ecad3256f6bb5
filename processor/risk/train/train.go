package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// Row is one labelled snapshot: an account's features at Time and whether
// it defaulted in the outcome window that followed (label 1).
type Row struct {
	Features  risk.Features
	Defaulted bool
	Time      time.Time
}

// FeatureSpec says how one feature enters the model.
type FeatureSpec struct {
	Feature risk.Feature
	// Transform applies after clamping to [0, Max]; empty means identity.
	Transform risk.Transform
	// Max caps the raw value (0: no cap).
	Max float64
	// Edges, when set, make the feature binned instead of linear: bins
	// [0, Edges[0]), [Edges[0], Edges[1]), ..., [Edges[k-1], +inf), one
	// weight each. Edges must be increasing and positive.
	Edges []float64
	// Monotone is +1 when more of the feature must never lower the PD, -1
	// when it must never raise it, 0 when unconstrained. A linear feature
	// whose fitted weight has the wrong sign is dropped and the model
	// refitted; binned weights are made monotone by pooling adjacent
	// violators (weighted by bin counts).
	Monotone int
}

// DefaultFeatureSpecs is every feature, linear, with caps and log1p on the
// long-tailed counts; the risk-raising features are constrained increasing
// and tenure decreasing.
func DefaultFeatureSpecs() []FeatureSpec {
	return []FeatureSpec{
		{Feature: risk.FeatureDaysPastDue, Transform: risk.TransformLog1p, Max: 365, Monotone: 1},
		{Feature: risk.FeatureOverdueRatio, Max: 1, Monotone: 1},
		{Feature: risk.FeatureUtilisation, Max: 3, Monotone: 1},
		{Feature: risk.FeatureLatePayments12M, Transform: risk.TransformLog1p, Max: 12, Monotone: 1},
		{Feature: risk.FeatureAvgDaysToPay, Max: 120, Monotone: 1},
		{Feature: risk.FeatureReversals, Transform: risk.TransformLog1p, Max: 12, Monotone: 1},
		{Feature: risk.FeatureBrokenPromises, Transform: risk.TransformLog1p, Max: 12, Monotone: 1},
		{Feature: risk.FeatureDisputesOpened, Transform: risk.TransformLog1p, Max: 12},
		{Feature: risk.FeatureTenureDays, Transform: risk.TransformLog1p, Max: 3650, Monotone: -1},
		{Feature: risk.FeatureOpenInvoices, Transform: risk.TransformLog1p, Max: 36},
	}
}

// TrainOptions tunes Train. The zero value uses the documented defaults.
type TrainOptions struct {
	// Split separates the periods: rows with Time before Split train, the
	// rest are the held-out test period. Zero: the latest TestFraction of
	// the rows (by Time) are held out.
	Split time.Time
	// TestFraction is the held-out share when Split is zero. Default 0.3.
	TestFraction float64
	// L2 is the ridge penalty ½·L2·Σβ² on the standardised linear
	// coefficients and the bin and segment indicators (never the
	// intercept). Default 1.
	L2 float64
	// Features lists the model's features. Default DefaultFeatureSpecs().
	Features []FeatureSpec
	// NoSegments drops the per-segment offsets.
	NoSegments bool
	// MaxIter bounds Newton iterations. Default 100.
	MaxIter int
	// Tol stops Newton when no coefficient moves more than it. Default 1e-9.
	Tol float64
}

func (o *TrainOptions) defaults() error {
	if o.TestFraction == 0 {
		o.TestFraction = 0.3
	}
	if o.L2 == 0 {
		o.L2 = 1
	}
	if o.Features == nil {
		o.Features = DefaultFeatureSpecs()
	}
	if o.MaxIter == 0 {
		o.MaxIter = 100
	}
	if o.Tol == 0 {
		o.Tol = 1e-9
	}
	switch {
	case !(o.TestFraction > 0 && o.TestFraction < 1):
		return fmt.Errorf("%w: TestFraction %v: must be in (0, 1)", ErrOptions, o.TestFraction)
	case !(o.L2 > 0) || math.IsInf(o.L2, 0):
		return fmt.Errorf("%w: L2 %v: must be > 0", ErrOptions, o.L2)
	case o.MaxIter < 1:
		return fmt.Errorf("%w: MaxIter %d: must be >= 1", ErrOptions, o.MaxIter)
	case !(o.Tol > 0):
		return fmt.Errorf("%w: Tol %v: must be > 0", ErrOptions, o.Tol)
	}
	seen := map[risk.Feature]bool{}
	for i, s := range o.Features {
		name := fmt.Sprintf("Features[%d]", i)
		switch {
		case int(s.Feature) >= risk.NumFeatures:
			return fmt.Errorf("%w: %s: unknown feature %d", ErrOptions, name, s.Feature)
		case seen[s.Feature]:
			return fmt.Errorf("%w: %s: %s listed twice", ErrOptions, name, s.Feature)
		case !s.Transform.Valid():
			return fmt.Errorf("%w: %s.Transform: unknown %q", ErrOptions, name, s.Transform)
		case s.Max < 0 || math.IsNaN(s.Max) || math.IsInf(s.Max, 0):
			return fmt.Errorf("%w: %s.Max: must be >= 0", ErrOptions, name)
		case s.Monotone < -1 || s.Monotone > 1:
			return fmt.Errorf("%w: %s.Monotone: must be -1, 0 or 1", ErrOptions, name)
		}
		for k, e := range s.Edges {
			if !(e > 0) || math.IsInf(e, 0) || (k > 0 && !(e > s.Edges[k-1])) {
				return fmt.Errorf("%w: %s.Edges[%d]: must be positive and increasing", ErrOptions, name, k)
			}
		}
		seen[s.Feature] = true
	}
	return nil
}

// Errors of Train.
var (
	ErrOptions = errors.New("train: invalid options")
	ErrData    = errors.New("train: unusable data")
)

// Train splits rows by time, fits an L2-regularised logistic regression on
// the earlier period and measures it on the later one. The returned Model
// has the standardisation folded in, ready for (*Model).Scorecard. Rows are
// not modified. Train is deterministic for the same rows and options.
func Train(rows []Row, opts TrainOptions) (*Model, Metrics, error) {
	if err := opts.defaults(); err != nil {
		return nil, Metrics{}, err
	}
	if len(rows) == 0 {
		return nil, Metrics{}, fmt.Errorf("%w: no rows", ErrData)
	}
	split := opts.Split
	if split.IsZero() {
		times := make([]time.Time, len(rows))
		for i := range rows {
			times[i] = rows[i].Time
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		split = times[int(float64(len(times))*(1-opts.TestFraction))]
	}
	var trainRows, testRows []*Row
	for i := range rows {
		if rows[i].Time.Before(split) {
			trainRows = append(trainRows, &rows[i])
		} else {
			testRows = append(testRows, &rows[i])
		}
	}
	if err := checkClasses("training", trainRows); err != nil {
		return nil, Metrics{}, err
	}
	if err := checkClasses("held-out", testRows); err != nil {
		return nil, Metrics{}, err
	}

	b := newBuilder(opts, trainRows)
	var fit fitResult
	for {
		d := b.design(trainRows)
		var err error
		if fit, err = fitLogistic(d, b.penalties(opts.L2), opts.MaxIter, opts.Tol); err != nil {
			return nil, Metrics{}, err
		}
		if !b.dropWrongSigns(fit.beta) {
			break
		}
	}
	m := b.model(fit.beta, trainRows)
	m.Split = split

	met := Metrics{
		Split:      split.UTC(),
		TrainRows:  len(trainRows),
		TestRows:   len(testRows),
		Iterations: fit.iterations,
		Converged:  fit.converged,
		Dropped:    b.droppedNames(),
	}
	met.TrainDefaults, met.TrainAUC, _, _ = evaluate(m, trainRows)
	met.TestDefaults, met.AUC, met.KS, met.Calibration = evaluate(m, testRows)
	met.LogLoss, met.Brier = lossOf(m, testRows)
	m.metrics = met
	return m, met, nil
}

func checkClasses(period string, rows []*Row) error {
	var pos int
	for _, r := range rows {
		if r.Defaulted {
			pos++
		}
	}
	if pos == 0 || pos == len(rows) {
		return fmt.Errorf("%w: the %s period (%d rows, %d defaults) needs both defaults and non-defaults", ErrData, period, len(rows), pos)
	}
	return nil
}

// builder maps rows to design columns and back to scorecard terms.
type builder struct {
	specs    []FeatureSpec
	mean, sd []float64 // per spec, linear only
	dropped  []bool    // per spec
	segRef   event.Segment
	segCols  []event.Segment // segments with their own column
	col      []int           // per spec: first design column, -1 when absent
}

func newBuilder(opts TrainOptions, rows []*Row) *builder {
	b := &builder{
		specs:   opts.Features,
		mean:    make([]float64, len(opts.Features)),
		sd:      make([]float64, len(opts.Features)),
		dropped: make([]bool, len(opts.Features)),
	}
	n := float64(len(rows))
	for k, s := range b.specs {
		if len(s.Edges) > 0 {
			continue
		}
		var sum, sq float64
		for _, r := range rows {
			v := linearValue(s, &r.Features)
			sum += v
			sq += v * v
		}
		b.mean[k] = sum / n
		b.sd[k] = math.Sqrt(math.Max(sq/n-b.mean[k]*b.mean[k], 0))
		if b.sd[k] < 1e-12 {
			b.dropped[k] = true // constant in training: nothing to learn
		}
	}
	if !opts.NoSegments {
		count := map[event.Segment]int{}
		for _, r := range rows {
			if r.Features.Segment.Valid() {
				count[r.Features.Segment]++
			}
		}
		present := make([]event.Segment, 0, len(count))
		for _, s := range []event.Segment{event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale} {
			if count[s] > 0 {
				present = append(present, s)
			}
		}
		if len(present) > 1 {
			// postpaid is the reference when present, else the most common
			b.segRef = present[0]
			for _, s := range present {
				if s == event.Postpaid || (b.segRef != event.Postpaid && count[s] > count[b.segRef]) {
					b.segRef = s
				}
			}
			for _, s := range present {
				if s != b.segRef {
					b.segCols = append(b.segCols, s)
				}
			}
		}
	}
	return b
}

func linearValue(s FeatureSpec, f *risk.Features) float64 {
	v := f.Value(s.Feature)
	if s.Max > 0 && v > s.Max {
		v = s.Max
	}
	return s.Transform.Apply(v)
}

func binOf(edges []float64, v float64) int {
	return sort.Search(len(edges), func(i int) bool { return v < edges[i] })
}

// layout assigns design columns; it returns the column count.
func (b *builder) layout() int {
	b.col = make([]int, len(b.specs))
	p := 1
	for k, s := range b.specs {
		switch {
		case b.dropped[k]:
			b.col[k] = -1
		case len(s.Edges) > 0:
			b.col[k] = p
			p += len(s.Edges) // bin 0 is the reference
		default:
			b.col[k] = p
			p++
		}
	}
	return p + len(b.segCols)
}

func (b *builder) design(rows []*Row) *design {
	p := b.layout()
	d := &design{n: len(rows), p: p, x: make([]float64, len(rows)*p), y: make([]float64, len(rows))}
	segBase := p - len(b.segCols)
	for i, r := range rows {
		x := d.row(i)
		x[0] = 1
		for k, s := range b.specs {
			c := b.col[k]
			switch {
			case c < 0:
			case len(s.Edges) > 0:
				if bi := binOf(s.Edges, r.Features.Value(s.Feature)); bi > 0 {
					x[c+bi-1] = 1
				}
			default:
				x[c] = (linearValue(s, &r.Features) - b.mean[k]) / b.sd[k]
			}
		}
		for j, s := range b.segCols {
			if r.Features.Segment == s {
				x[segBase+j] = 1
			}
		}
		if r.Defaulted {
			d.y[i] = 1
		}
	}
	return d
}

func (b *builder) penalties(l2 float64) []float64 {
	p := b.layout()
	out := make([]float64, p)
	for j := 1; j < p; j++ {
		out[j] = l2
	}
	return out
}

// dropWrongSigns drops linear features whose coefficient contradicts their
// declared monotonicity; it reports whether it dropped any.
func (b *builder) dropWrongSigns(beta []float64) bool {
	any := false
	for k, s := range b.specs {
		if c := b.col[k]; c >= 0 && len(s.Edges) == 0 && float64(s.Monotone)*beta[c] < 0 {
			b.dropped[k] = true
			any = true
		}
	}
	return any
}

func (b *builder) droppedNames() []string {
	var out []string
	for k, d := range b.dropped {
		if d {
			out = append(out, b.specs[k].Feature.String())
		}
	}
	return out
}
