package policy

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Record is one published policy version, as the ar.policies topic holds
// it (docs/policies.md "Lifecycle"): the policy's validated YAML, its
// content-hash version and the instant from which partitions decide with
// it. A record also carries the earlier versions of the same name
// (Previous), so the compacted topic, which keeps only the last record of
// a key, keeps every version a replay needs.
type Record struct {
	Name    string
	Version string
	// EffectiveFrom is compared with the decision's time (the partition
	// clock of an event, the due time of a wake-up).
	EffectiveFrom time.Time
	// AppliedAt is the wall time `policy apply` published it.
	AppliedAt time.Time
	YAML      []byte
	// Previous are the earlier versions of Name, oldest effective first
	// (their own Previous empty).
	Previous []Record
}

// Flatten returns r and its previous versions as one list, r last.
func (r Record) Flatten() []Record {
	out := make([]Record, 0, len(r.Previous)+1)
	for _, p := range r.Previous {
		p.Previous = nil
		out = append(out, p)
	}
	r.Previous = nil
	return append(out, r)
}

// Version is one loaded version of a policy in a Timeline.
type Version struct {
	Record
	Policy *Policy
}

// LoadRecord validates a record's YAML with the same strict loader as the
// files (Load) and checks that the record's name and version are the
// policy's own.
func LoadRecord(r Record) (Version, error) {
	p, err := Load(r.YAML, r.Name+"@"+r.Version)
	if err != nil {
		return Version{}, err
	}
	if p.Name != r.Name || p.Version != r.Version {
		return Version{}, fmt.Errorf("policy record %s@%s holds policy %s version %s: %w", r.Name, r.Version, p.Name, p.Version, ErrRecordMismatch)
	}
	if r.EffectiveFrom.IsZero() {
		return Version{}, fmt.Errorf("policy record %s@%s: %w", r.Name, r.Version, ErrNoEffectiveFrom)
	}
	return Version{Record: r, Policy: p}, nil
}

// Timeline is every known version of every policy, ordered by
// effective_from, over a base Set (the files on disk). At(t) is the set in
// force at t: per name, the version with the latest EffectiveFrom <= t
// (of equal instants the later applied); a name with no version yet at t
// keeps its base policy, if any. A Timeline is immutable and pure data:
// every instance and every replay holding the same versions decides the
// same way at the same t.
type Timeline struct {
	base     *Set
	versions []Version   // by (EffectiveFrom, AppliedAt, Name)
	starts   []int64     // distinct EffectiveFrom instants (unix ms), ascending
	sets     []*Set      // sets[i] is in force from starts[i] to starts[i+1]
	byName   [][]Version // per name, same order as versions (List)
}

// NewTimeline builds the timeline of versions over base (nil: no base).
// Duplicates of one (name, version, effective_from) count once.
func NewTimeline(base *Set, versions []Version) (*Timeline, error) {
	vs := dedupe(versions)
	tl := &Timeline{base: base, versions: vs}
	for _, v := range vs {
		ms := v.EffectiveFrom.UnixMilli()
		if n := len(tl.starts); n == 0 || tl.starts[n-1] != ms {
			tl.starts = append(tl.starts, ms)
		}
	}
	current := map[string]*Policy{}
	if base != nil {
		for _, p := range base.policies {
			current[p.Name] = p
		}
	}
	i := 0
	for _, ms := range tl.starts {
		for ; i < len(vs) && vs[i].EffectiveFrom.UnixMilli() == ms; i++ {
			current[vs[i].Name] = vs[i].Policy // the later applied of equal instants wins
		}
		ps := make([]*Policy, 0, len(current))
		for _, p := range current {
			ps = append(ps, p)
		}
		s, err := NewSet(ps...)
		if err != nil {
			return nil, err
		}
		tl.sets = append(tl.sets, s)
	}
	names := map[string]int{}
	for _, v := range vs {
		j, ok := names[v.Name]
		if !ok {
			j = len(tl.byName)
			names[v.Name] = j
			tl.byName = append(tl.byName, nil)
		}
		tl.byName[j] = append(tl.byName[j], v)
	}
	sort.Slice(tl.byName, func(a, b int) bool { return tl.byName[a][0].Name < tl.byName[b][0].Name })
	return tl, nil
}

// dedupe sorts versions by (EffectiveFrom, AppliedAt, Name, Version) and
// drops repeats of one (name, version, effective_from).
func dedupe(versions []Version) []Version {
	vs := slices.Clone(versions)
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := vs[i], vs[j]
		if !a.EffectiveFrom.Equal(b.EffectiveFrom) {
			return a.EffectiveFrom.Before(b.EffectiveFrom)
		}
		if !a.AppliedAt.Equal(b.AppliedAt) {
			return a.AppliedAt.Before(b.AppliedAt)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return slices.CompactFunc(vs, func(a, b Version) bool {
		return a.Name == b.Name && a.Version == b.Version && a.EffectiveFrom.Equal(b.EffectiveFrom)
	})
}

// At returns the policy set in force at t.
func (tl *Timeline) At(t time.Time) *Set {
	if tl == nil {
		return nil
	}
	ms := t.UnixMilli()
	i := sort.Search(len(tl.starts), func(i int) bool { return tl.starts[i] > ms })
	if i == 0 {
		return tl.base
	}
	return tl.sets[i-1]
}

// Base is the set in force before any version (the files).
func (tl *Timeline) Base() *Set { return tl.base }

// Len is the number of versions (the base not counted).
func (tl *Timeline) Len() int {
	if tl == nil {
		return 0
	}
	return len(tl.versions)
}

// History returns, per policy name (sorted), its versions ordered by
// effective_from.
func (tl *Timeline) History() [][]Version {
	out := make([][]Version, len(tl.byName))
	for i, vs := range tl.byName {
		out[i] = slices.Clone(vs)
	}
	return out
}

// Active returns the version of name in force at t, and whether one is
// (false: the base's policy, if any, or none decides).
func (tl *Timeline) Active(name string, t time.Time) (Version, bool) {
	var best Version
	found := false
	for _, vs := range tl.byName {
		if vs[0].Name != name {
			continue
		}
		for _, v := range vs {
			if !v.EffectiveFrom.After(t) {
				best, found = v, true
			}
		}
	}
	return best, found
}

// Override is the timeline with ps in force at every instant under their
// names: each replaces the base's policy of its name (or joins the base)
// and that name's versions are dropped. `simulate` runs a candidate so,
// over the published history of the other policies.
func (tl *Timeline) Override(ps ...*Policy) (*Timeline, error) {
	names := map[string]*Policy{}
	for _, p := range ps {
		names[p.Name] = p
	}
	var base []*Policy
	if tl.base != nil {
		for _, p := range tl.base.policies {
			if names[p.Name] == nil {
				base = append(base, p)
			}
		}
	}
	set, err := NewSet(append(base, ps...)...)
	if err != nil {
		return nil, err
	}
	var vs []Version
	for _, v := range tl.versions {
		if names[v.Name] == nil {
			vs = append(vs, v)
		}
	}
	return NewTimeline(set, vs)
}
