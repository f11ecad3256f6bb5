package policy

import (
	"fmt"
	"slices"
	"sort"

	"github.com/arrears/arrears/processor/event"
)

// File is one policy file for LoadSet: its name (for errors) and bytes.
type File struct {
	Name string
	Data []byte
}

// Set is a group of loaded policies that Select chooses from. It is
// immutable and safe to share.
type Set struct {
	policies []*Policy // sorted by name
	// champions maps a linked challenger policy's name to its champion;
	// named holds every policy a champion names as its challenger; broken
	// are the experiments not linked (experiment.go).
	champions map[string]*Policy
	named     map[string]bool
	broken    Errors
}

// NewSet builds a Set; policy names must be unique.
func NewSet(ps ...*Policy) (*Set, error) {
	s := &Set{policies: make([]*Policy, 0, len(ps))}
	seen := map[string]bool{}
	for _, p := range ps {
		if p == nil {
			continue
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("policy set: duplicate policy name %q", p.Name)
		}
		seen[p.Name] = true
		s.policies = append(s.policies, p)
	}
	sort.Slice(s.policies, func(i, j int) bool { return s.policies[i].Name < s.policies[j].Name })
	s.broken = s.linkExperiments()
	return s, nil
}

// LoadSet loads every file and builds a Set. All files are checked; the
// error is an Errors listing every problem of every file, including a
// policy name used by two files.
func LoadSet(files []File) (*Set, error) {
	var errs Errors
	var ps []*Policy
	byName := map[string]string{}
	for _, f := range files {
		p, err := Load(f.Data, f.Name)
		if err != nil {
			if es, ok := err.(Errors); ok {
				errs = append(errs, es...)
			} else {
				errs = append(errs, &ConfigError{File: f.Name, Msg: err.Error()})
			}
			continue
		}
		if first, dup := byName[p.Name]; dup {
			errs = append(errs, &ConfigError{File: f.Name, Field: "name",
				Msg: fmt.Sprintf("policy name %q already used by %s", p.Name, first)})
			continue
		}
		byName[p.Name] = f.Name
		ps = append(ps, p)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	s, err := NewSet(ps...)
	if err == nil && len(s.broken) > 0 { // files are loaded strictly: every experiment must link
		return nil, s.broken
	}
	return s, err
}

// Policies returns the policies sorted by name.
func (s *Set) Policies() []*Policy { return append([]*Policy(nil), s.policies...) }

// Get returns the named policy or nil.
func (s *Set) Get(name string) *Policy {
	for _, p := range s.policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Select returns the policy for an account, or nil when none applies. A
// policy applies when its segments include segment and its credit classes
// and risk tiers, when listed, include the account's. Among those the most
// specific wins (one point for listing credit classes, one for risk tiers),
// then the higher priority, then the smaller name, so the choice never
// depends on load order.
func (s *Set) Select(segment event.Segment, creditClass, riskTier string) *Policy {
	var best *Policy
	bestSpec := -1
	for _, p := range s.policies { // name order: the first of equals wins
		sel := &p.Selection
		if !slices.Contains(sel.Segments, segment) || s.isChallenger(p) {
			continue
		}
		spec := 0
		if len(sel.CreditClasses) > 0 {
			if !slices.Contains(sel.CreditClasses, creditClass) {
				continue
			}
			spec++
		}
		if len(sel.RiskTiers) > 0 {
			if !slices.Contains(sel.RiskTiers, riskTier) {
				continue
			}
			spec++
		}
		if best == nil || spec > bestSpec || (spec == bestSpec && sel.Priority > best.Selection.Priority) {
			best, bestSpec = p, spec
		}
	}
	return best
}

// Require is Select that reports ErrNoPolicy instead of nil.
func (s *Set) Require(segment event.Segment, creditClass, riskTier string) (*Policy, error) {
	if p := s.Select(segment, creditClass, riskTier); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("segment %q credit class %q risk tier %q: %w", segment, creditClass, riskTier, ErrNoPolicy)
}
