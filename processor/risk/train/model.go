package train

import (
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// Model is a fitted scorecard with the standardisation folded in: the
// logit is Intercept + the segment's offset + the sum of the terms'
// contributions, exactly as risk.Scorecard computes it.
type Model struct {
	Intercept float64
	Terms     []Term
	// Segments are the per-segment offsets (the reference segment is 0).
	Segments map[event.Segment]float64
	// Split is the start of the held-out period.
	Split   time.Time
	metrics Metrics
}

// Term is one feature of a Model.
type Term struct {
	Spec FeatureSpec
	// Linear terms: contribution = Weight * (Transform(min(x, Max)) - Center).
	// Weight = Coef / SD and Center = Mean, where Coef is the fitted
	// coefficient of the standardised value and Mean, SD its training
	// moments.
	Weight, Center float64
	Coef, Mean, SD float64
	// Binned terms: BinWeights[i] is the contribution of bin i, centred so
	// that the training rows' mean contribution is 0 (the mean went into
	// the intercept). BinCounts are the training rows per bin.
	BinWeights []float64
	BinCounts  []int
}

func (b *builder) model(beta []float64, rows []*Row) *Model {
	m := &Model{Intercept: beta[0], Segments: map[event.Segment]float64{}}
	for k, s := range b.specs {
		c := b.col[k]
		if c < 0 {
			continue
		}
		t := Term{Spec: s}
		if len(s.Edges) == 0 {
			t.Coef, t.Mean, t.SD = beta[c], b.mean[k], b.sd[k]
			t.Weight, t.Center = beta[c]/b.sd[k], b.mean[k]
		} else {
			nb := len(s.Edges) + 1
			t.BinWeights = make([]float64, nb)
			t.BinCounts = make([]int, nb)
			copy(t.BinWeights[1:], beta[c:c+nb-1])
			for _, r := range rows {
				t.BinCounts[binOf(s.Edges, r.Features.Value(s.Feature))]++
			}
			if s.Monotone != 0 {
				pava(t.BinWeights, t.BinCounts, s.Monotone)
			}
			mean := 0.0
			for i, w := range t.BinWeights {
				mean += w * float64(t.BinCounts[i])
			}
			mean /= float64(len(rows))
			for i := range t.BinWeights {
				t.BinWeights[i] -= mean
			}
			m.Intercept += mean
		}
		m.Terms = append(m.Terms, t)
	}
	segBase := len(beta) - len(b.segCols)
	if len(b.segCols) > 0 {
		m.Segments[b.segRef] = 0
	}
	for j, s := range b.segCols {
		m.Segments[s] = beta[segBase+j]
	}
	return m
}

// pava makes w monotone in direction dir (+1 non-decreasing, -1
// non-increasing) by pooling adjacent violators, weighted by counts.
func pava(w []float64, counts []int, dir int) {
	type block struct {
		sum, n float64
		len    int
	}
	sgn := float64(dir)
	var st []block
	for i, v := range w {
		n := math.Max(float64(counts[i]), 1e-9)
		st = append(st, block{sum: sgn * v * n, n: n, len: 1})
		for len(st) > 1 {
			a, b := st[len(st)-2], st[len(st)-1]
			if a.sum/a.n <= b.sum/b.n {
				break
			}
			st = st[:len(st)-2]
			st = append(st, block{sum: a.sum + b.sum, n: a.n + b.n, len: a.len + b.len})
		}
	}
	i := 0
	for _, bl := range st {
		for k := 0; k < bl.len; k++ {
			w[i] = sgn * bl.sum / bl.n
			i++
		}
	}
}

// Logit returns the model's logit for f, summed in the scorecard's order
// (intercept, segment offset, then features).
func (m *Model) Logit(f risk.Features) float64 {
	var contrib [risk.NumFeatures]float64
	for i := range m.Terms {
		t := &m.Terms[i]
		v := f.Value(t.Spec.Feature)
		if len(t.Spec.Edges) > 0 {
			contrib[t.Spec.Feature] = t.BinWeights[binOf(t.Spec.Edges, v)]
			continue
		}
		if t.Spec.Max > 0 && v > t.Spec.Max {
			v = t.Spec.Max
		}
		contrib[t.Spec.Feature] = t.Weight * (t.Spec.Transform.Apply(v) - t.Center)
	}
	logit := m.Intercept + m.Segments[f.Segment]
	for _, c := range contrib {
		logit += c
	}
	return logit
}

// PD returns the model's probability of default for f.
func (m *Model) PD(f risk.Features) float64 { return sigmoid(m.Logit(f)) }

// Metrics returns the held-out metrics Train measured.
func (m *Model) Metrics() Metrics { return m.metrics }
