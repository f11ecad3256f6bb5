package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/replay"
)

// regrouped is the landed history read once in partition order and
// regrouped by account for an account-major replay (replay.Account): each
// record keeps its partition's clock at the time it was read, so every
// account can be replayed alone, from its whole history, and decide as it
// did in partition order. The record values stay encoded in a few large
// byte chunks and the records are pointer-free, so the collector has
// almost nothing to scan: 1M accounts' 7M records are about a gigabyte,
// where two books of decoded states were 4 to 5 GB of small objects.
type regrouped struct {
	ids    []string // account index -> id, in order of first record
	recs   []rec    // grouped by account (stable: each account's in read order)
	starts []int    // account i's records are recs[starts[i]:starts[i+1]]
	clocks []int64  // every partition's clock once every record was read (unix ms)
	chunks [][]byte // the record values
	evs    []*event.Event
}

// rec is one landed record of an account.
type rec struct {
	clock int64 // its partition's clock once it was read (unix ms)
	ms    int64 // its event time (unix ms), for errors
	acct  int32 // account index
	part  int32
	chunk int32 // chunks[chunk][off:off+n] is the value; -1: evs[off] is the event
	off   int32
	n     int32
}

// chunkSize is the size of one value chunk (a value larger than it gets a
// chunk of its own).
const chunkSize = 32 << 20

// regroup reads h up to until: every record moves its partition's clock;
// those of accounts in only (nil: every account) are kept. read reports
// the records read.
func regroup(ctx context.Context, h History, parts int, only map[string]bool, until int64, read func(n int)) (*regrouped, error) {
	g := &regrouped{clocks: make([]int64, parts)}
	index := map[string]int32{}
	var recs []rec
	n := 0
	err := h.Records(ctx, time.UnixMilli(until).UTC(), func(r Record) error {
		if r.Partition < 0 || int(r.Partition) >= parts {
			return fmt.Errorf("record on partition %d of %d", r.Partition, parts)
		}
		if n++; n%batchSize == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			read(n)
		}
		c := &g.clocks[r.Partition]
		*c = max(*c, r.Ms)
		if r.Account == "" || (r.Event != nil && r.Event.Body.Kind() == event.KindClockTick) || (only != nil && !only[r.Account]) {
			return nil // it only moved the clock
		}
		a, ok := index[r.Account]
		if !ok {
			a = int32(len(g.ids))
			index[r.Account] = a
			g.ids = append(g.ids, r.Account)
		}
		x := rec{clock: *c, ms: r.Ms, acct: a, part: r.Partition}
		if r.Event != nil {
			x.chunk, x.off = -1, int32(len(g.evs))
			g.evs = append(g.evs, r.Event)
		} else {
			x.chunk, x.off, x.n = g.store(r.Value)
		}
		recs = append(recs, x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	read(n)
	// a stable counting sort by account
	g.starts = make([]int, len(g.ids)+1)
	for i := range recs {
		g.starts[recs[i].acct+1]++
	}
	for i := 1; i < len(g.starts); i++ {
		g.starts[i] += g.starts[i-1]
	}
	g.recs = make([]rec, len(recs))
	next := append([]int(nil), g.starts[:len(g.ids)]...)
	for i := range recs {
		a := recs[i].acct
		g.recs[next[a]] = recs[i]
		next[a]++
	}
	return g, nil
}

// store copies a value into the current chunk, starting a new one when it
// is full.
func (g *regrouped) store(v []byte) (chunk, off, n int32) {
	last := len(g.chunks) - 1
	if last < 0 || len(g.chunks[last])+len(v) > cap(g.chunks[last]) {
		g.chunks = append(g.chunks, make([]byte, 0, max(chunkSize, len(v))))
		last++
	}
	off = int32(len(g.chunks[last]))
	g.chunks[last] = append(g.chunks[last], v...)
	return int32(last), off, int32(len(v))
}

// account is account i's records.
func (g *regrouped) account(i int) []rec { return g.recs[g.starts[i]:g.starts[i+1]] }

// steps decodes account i's records into evs and gives them as replay
// steps with their clocks (both reuse the buffers given), and the clock its
// partition ended at.
func (g *regrouped) steps(ctx context.Context, dec Decoder, i int, evs []event.Event, steps []replay.Step) ([]event.Event, []replay.Step, int64, error) {
	rs := g.account(i)
	evs, steps = evs[:0], steps[:0]
	for _, r := range rs {
		if r.chunk < 0 {
			continue
		}
		ev, err := dec(ctx, g.chunks[r.chunk][r.off:r.off+r.n])
		if err != nil {
			return evs, steps, 0, fmt.Errorf("decode the landed record of partition %d at %d ms: %w", r.part, r.ms, err)
		}
		evs = append(evs, ev) // never grown once steps point into it: appended in full first
	}
	j := 0
	for _, r := range rs {
		var ev *event.Event
		if r.chunk < 0 {
			ev = g.evs[r.off]
		} else {
			ev = &evs[j]
			j++
		}
		steps = append(steps, replay.Step{Clock: r.clock, Event: ev})
	}
	return evs, steps, g.clocks[rs[len(rs)-1].part], nil
}
