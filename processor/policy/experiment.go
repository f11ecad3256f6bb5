package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// Champion/challenger experiments (docs/policies.md "Experiments"). A
// champion policy may name, for the accounts it selects, a challenger
// policy that a share of them get instead, under an experiment id:
//
//	challenger: {experiment: EXP-2026-12, policy: postpaid-soft, share: 0.10}
//
// Which arm an account is in is Assign's deterministic hash of (experiment
// id, account id) against the share, decided the first time the account is
// evaluated under the experiment and then kept in its state (sticky), so a
// later change of the share moves only accounts not yet assigned. The
// challenger policy is never selected on its own: Select skips it, and the
// account reaches it only through its champion's experiment.

// Challenger is a champion policy's experiment.
type Challenger struct {
	// Experiment is the experiment id (letters, digits, '.', '_', '-'; at
	// most 64), carried on every action, status and ClickHouse row.
	Experiment string
	// Policy names the challenger policy, in the same set.
	Policy string
	// Share is the fraction of newly assigned accounts that get the
	// challenger, in [0, MaxShare] (0 stops new assignments to it and keeps
	// the accounts already there).
	Share float64
	// File and Line locate the section, for the set's checks.
	File string
	Line int
}

// MaxShare is the largest challenger share a policy may give.
const MaxShare = 0.5

// shareBuckets is the assignment's resolution: a share is a whole number
// of 1/10,000ths (0.1234 is 1,234 buckets of 10,000).
const shareBuckets = 10000

var experimentID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// challenger parses the challenger section.
func (p *parser) challenger(n *yaml.Node) *Challenger {
	c := &Challenger{File: p.File}
	if d := strictyaml.Deref(n); d != nil {
		c.Line = d.Line
	}
	have := map[string]bool{}
	for _, e := range p.mapping(n, "challenger", []string{"experiment", "policy", "share"}) {
		field := strictyaml.Join("challenger", e.Key)
		have[e.Key] = true
		switch e.Key {
		case "experiment":
			if v, ok := p.nonEmpty(e.Value, field); ok {
				if !experimentID.MatchString(v) {
					p.Errorf(e.Value, field, "%q is not an experiment id (1-64 letters, digits, '.', '_' or '-')", v)
				}
				c.Experiment = v
			}
		case "policy":
			c.Policy, _ = p.nonEmpty(e.Value, field)
		case "share":
			v, err := p.Float(e.Value, field)
			switch {
			case err != nil:
			case v < 0 || v > MaxShare:
				p.Errorf(e.Value, field, "%g not in [0, %g]", v, MaxShare)
			case math.Abs(v*shareBuckets-math.Round(v*shareBuckets)) > 1e-9:
				p.Errorf(e.Value, field, "%g is finer than 1/%d", v, shareBuckets)
			default:
				c.Share = v
			}
		}
	}
	if d := strictyaml.Deref(n); d != nil && d.Kind == yaml.MappingNode {
		for _, req := range []string{"experiment", "policy", "share"} {
			if !have[req] {
				p.Errorf(n, strictyaml.Join("challenger", req), "is required")
			}
		}
	}
	return c
}

// Assign reports whether account is in the challenger arm of experiment
// at share: the first 8 bytes of SHA-256(experiment, NUL, account), big
// endian, modulo 10,000, below share × 10,000. It is a pure function, so
// every instance and every replay assigns alike; the caller keeps the
// result (the assignment is sticky, the share is not).
func Assign(experiment, account string, share float64) bool {
	h := sha256.New()
	h.Write([]byte(experiment))
	h.Write([]byte{0})
	h.Write([]byte(account))
	var sum [sha256.Size]byte
	bucket := binary.BigEndian.Uint64(h.Sum(sum[:0])) % shareBuckets
	return bucket < uint64(math.Round(share*shareBuckets))
}

// Arm names an arm for outputs: event.ArmChallenger or event.ArmChampion.
func Arm(challenger bool) string {
	if challenger {
		return event.ArmChallenger
	}
	return event.ArmChampion
}

