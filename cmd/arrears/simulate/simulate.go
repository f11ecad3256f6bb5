package simulate

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"
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
	// Progress, when set, is called now and then (from another goroutine)
	// with the records read and the total.
	Progress func(done, total int)
	// Shards is how many books each replay is split into by partition
	// (partition p goes to shard p mod Shards), all replayed side by side;
	// 0 is GOMAXPROCS, and never more than the partitions. The result is
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
// history is read and decoded once (by the reader, ahead of the replays:
// both read the same decoded event, which the core never changes; what it
// keeps of one, the ledger and dunning copy). Each replay is split by
// partition into Options.Shards books (accounts on different partitions
// never meet in a replay), and every shard of both replays runs side by
// side, so both books are in memory at once. The result does not depend
// on the number of shards.
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
	shards := o.Shards
	if shards <= 0 {
		shards = runtime.GOMAXPROCS(0)
	}
	shards = max(1, min(shards, parts))
	var arms [2][]*arm // [active, candidate][shard]
	for s := range shards {
		arms[0] = append(arms[0], newArm(active, parts, only, o))
		arms[1] = append(arms[1], newArm(candidate, parts, only, o))
		if o.Historical {
			arms[0][s].tally.pays = &payments{by: map[string][]payment{}}
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	feeds := [2][]chan []Record{make([]chan []Record, shards), make([]chan []Record, shards)}
	for i := range feeds {
		for s := range feeds[i] {
			feeds[i][s] = make(chan []Record, 8)
		}
	}
	g.Go(func() error {
		defer func() {
			for i := range feeds {
				for _, f := range feeds[i] {
					close(f)
				}
			}
		}()
		rd := reader{ctx: gctx, feeds: feeds, batches: make([]batch, shards), total: total, progress: o.Progress}
		err := h.Records(gctx, o.Until, func(rec Record) error {
			if rec.Partition < 0 || int(rec.Partition) >= parts {
				return fmt.Errorf("record on partition %d of %d", rec.Partition, parts)
			}
			s := int(rec.Partition) % shards
			b := &rd.batches[s]
			if b.evs == nil {
				b.evs = make([]event.Event, 0, batchSize) // the batch's decoded events: one allocation a batch (never grown: at most batchSize)
			}
			if rec.Event == nil && (only == nil || only[rec.Account]) { // a record out of the sample only moves the clock
				ev, err := decoded(gctx, dec, rec)
				if err != nil {
					return err
				}
				b.evs = append(b.evs, ev)
				rec.Event, rec.Value = &b.evs[len(b.evs)-1], nil
			}
			if b.recs = append(b.recs, rec); len(b.recs) == batchSize {
				return rd.send(s)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for s := range shards {
			if err := rd.send(s); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range arms {
		for s, a := range arms[i] {
			g.Go(func() error {
				for batch := range feeds[i][s] {
					if err := a.steps(batch); err != nil {
						return err
					}
				}
				if gctx.Err() != nil {
					return gctx.Err()
				}
				return a.book.AdvanceAll(o.Until)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r.Active, r.ActiveActions = summary(arms[0])
	r.Candidate, r.CandidateActions = summary(arms[1])
	for _, a := range arms[0] {
		a.book.Accounts(func(string, *core.State) { r.Accounts++ })
	}
	if o.Historical {
		pays := map[string][]payment{}
		for _, a := range arms[0] {
			maps.Copy(pays, a.tally.pays.by) // an account is on one shard
		}
		r.Response = historical(r.ActiveActions, r.CandidateActions, pays, o.CureDays)
		if !o.KeepActions {
			r.ActiveActions, r.CandidateActions = nil, nil
		}
	}
	return r, nil
}

// batch is the records the reader gathers for one shard, and their decoded
// events.
type batch struct {
	recs []Record
	evs  []event.Event
}

// reader hands each shard's batches to that shard of both replays.
type reader struct {
	ctx      context.Context
	feeds    [2][]chan []Record
	batches  []batch
	n, total int
	progress func(done, total int)
}

// send hands shard s its batch (even an empty one) and starts the next.
func (rd *reader) send(s int) error {
	recs := rd.batches[s].recs
	for i := range rd.feeds {
		select {
		case rd.feeds[i][s] <- recs:
		case <-rd.ctx.Done():
			return rd.ctx.Err()
		}
	}
	rd.n += len(recs)
	if rd.progress != nil {
		rd.progress(rd.n, rd.total)
	}
	rd.batches[s] = batch{recs: make([]Record, 0, batchSize)} // the replays read the one sent
	return nil
}

// batchSize is how many records the reader hands the replays at a time.
const batchSize = 1024

var notes = []string{
	"decisions are counted when their action time is in [from, until]; the replay applies every landed record up to until",
	"mean_days_to_first_contact: days past due of each contacted account's first contact in the window",
	"deferrals: contacts joining an account's deferred list (quiet hours, calendar, contact cap), read from the state after each step",
	"contact_cost: NOTIFY actions priced by simulate.contact_cost per channel",
}

// arm is one replay: its environment, book and tally.
type arm struct {
	env   *core.Env
	only  map[string]bool // nil: every account
	book  *replay.Book
	tally *tally
}

func newArm(env *core.Env, parts int, only map[string]bool, o Options) *arm {
	t := newTally(o.From, o.Until, o.Cost, o.KeepActions || o.Historical)
	// accounts' partitions come with their records (StepOn)
	return &arm{env: env, only: only, tally: t,
		book: replay.New(env, replay.Options{Partitions: parts, Observe: t.observe})}
}

// steps applies a batch of records (decoded by the reader).
func (a *arm) steps(batch []Record) error {
	for _, rec := range batch {
		if a.only != nil && !a.only[rec.Account] {
			// the record still moved its partition's clock
			if err := a.book.Advance(rec.Partition, time.UnixMilli(rec.Ms).UTC()); err != nil {
				return err
			}
			continue
		}
		if a.tally.pays != nil {
			if _, ok := rec.Event.Body.(*event.PaymentReceived); ok {
				a.tally.pays.pending = rec.Event // the observer takes it (not on a duplicate or a refusal)
			}
		}
		err := a.book.StepOn(rec.Partition, *rec.Event)
		if a.tally.pays != nil {
			a.tally.pays.pending = nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// summary is the Summary of one replay's shards and its actions in (time,
// account, id) order.
func summary(shards []*arm) (Summary, []Action) {
	ts := make([]*tally, len(shards))
	var as []Action
	for i, a := range shards {
		ts[i] = a.tally
		as = append(as, a.tally.actions...)
	}
	s := summarize(ts)
	for _, a := range shards {
		s.Rejects += a.book.Rejects
		s.Wakes += a.book.Wakes
	}
	if env := shards[0].env; env.Policies != nil {
		for _, p := range env.Policies.Policies() {
			s.Policies = append(s.Policies, p.Name+"@"+p.Version)
		}
	}
	// stable: an account's actions keep their replay order whatever the shards
	slices.SortStableFunc(as, func(x, y Action) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.Account, y.Account), cmp.Compare(x.ID, y.ID))
	})
	return s, as
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
