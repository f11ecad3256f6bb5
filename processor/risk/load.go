package risk

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/strictyaml"
)

// Load parses and validates a scorecard YAML; name is used in errors (a file
// name). The scorecard's Version is a hash of data, so any edit, even a
// comment, is a new version. Every error is a *ConfigError naming the field
// and, when known, its line. The format:
//
//	name: default                # required
//	description: free text
//	intercept: -2.9              # required: logit of the reference account
//	features:                    # feature name -> linear or bins term
//	  days_past_due:             # linear: weight * (transform(clamp(x)) - center)
//	    weight: 0.61
//	    transform: log1p         # identity (default) | log1p
//	    min: 0                   # clamp before the transform (default 0, +inf)
//	    max: 365
//	    center: 1.2              # default 0
//	    monotone: increasing     # optional check: increasing | decreasing
//	  reversals:                 # bins: [lower, upper) -> weight, contiguous
//	    bins:
//	      - {lower: 0, upper: 1, weight: -0.1}
//	      - {lower: 1, upper: 3, weight: 0.4}
//	      - {lower: 3, weight: 1.1}   # no upper: to infinity
//	segments: {prepaid: 0.3, postpaid: 0, corporate: -0.4, wholesale: -0.6}
//	tiers:                       # ordered PD cut-offs: PD < below
//	  - {name: LOW, below: 0.05}
//	  - {name: MEDIUM, below: 0.2}
//	  - {name: HIGH, below: 0.5}
//	  - {name: VERY_HIGH}        # the last tier has no cut-off
//	points: {base: 600, base_odds: 50, pdo: 20, min: 0, max: 1000}
//
// Features not listed contribute 0. Values outside the first and last bin
// take the nearest end bin.
func Load(data []byte, name string) (*Scorecard, error) {
	sum := sha256.Sum256(data)
	s := &Scorecard{
		version: hex.EncodeToString(sum[:8]),
		points:  points{base: 600, baseOdds: 50, pdo: 20, min: 0, max: 1000},
	}
	p := &parser{strictyaml.Reader{File: cmp.Or(name, "scorecard")}}
	root, err := strictyaml.Parse(data, p.File)
	if err == nil {
		err = p.scorecard(root, s)
	}
	if err != nil {
		return nil, err
	}
	s.points.scale()
	return s, nil
}

// parser reads a scorecard and stops at its first problem: the returned
// error is that *ConfigError.
type parser struct{ strictyaml.Reader }

func (p *parser) scorecard(root *yaml.Node, s *Scorecard) error {
	es, err := p.Mapping(root, "", []string{"name", "description", "intercept", "features", "segments", "tiers", "points"})
	if err != nil {
		return err
	}
	var haveIntercept, haveTiers bool
	for _, e := range es {
		switch e.Key {
		case "name":
			if s.name, err = p.Str(e.Value, "name"); err != nil {
				return err
			}
			if !validName(s.name) {
				return p.Errorf(e.Value, "name", "%q: use letters, digits, '_', '-' and '.' (1-64)", s.name)
			}
		case "description":
			if s.description, err = p.Str(e.Value, "description"); err != nil {
				return err
			}
		case "intercept":
			if s.intercept, err = p.Float(e.Value, "intercept"); err != nil {
				return err
			}
			haveIntercept = true
		case "features":
			if err = p.features(e.Value, s); err != nil {
				return err
			}
		case "segments":
			if err = p.segments(e.Value, s); err != nil {
				return err
			}
		case "tiers":
			if err = p.tiers(e.Value, s); err != nil {
				return err
			}
			haveTiers = true
		case "points":
			if err = p.points(e.Value, s); err != nil {
				return err
			}
		}
	}
	switch {
	case s.name == "":
		return p.Errorf(root, "name", "is required")
	case !haveIntercept:
		return p.Errorf(root, "intercept", "is required")
	case !haveTiers:
		return p.Errorf(root, "tiers", "is required")
	}
	return nil
}

