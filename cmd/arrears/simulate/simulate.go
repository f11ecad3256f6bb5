package simulate

import (
	"cmp"
	"context"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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
	Event     *event.Event // set: no decoding (both replays read it; the core never changes an event)
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
	// Historical estimates cures and cash for both arms from the cure
	// rates the active replay observed (Result.Response; see
	// ResponseMethod), crediting payments within CureDays (1-365) of an
	// action.
	Historical bool
	CureDays   int
	// Progress, when set, is called now and then (from one goroutine at a
	// time, not the caller's) with the work done and the total: each record
	// counts twice, once read and once replayed.
	Progress func(done, total int)
	// Shards is how many workers replay accounts side by side (each
	// account on one, under both policies); 0 is GOMAXPROCS. The result is
	// the same for any number.
	Shards int
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
	// Response is the --response historical estimate (nil without it).
	Response *Response `json:"response,omitempty"`

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
	if active.Versions != nil { // the published versions of the other policies still switch
		if env.Versions, err = active.Versions.Override(set.Policies()...); err != nil {
			return nil, nil, err
		}
	}
	return &env, names, nil
}

// Run replays h under active and under candidate, and compares. The
// history is read once, in partition order, and regrouped by account with
// each record's partition clock (regroup); then every account is replayed
// alone from its whole history (replay.Account), under both policies one
// after the other, on Options.Shards workers side by side. An account's
// decisions depend only on its own records, their clocks and its own
// wake-ups, so this decides as replaying the partitions in order does
// (replay's TestAccountMajorAgrees), while no account's state outlives its
// replay. The result does not depend on the number of workers.
func Run(ctx context.Context, h History, dec Decoder, active, candidate *core.Env, o Options) (*Result, error) {
	if o.Historical {
		if err := validCureDays(o.CureDays); err != nil {
			return nil, err
		}
	}
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
	prog := newProgress(o.Progress, 2*total)
	hist, err := regroup(ctx, h, parts, only, o.Until.UnixMilli(), func(n int) { prog.set(0, n) })
	if err != nil {
		return nil, err
	}
	r.Accounts = len(hist.ids)
	workers := o.Shards
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(hist.ids)))
	arms := [2][]*arm{make([]*arm, workers), make([]*arm, workers)} // [active, candidate][worker]
	for w := range workers {
		arms[0][w], arms[1][w] = newArm(active, o), newArm(candidate, o)
		if o.Historical {
			arms[0][w].tally.pays = &payments{by: map[string][]payment{}}
		}
	}
	var next atomic.Int64 // the next block of accounts to replay
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			var evs []event.Event
			var steps []replay.Step
			replayed := 0
			for {
				lo := int(next.Add(accountBlock)) - accountBlock
				if lo >= len(hist.ids) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				for i := lo; i < min(lo+accountBlock, len(hist.ids)); i++ {
					var end int64
					var err error
					if evs, steps, end, err = hist.steps(gctx, dec, i, evs, steps); err != nil {
						return err
					}
					end = max(end, o.Until.UnixMilli())
					for _, a := range [2]*arm{arms[0][w], arms[1][w]} {
						if err := a.replay(hist.ids[i], steps, end); err != nil {
							return err
						}
					}
					replayed += len(steps)
				}
				prog.set(w+1, replayed)
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	prog.finish()
	r.Active, r.ActiveActions = summary(arms[0])
	r.Candidate, r.CandidateActions = summary(arms[1])
	if o.Historical {
		pays := map[string][]payment{}
		for _, a := range arms[0] {
			maps.Copy(pays, a.tally.pays.by) // an account is on one worker
		}
		r.Response = historical(r.ActiveActions, r.CandidateActions, pays, o.CureDays)
		if !o.KeepActions {
			r.ActiveActions, r.CandidateActions = nil, nil
		}
	}
	return r, nil
}

// progress sums the parts of a run's work (records read, each worker's
// records replayed) for Options.Progress, one call at a time.
type progress struct {
	mu    sync.Mutex
	f     func(done, total int)
	total int
	parts []int
}

func newProgress(f func(done, total int), total int) *progress {
	return &progress{f: f, total: total}
}

// set reports part i's work done.
func (p *progress) set(i, n int) {
	if p.f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.parts) <= i {
		p.parts = append(p.parts, 0)
	}
	p.parts[i] = n
	done := 0
	for _, d := range p.parts {
		done += d
	}
	p.f(min(done, p.total), p.total)
}

// finish reports the work done in full.
func (p *progress) finish() {
	if p.f != nil {
		p.f(p.total, p.total)
	}
}

// accountBlock is how many accounts a worker takes at a time.
const accountBlock = 64

// batchSize is how many records are read between two progress reports.
const batchSize = 1024

var notes = []string{
	"decisions are counted when their action time is in [from, until]; the replay applies every landed record up to until",
	"mean_days_to_first_contact: days past due of each contacted account's first contact in the window",
	"deferrals: contacts joining an account's deferred list (quiet hours, calendar, contact cap), read from the state after each step",
	"contact_cost: NOTIFY actions priced by simulate.contact_cost per channel",
}

// arm is one replay: its environment, account replay and tally.
type arm struct {
	env   *core.Env
	acct  *replay.Account
	tally *tally
}

func newArm(env *core.Env, o Options) *arm {
	t := newTally(o.From, o.Until, o.Cost, o.KeepActions || o.Historical)
	return &arm{env: env, tally: t, acct: replay.NewAccount(env, t.observe)}
}

// replay runs one account from its whole history.
func (a *arm) replay(id string, steps []replay.Step, end int64) error {
	a.tally.begin()
	err := a.acct.Replay(id, steps, end)
	a.tally.end()
	return err
}

// summary is the Summary of one replay's workers and its actions in (time,
// account, id) order.
func summary(workers []*arm) (Summary, []Action) {
	ts := make([]*tally, len(workers))
	var as []Action
	for i, a := range workers {
		ts[i] = a.tally
		as = append(as, a.tally.actions...)
	}
	s := summarize(ts)
	for _, a := range workers {
		s.Rejects += a.acct.Rejects
		s.Wakes += a.acct.Wakes
	}
	if env := workers[0].env; env.Policies != nil {
		for _, p := range env.Policies.Policies() {
			s.Policies = append(s.Policies, p.Name+"@"+p.Version)
		}
	}
	// stable: an account's actions keep their replay order whatever the workers
	slices.SortStableFunc(as, func(x, y Action) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Account, y.Account), cmp.Compare(x.ID, y.ID))
	})
	return s, as
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
