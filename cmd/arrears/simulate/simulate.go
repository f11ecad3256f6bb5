package simulate

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/replay"
)

// Record is one landed input record: its partition (the processing
// partition), event time in Unix ms, account and either its value (to
// decode) or the event itself.
type Record struct {
	Partition int32
	Ms        int64
	Account   string
	Value     []byte
	Event     *event.Event // set: no decoding
}

// History is the landed input: records per partition in the order the
// processor applied them (partitions may interleave in any way).
type History interface {
	// Partitions is one more than the highest partition with a record.
	Partitions(ctx context.Context) (int, error)
	// Accounts lists every account with a record (for --sample).
	Accounts(ctx context.Context) ([]string, error)
	// Count is the number of records Records gives for until.
	Count(ctx context.Context, until time.Time) (int, error)
	// Records calls f for every record with an event time at or before until.
	Records(ctx context.Context, until time.Time, f func(Record) error) error
}

// Decoder decodes a landed record value (the codec's DecodeEvent).
type Decoder func(ctx context.Context, b []byte) (event.Event, error)

// Options are a simulation's window and knobs.
type Options struct {
	// From and Until bound (inclusive) the window whose decisions are
	// counted. The replay itself starts at the first landed record (an
	// account's state needs its whole history) and stops at Until, to which
	// every partition's clock is then moved.
	From, Until time.Time
	// Sample > 0 replays only the Sample accounts with the smallest FNV-1a
	// hash of their id (deterministic); other accounts' records still move
	// their partition's clock.
	Sample int
	// Cost is the contact cost per channel (simulate.contact_cost).
	Cost map[event.Channel]float64
	// KeepActions keeps every counted action in the Result.
	KeepActions bool
	// Progress, when set, is called now and then with the records done
	// and the total of both replays.
	Progress func(done, total int)
}

// Result compares the two replays.
type Result struct {
	From      time.Time `json:"from"`
	Until     time.Time `json:"until"`
	Sample    int       `json:"sample,omitempty"`
	Accounts  int       `json:"accounts"` // accounts replayed
	Records   int       `json:"records"`  // landed records read per replay
	Active    Summary   `json:"active"`
	Candidate Summary   `json:"candidate"`
	// Changed names the policies the candidate replaced or added.
	Changed []string `json:"changed"`
	// Notes say what the figures mean and what they leave out.
	Notes []string `json:"notes"`

	ActiveActions, CandidateActions []Action `json:"-"`
}

// Candidate is active with the policies of files replacing those of the
// same name (others stay; a new name is added).
func Candidate(active *core.Env, files []policy.File) (*core.Env, []string, error) {
	set, err := policy.LoadSet(files)
	if err != nil {
		return nil, nil, err
	}
	byName := map[string]*policy.Policy{}
	var names []string
	if active.Policies != nil {
		for _, p := range active.Policies.Policies() {
			byName[p.Name] = p
		}
	}
	for _, p := range set.Policies() {
		byName[p.Name] = p
		names = append(names, p.Name+"@"+p.Version)
	}
	ps := make([]*policy.Policy, 0, len(byName))
	for _, p := range byName {
		ps = append(ps, p)
	}
	merged, err := policy.NewSet(ps...)
	if err != nil {
		return nil, nil, err
	}
	env := *active
	env.Policies = merged
	return &env, names, nil
}