func (p *parser) features(n *yaml.Node, s *Scorecard) error {
	es, err := p.Mapping(n, "features", nil)
	if err != nil {
		return err
	}
	for _, e := range es {
		field := strictyaml.Join("features", e.Key)
		f, ok := ParseFeature(e.Key)
		if !ok {
			names := make([]string, NumFeatures)
			for i := range names {
				names[i] = Feature(i).String()
			}
			return p.Errorf(e.KeyNode, field, "unknown feature (want one of %s)", strings.Join(names, ", "))
		}
		if err := p.term(e.Value, field, &s.terms[f]); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) term(n *yaml.Node, field string, t *term) error {
	es, err := p.Mapping(n, field, []string{"weight", "center", "transform", "min", "max", "bins", "monotone"})
	if err != nil {
		return err
	}
	*t = term{min: 0, max: math.Inf(1), transform: TransformIdentity}
	var haveWeight, haveLinearKey bool
	var binsNode *yaml.Node
	for _, e := range es {
		sub := strictyaml.Join(field, e.Key)
		switch e.Key {
		case "weight":
			t.weight, err = p.Float(e.Value, sub)
			haveWeight = true
		case "center":
			t.center, err = p.Float(e.Value, sub)
			haveLinearKey = true
		case "min":
			t.min, err = p.Float(e.Value, sub)
			haveLinearKey = true
		case "max":
			t.max, err = p.Float(e.Value, sub)
			haveLinearKey = true
		case "transform":
			var v string
			if v, err = p.Str(e.Value, sub); err == nil {
				t.transform = Transform(v)
				if !t.transform.Valid() {
					err = p.Errorf(e.Value, sub, "unknown transform %q (want identity or log1p)", v)
				}
			}
			haveLinearKey = true
		case "monotone":
			var v string
			if v, err = p.Str(e.Value, sub); err == nil {
				switch v {
				case "increasing":
					t.monotone = 1
				case "decreasing":
					t.monotone = -1
				default:
					err = p.Errorf(e.Value, sub, "%q: want increasing or decreasing", v)
				}
			}
		case "bins":
			binsNode = e.Value
		}
		if err != nil {
			return err
		}
	}
	mono := strictyaml.Join(field, "monotone")
	switch {
	case binsNode != nil && (haveWeight || haveLinearKey):
		return p.Errorf(n, field, "has both bins and linear fields (weight, center, transform, min, max)")
	case binsNode != nil:
		t.kind = termBins
		if err := p.bins(binsNode, strictyaml.Join(field, "bins"), t); err != nil {
			return err
		}
		for i := 1; i < len(t.bins); i++ {
			d := t.bins[i].weight - t.bins[i-1].weight
			if float64(t.monotone)*d < 0 {
				return p.Errorf(n, mono, "bin weights are not %s (bins[%d] %g after %g)",
					monoName(t.monotone), i, t.bins[i].weight, t.bins[i-1].weight)
			}
		}
	case !haveWeight:
		return p.Errorf(n, strictyaml.Join(field, "weight"), "is required (or give bins)")
	default:
		t.kind = termLinear
		if t.min < 0 {
			return p.Errorf(n, strictyaml.Join(field, "min"), "must be >= 0 (feature values are never negative)")
		}
		if !(t.min < t.max) {
			return p.Errorf(n, strictyaml.Join(field, "max"), "must be above min %g", t.min)
		}
		if float64(t.monotone)*t.weight < 0 {
			return p.Errorf(n, mono, "weight %g contradicts monotone %s", t.weight, monoName(t.monotone))
		}
	}
	return nil
}

func monoName(m int8) string {
	if m < 0 {
		return "decreasing"
	}
	return "increasing"
}

func (p *parser) bins(n *yaml.Node, field string, t *term) error {
	n = strictyaml.Deref(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return p.Errorf(n, field, "must be a non-empty list")
	}
	t.bins = make([]bin, 0, len(n.Content))
	for i, bn := range n.Content {
		bf := strictyaml.Index(field, i)
		es, err := p.Mapping(bn, bf, []string{"lower", "upper", "weight"})
		if err != nil {
			return err
		}
		b := bin{lower: math.NaN(), upper: math.Inf(1), weight: math.NaN()}
		var upperNode *yaml.Node
		for _, e := range es {
			sub := strictyaml.Join(bf, e.Key)
			var v float64
			if v, err = p.Float(e.Value, sub); err != nil {
				return err
			}
			switch e.Key {
			case "lower":
				b.lower = v
			case "upper":
				b.upper, upperNode = v, e.Value
			case "weight":
				b.weight = v
			}
		}
		last := i == len(n.Content)-1
		switch {
		case math.IsNaN(b.lower):
			return p.Errorf(bn, strictyaml.Join(bf, "lower"), "is required")
		case math.IsNaN(b.weight):
			return p.Errorf(bn, strictyaml.Join(bf, "weight"), "is required")
		case upperNode == nil && !last:
			return p.Errorf(bn, strictyaml.Join(bf, "upper"), "is required except on the last bin")
		case !(b.lower < b.upper):
			return p.Errorf(bn, strictyaml.Join(bf, "upper"), "must be above lower %g", b.lower)
		}
		if last {
			b.upper = math.Inf(1) // values at or above the last bound take the last bin
		}
		if i > 0 {
			prev := t.bins[i-1]
			switch {
			case b.lower < prev.lower:
				return p.Errorf(bn, strictyaml.Join(bf, "lower"), "bins are not sorted (%g after [%g, %g))", b.lower, prev.lower, prev.upper)
			case b.lower < prev.upper:
				return p.Errorf(bn, strictyaml.Join(bf, "lower"), "overlaps previous bin [%g, %g)", prev.lower, prev.upper)
			case b.lower > prev.upper:
				return p.Errorf(bn, strictyaml.Join(bf, "lower"), "leaves a gap after previous bin [%g, %g)", prev.lower, prev.upper)
			}
		}
		t.bins = append(t.bins, b)
	}
	return nil
}

func (p *parser) segments(n *yaml.Node, s *Scorecard) error {
	es, err := p.Mapping(n, "segments", []string{"prepaid", "postpaid", "corporate", "wholesale"})
	if err != nil {
		return err
	}
	for _, e := range es {
		v, err := p.Float(e.Value, strictyaml.Join("segments", e.Key))
		if err != nil {
			return err
		}
		for i, seg := range segments {
			if string(seg) == e.Key {
				s.segment[i] = v
			}
		}
	}
	return nil
}

func (p *parser) tiers(n *yaml.Node, s *Scorecard) error {
	n = strictyaml.Deref(n)
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) < 2 {
		return p.Errorf(n, "tiers", "must list at least two tiers")
	}
	seen := map[string]bool{}
	for i, tn := range n.Content {
		tf := strictyaml.Index("tiers", i)
		es, err := p.Mapping(tn, tf, []string{"name", "below"})
		if err != nil {
			return err
		}
		t := tier{below: math.Inf(1)}
		var belowNode *yaml.Node
		for _, e := range es {
			sub := strictyaml.Join(tf, e.Key)
			switch e.Key {
			case "name":
				if t.name, err = p.Str(e.Value, sub); err != nil {
					return err
				}
			case "below":
				if t.below, err = p.Float(e.Value, sub); err != nil {
					return err
				}
				belowNode = e.Value
			}
		}
		last := i == len(n.Content)-1
		switch {
		case !validTier(t.name):
			return p.Errorf(tn, strictyaml.Join(tf, "name"), "%q: use 1-32 letters, digits and '_'", t.name)
		case seen[t.name]:
			return p.Errorf(tn, strictyaml.Join(tf, "name"), "%q is used twice", t.name)
		case last && belowNode != nil:
			return p.Errorf(belowNode, strictyaml.Join(tf, "below"), "the last tier takes every PD above the previous cut-off; remove below")
		case !last && belowNode == nil:
			return p.Errorf(tn, strictyaml.Join(tf, "below"), "is required except on the last tier")
		case !last && !(t.below > 0 && t.below < 1):
			return p.Errorf(belowNode, strictyaml.Join(tf, "below"), "must be a PD in (0, 1), got %g", t.below)
		case i > 0 && !last && !(t.below > s.tiers[i-1].below):
			return p.Errorf(belowNode, strictyaml.Join(tf, "below"), "cut-offs must increase (%g after %g)", t.below, s.tiers[i-1].below)
		}
		seen[t.name] = true
		s.tiers = append(s.tiers, t)
	}
	return nil
}

