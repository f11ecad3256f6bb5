package train

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// ScorecardOptions names the scorecard and sets what the fit does not:
// tiers and the points scale. The zero value uses the defaults.
type ScorecardOptions struct {
	// Name defaults to "trained".
	Name        string
	Description string
	// Tiers default to LOW < 0.05 <= MEDIUM < 0.2 <= HIGH < 0.5 <= VERY_HIGH.
	Tiers []TierSpec
	// Points default to base 600 at odds 50:1, 20 points to double the
	// odds, clamped to [0, 1000].
	Points *Points
}

// TierSpec is one tier: PD < Below. The last tier's Below is ignored.
type TierSpec struct {
	Name  string
	Below float64
}

// Points is the integer score scale.
type Points struct {
	Base, BaseOdds, PDO, Min, Max float64
}

// DefaultTiers are the tiers of ScorecardOptions' zero value.
func DefaultTiers() []TierSpec {
	return []TierSpec{{"LOW", 0.05}, {"MEDIUM", 0.2}, {"HIGH", 0.5}, {"VERY_HIGH", 0}}
}

// Scorecard renders m as risk scorecard YAML with comments, validated by
// risk.Load before it is returned. Numbers keep 8 significant digits, so
// the loaded scorecard's PD matches m.PD to about 1e-7.
func (m *Model) Scorecard(o ScorecardOptions) ([]byte, error) {
	if o.Name == "" {
		o.Name = "trained"
	}
	if o.Tiers == nil {
		o.Tiers = DefaultTiers()
	}
	pts := Points{Base: 600, BaseOdds: 50, PDO: 20, Min: 0, Max: 1000}
	if o.Points != nil {
		pts = *o.Points
	}
	var b bytes.Buffer
	met := m.metrics
	fmt.Fprintf(&b, "# Risk scorecard produced by processor/risk/train. Edit by hand if you must:\n")
	fmt.Fprintf(&b, "# the version is the hash of this file. logit = intercept + segment offset +\n")
	fmt.Fprintf(&b, "# sum of feature contributions; PD = 1/(1+exp(-logit)).\n")
	fmt.Fprintf(&b, "# Linear: contribution = weight * (transform(min(max(x, min), max)) - center);\n")
	fmt.Fprintf(&b, "# center is the training mean, so contributions are relative to an average account.\n")
	if met.TrainRows > 0 {
		fmt.Fprintf(&b, "# Trained on %d rows (%d defaults) before %s; held out %d rows (%d defaults):\n",
			met.TrainRows, met.TrainDefaults, met.Split.Format("2006-01-02"), met.TestRows, met.TestDefaults)
		fmt.Fprintf(&b, "# AUC %.4f, KS %.4f, log loss %.4f.\n", met.AUC, met.KS, met.LogLoss)
	}
	fmt.Fprintf(&b, "name: %s\n", o.Name)
	if o.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", strconv.Quote(o.Description))
	}
	fmt.Fprintf(&b, "intercept: %s\n", num(m.Intercept))
	if len(m.Terms) > 0 {
		b.WriteString("features:\n")
	}
	for _, t := range m.Terms {
		s := t.Spec
		fmt.Fprintf(&b, "  %s:\n", s.Feature)
		if len(s.Edges) == 0 {
			fmt.Fprintf(&b, "    # standardised coefficient %s (mean %s, sd %s)\n", num(t.Coef), num(t.Mean), num(t.SD))
			fmt.Fprintf(&b, "    weight: %s\n", num(t.Weight))
			tr := s.Transform
			if tr == "" {
				tr = risk.TransformIdentity
			}
			fmt.Fprintf(&b, "    transform: %s\n", tr)
			if s.Max > 0 {
				fmt.Fprintf(&b, "    max: %s\n", num(s.Max))
			}
			fmt.Fprintf(&b, "    center: %s\n", num(t.Center))
		} else {
			b.WriteString("    bins:\n")
			lower := 0.0
			for i, w := range t.BinWeights {
				if i < len(s.Edges) {
					fmt.Fprintf(&b, "      - {lower: %s, upper: %s, weight: %s} # %d training rows\n", num(lower), num(s.Edges[i]), num(w), t.BinCounts[i])
					lower = s.Edges[i]
				} else {
					fmt.Fprintf(&b, "      - {lower: %s, weight: %s} # %d training rows\n", num(lower), num(w), t.BinCounts[i])
				}
			}
		}
		switch s.Monotone {
		case 1:
			b.WriteString("    monotone: increasing\n")
		case -1:
			b.WriteString("    monotone: decreasing\n")
		}
	}
	var segs []string
	for _, s := range []event.Segment{event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale} {
		if v, ok := m.Segments[s]; ok {
			segs = append(segs, fmt.Sprintf("  %s: %s\n", s, num(v)))
		}
	}
	if len(segs) > 0 {
		b.WriteString("segments:\n" + strings.Join(segs, ""))
	}
	b.WriteString("tiers:\n")
	for i, t := range o.Tiers {
		if i == len(o.Tiers)-1 {
			fmt.Fprintf(&b, "  - {name: %s}\n", t.Name)
		} else {
			fmt.Fprintf(&b, "  - {name: %s, below: %s}\n", t.Name, num(t.Below))
		}
	}
	fmt.Fprintf(&b, "points: {base: %s, base_odds: %s, pdo: %s, min: %s, max: %s}\n",
		num(pts.Base), num(pts.BaseOdds), num(pts.PDO), num(pts.Min), num(pts.Max))
	out := b.Bytes()
	if _, err := risk.Load(out, o.Name+".yaml"); err != nil {
		return nil, fmt.Errorf("train: rendered scorecard does not load: %w", err)
	}
	return out, nil
}

// num formats v with 8 significant digits in a form YAML reads as a float.
func num(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}