// Run replays h under active, then under candidate, and compares.
func Run(ctx context.Context, h History, dec Decoder, active, candidate *core.Env, o Options) (*Result, error) {
	parts, err := h.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	var only map[string]bool
	if o.Sample > 0 {
		accts, err := h.Accounts(ctx)
		if err != nil {
			return nil, err
		}
		only = sample(accts, o.Sample)
	}
	total, err := h.Count(ctx, o.Until)
	if err != nil {
		return nil, err
	}
	r := &Result{From: o.From.UTC(), Until: o.Until.UTC(), Sample: o.Sample, Records: total, Notes: notes}
	done := 0
	progress := func(n int) {
		if o.Progress != nil {
			o.Progress(done+n, 2*total)
		}
	}
	var accts int
	if r.Active, r.ActiveActions, accts, err = replayOnce(ctx, h, dec, active, parts, only, o, progress); err != nil {
		return nil, fmt.Errorf("replay under the active policies: %w", err)
	}
	done = total
	if r.Candidate, r.CandidateActions, _, err = replayOnce(ctx, h, dec, candidate, parts, only, o, progress); err != nil {
		return nil, fmt.Errorf("replay under the candidate: %w", err)
	}
	r.Accounts = accts
	progress(total)
	return r, nil
}

var notes = []string{
	"decisions are counted when their action time is in [from, until]; the replay applies every landed record up to until",
	"mean_days_to_first_contact: days past due of each contacted account's first contact in the window",
	"deferrals: contacts joining an account's deferred list (quiet hours, calendar, contact cap), read from the state after each step",
	"contact_cost: NOTIFY actions priced by simulate.contact_cost per channel",
}

// replayOnce runs one replay and tallies it.
func replayOnce(ctx context.Context, h History, dec Decoder, env *core.Env, parts int, only map[string]bool, o Options, progress func(int)) (Summary, []Action, int, error) {
	t := newTally(o.From, o.Until, o.Cost, o.KeepActions)
	bk := replay.New(env, replay.Options{Partitions: parts, Observe: t.observe,
		PartitionOf: nil}) // accounts' partitions come with their records
	seen := map[string]bool{}
	n := 0
	err := h.Records(ctx, o.Until, func(rec Record) error {
		n++
		if n%10000 == 0 {
			progress(n)
		}
		if rec.Partition < 0 || int(rec.Partition) >= parts {
			return fmt.Errorf("record on partition %d of %d", rec.Partition, parts)
		}
		at := time.UnixMilli(rec.Ms).UTC()
		if only != nil && !only[rec.Account] {
			return bk.Advance(rec.Partition, at) // the record still moved its partition's clock
		}
		ev, err := decoded(ctx, dec, rec)
		if err != nil {
			return err
		}
		seen[ev.Account] = true
		return bk.StepOn(rec.Partition, ev)
	})
	if err != nil {
		return Summary{}, nil, 0, err
	}
	if err := bk.AdvanceAll(o.Until); err != nil {
		return Summary{}, nil, 0, err
	}
	s := t.summary()
	s.Rejects, s.Wakes = bk.Rejects, bk.Wakes
	if env.Policies != nil {
		for _, p := range env.Policies.Policies() {
			s.Policies = append(s.Policies, p.Name+"@"+p.Version)
		}
	}
	slices.SortFunc(t.actions, func(a, b Action) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Account, b.Account), cmp.Compare(a.ID, b.ID))
	})
	return s, t.actions, len(seen), nil
}

func decoded(ctx context.Context, dec Decoder, rec Record) (event.Event, error) {
	if rec.Event != nil {
		return *rec.Event, nil
	}
	ev, err := dec(ctx, rec.Value)
	if err != nil {
		return ev, fmt.Errorf("decode the landed record of partition %d at %d ms: %w", rec.Partition, rec.Ms, err)
	}
	return ev, nil
}

// sample is the n accounts with the smallest FNV-1a 64 hash of their id.
func sample(accts []string, n int) map[string]bool {
	type h struct {
		sum uint64
		id  string
	}
	hs := make([]h, len(accts))
	for i, a := range accts {
		f := fnv.New64a()
		f.Write([]byte(a))
		hs[i] = h{f.Sum64(), a}
	}
	slices.SortFunc(hs, func(x, y h) int { return cmp.Or(cmp.Compare(x.sum, y.sum), cmp.Compare(x.id, y.id)) })
	out := make(map[string]bool, min(n, len(hs)))
	for _, x := range hs[:min(n, len(hs))] {
		out[x.id] = true
	}
	return out
}
