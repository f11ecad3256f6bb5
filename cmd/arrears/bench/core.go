package bench

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"slices"
	"syscall"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/workload"
)

// coreCost is what the pure-core replay measured.
type coreCost struct {
	events   int
	rejects  int
	wakes    int           // wake-ups fired
	accounts int           // accounts with an encoded state at the end
	cpu      time.Duration // this process's user + system CPU inside the steps
	wall     time.Duration
	allocs   uint64 // heap objects allocated inside the steps
}

// coreReplay runs the workload w through the pure core in this process, as
// the processor's partitions run it but with no Kafka, Redis or Avro: per
// partition a clock and the due wake-ups fired in (time, account) order
// before each event, then core.Apply at the partition clock (the order of
// processor/partition.go's step). The events are cut into batches of batch
// input events (the processor's max_poll_records); at a batch's end each
// changed account has its status summary and state encoded once (the
// processor's finish). Every account stays decoded in memory (about 2 KB
// each): loading and decoding states is the shell's cost, as are Avro,
// Kafka and Redis. Generating the next batch's events is not counted: only the steps are, with getrusage(RUSAGE_SELF) for CPU and
// runtime/metrics for allocations, so nothing else may run in this process
// meanwhile.
func coreReplay(w workload.Options, env *core.Env, batch int) (coreCost, error) {
	bk := &coreBook{env: env, parts: make([]corePart, w.Partitions), accts: map[string]*coreAcct{}}
	for i := range bk.parts {
		bk.parts[i] = corePart{timers: newWakes(), dirty: map[string]bool{}}
	}
	var c coreCost
	g := workload.New(w)
	evs := make([]event.Event, 0, batch)
	for {
		evs = evs[:0]
		for len(evs) < batch {
			ev, ok := g.Next()
			if !ok {
				break
			}
			evs = append(evs, ev)
		}
		if len(evs) == 0 {
			c.rejects, c.wakes = bk.rejects, bk.wakes
			for _, a := range bk.accts {
				if a.encoded {
					c.accounts++
				}
			}
			return c, nil
		}
		cpu0, allocs0, t0 := processCPU(), heapAllocs(), time.Now()
		for i := range evs {
			if err := bk.step(evs[i]); err != nil {
				return c, fmt.Errorf("core replay, event %d: %w", c.events+i, err)
			}
		}
		if err := bk.finish(); err != nil {
			return c, err
		}
		c.wall += time.Since(t0)
		c.cpu += processCPU() - cpu0
		c.allocs += heapAllocs() - allocs0
		c.events += len(evs)
	}
}

// coreBook is the replay's whole book: every account's state and partition,
// and the partitions.
type coreBook struct {
	env     *core.Env
	parts   []corePart
	accts   map[string]*coreAcct
	rejects int
	wakes   int
}

type coreAcct struct {
	part    int32
	st      core.State
	encoded bool // a batch encoded it
}

// corePart is one partition's clock, timers and changed accounts.
type corePart struct {
	clock  int64
	timers *wakes
	dirty  map[string]bool
}

// step applies one event as the processor's partition step does.
func (bk *coreBook) step(ev event.Event) error {
	var p int32
	if tk, ok := ev.Body.(*event.ClockTick); ok {
		p = tk.Partition
	} else if ev.Account != "" {
		p = bk.acct(ev.Account).part
	}
	pt := &bk.parts[p]
	pt.clock = max(pt.clock, ev.Time.UnixMilli())
	for {
		acct, at, ok := pt.timers.popDue(pt.clock)
		if !ok {
			break
		}
		st := &bk.acct(acct).st
		pt.dirty[acct] = true
		bk.wakes++
		out, err := core.Wake(st, acct, time.UnixMilli(at).UTC(), bk.env)
		if err != nil {
			return fmt.Errorf("wake: %w", err)
		}
		pt.effects(acct, out)
	}
	if ev.Body.Kind() == event.KindClockTick || ev.Account == "" {
		return nil
	}
	out, err := core.Apply(&bk.acct(ev.Account).st, ev, time.UnixMilli(pt.clock).UTC(), bk.env)
	var rej *core.RejectError
	switch {
	case errors.As(err, &rej):
		bk.rejects++ // the processor dead-letters it; the account is untouched
		return nil
	case err != nil:
		return fmt.Errorf("apply %s: %w", ev.Body.Kind(), err)
	case !out.Duplicate:
		pt.effects(ev.Account, out)
	}
	return nil
}