// Experiment is the experiment pol takes part in and whether pol is its
// challenger: for a champion its own section, for a challenger its
// champion's; ok false outside experiments, and for a champion whose
// experiment the set could not link (ExperimentErrors).
func (s *Set) Experiment(pol *Policy) (c *Challenger, challenger, ok bool) {
	if pol == nil || s == nil {
		return nil, false, false
	}
	if s.running(pol) {
		return pol.Challenger, false, true
	}
	if champ := s.champions[pol.Name]; champ != nil {
		return champ.Challenger, true, true
	}
	return nil, false, false
}

// ForArm returns the policy of an account selected by champion: the
// challenger policy when challenger is set and champion runs an
// experiment, else champion.
func (s *Set) ForArm(champion *Policy, challenger bool) *Policy {
	if !challenger || !s.running(champion) {
		return champion
	}
	return s.Get(champion.Challenger.Policy)
}

// running reports a champion whose experiment the set linked.
func (s *Set) running(p *Policy) bool {
	return p != nil && p.Challenger != nil && s.champions[p.Challenger.Policy] == p
}

// ExperimentErrors are the experiments NewSet could not link (see
// linkExperiments): they do not run, their champions decide alone.
// LoadSet refuses a set with any; a Timeline's sets (policy versions
// published one by one) keep deciding without them.
func (s *Set) ExperimentErrors() Errors { return s.broken }

// sameAccounts reports selections of the same segments, credit classes
// and risk tiers (in any order).
func sameAccounts(a, b Selection) bool {
	same := func(x, y []string) bool {
		x, y = slices.Clone(x), slices.Clone(y)
		slices.Sort(x)
		slices.Sort(y)
		return slices.Equal(slices.Compact(x), slices.Compact(y))
	}
	segs := func(s []event.Segment) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = string(v)
		}
		return out
	}
	return same(segs(a.Segments), segs(b.Segments)) && same(a.CreditClasses, b.CreditClasses) && same(a.RiskTiers, b.RiskTiers)
}

// isChallenger reports a policy some champion names as its challenger,
// linked or not (Select skips it).
func (s *Set) isChallenger(p *Policy) bool { return s.named[p.Name] }

// linkExperiments checks the experiments across the set and indexes each
// challenger's champion: the challenger policy exists and is another
// policy without a challenger of its own, is the challenger of one
// champion only, selects the champion's accounts with a lower priority (so
// it never decides alone, even once the experiment is dropped), and no two
// champions share an experiment id. An experiment that fails a check is
// not linked (it does not run) and its problem is returned.
func (s *Set) linkExperiments() Errors {
	var errs Errors
	s.champions, s.named = map[string]*Policy{}, map[string]bool{}
	byExperiment := map[string]string{}
	for _, p := range s.policies {
		c := p.Challenger
		if c == nil {
			continue
		}
		s.named[c.Policy] = true
		ok := true
		fail := func(field, format string, args ...any) {
			errs = append(errs, &ConfigError{File: c.File, Line: c.Line, Field: "challenger." + field, Msg: fmt.Sprintf(format, args...)})
			ok = false
		}
		ch := s.Get(c.Policy)
		switch {
		case ch == nil:
			fail("policy", "unknown policy %q", c.Policy)
		case ch == p:
			fail("policy", "a policy cannot be its own challenger")
		case ch.Challenger != nil:
			fail("policy", "%q runs experiment %s itself: a challenger cannot have a challenger", c.Policy, ch.Challenger.Experiment)
		case s.champions[c.Policy] != nil:
			fail("policy", "%q is already the challenger of %q", c.Policy, s.champions[c.Policy].Name)
		case !sameAccounts(ch.Selection, p.Selection) || ch.Selection.Priority >= p.Selection.Priority:
			fail("policy", "%q must select the accounts %q selects (same segments, credit classes and risk tiers) with a lower priority (%d, not %d): "+
				"otherwise it decides on its own once the experiment ends", c.Policy, p.Name, p.Selection.Priority-1, ch.Selection.Priority)
		}
		if other, dup := byExperiment[c.Experiment]; dup {
			fail("experiment", "experiment %s is already run by %q", c.Experiment, other)
		}
		if ok {
			s.champions[c.Policy] = p
			byExperiment[c.Experiment] = p.Name
		}
	}
	return errs
}