func (p *parser) points(n *yaml.Node, s *Scorecard) error {
	es, err := p.Mapping(n, "points", []string{"base", "base_odds", "pdo", "min", "max"})
	if err != nil {
		return err
	}
	pt := &s.points
	for _, e := range es {
		sub := strictyaml.Join("points", e.Key)
		v, err := p.Float(e.Value, sub)
		if err != nil {
			return err
		}
		switch e.Key {
		case "base":
			pt.base = v
		case "base_odds":
			if !(v > 0) {
				return p.Errorf(e.Value, sub, "must be > 0")
			}
			pt.baseOdds = v
		case "pdo":
			if !(v > 0) {
				return p.Errorf(e.Value, sub, "must be > 0")
			}
			pt.pdo = v
		case "min":
			pt.min = v
		case "max":
			pt.max = v
		}
	}
	const lim = 1e9
	switch {
	case math.Abs(pt.min) > lim || math.Abs(pt.max) > lim:
		return p.Errorf(n, "points", "min and max must be within ±1e9")
	case !(pt.min < pt.max):
		return p.Errorf(n, "points.max", "must be above min %g", pt.min)
	}
	return nil
}

// scale precomputes score = offset - factor*logit.
func (pt *points) scale() {
	pt.factor = pt.pdo / math.Ln2
	pt.offset = pt.base - pt.factor*math.Log(pt.baseOdds)
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func validTier(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