// effects marks the account changed and moves its wake-up, as the
// processor's effects do (the outputs themselves are the shell's to encode).
func (pt *corePart) effects(acct string, out core.Output) {
	wake := int64(0)
	if !out.NextWake.IsZero() {
		wake = out.NextWake.UnixMilli()
	}
	if moved := pt.timers.at[acct] != wake; moved || out.Changed || len(out.Actions)+len(out.Risk)+len(out.GL) > 0 {
		pt.dirty[acct] = true
		pt.timers.set(acct, wake)
	}
}

// acct is the account's record, created with its partition (the producer's
// murmur2 of the key) on first sight.
func (bk *coreBook) acct(id string) *coreAcct {
	a := bk.accts[id]
	if a == nil {
		a = &coreAcct{part: kafkax.PartitionFor([]byte(id), int32(len(bk.parts))), st: core.State{Account: id}}
		bk.accts[id] = a
	}
	return a
}

// finish encodes every changed account's status summary and state once.
func (bk *coreBook) finish() error {
	for i := range bk.parts {
		pt := &bk.parts[i]
		now := time.UnixMilli(pt.clock).UTC()
		for id := range pt.dirty {
			a := bk.accts[id]
			status := a.st.Status(now)
			enc, err := a.st.MarshalBinary()
			if err != nil {
				return fmt.Errorf("encode state: %w", err)
			}
			status.State, a.encoded = enc, true
		}
		clear(pt.dirty)
	}
	return nil
}

// wakes is the replay's timer index: one wake-up per account, fired in
// (time, account) order as the processor's are. Wake-ups cluster on few
// instants (a stage's hour in the account's zone), so they are kept as the
// sorted distinct instants, each with its accounts (sorted when it comes
// due); an entry that disagrees with at (the wake-up moved) is stale and
// skipped.
type wakes struct {
	at     map[string]int64
	times  []int64
	accts  map[int64][]string
	sorted bool // accts[times[0]] is in account order
}

func newWakes() *wakes { return &wakes{at: map[string]int64{}, accts: map[int64][]string{}} }

// set schedules (ms > 0) or clears the account's wake-up.
func (w *wakes) set(acct string, ms int64) {
	if ms <= 0 {
		delete(w.at, acct)
		return
	}
	if w.at[acct] == ms {
		return
	}
	w.at[acct] = ms
	as, ok := w.accts[ms]
	if !ok {
		i, _ := slices.BinarySearch(w.times, ms)
		w.times = slices.Insert(w.times, i, ms)
	}
	if w.times[0] == ms {
		w.sorted = false
	}
	w.accts[ms] = append(as, acct)
}

// popDue removes and returns the earliest wake-up at or before now.
func (w *wakes) popDue(now int64) (string, int64, bool) {
	for len(w.times) > 0 && w.times[0] <= now {
		t := w.times[0]
		as := w.accts[t]
		if !w.sorted {
			slices.Sort(as)
			w.sorted = true
		}
		for len(as) > 0 {
			a := as[0]
			as = as[1:]
			if w.at[a] == t {
				delete(w.at, a)
				w.accts[t] = as
				return a, t, true
			}
		}
		delete(w.accts, t)
		w.times, w.sorted = w.times[1:], false
	}
	return "", 0, false
}

// processCPU is this process's user + system CPU so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapAllocs is the number of heap objects this process allocated so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
