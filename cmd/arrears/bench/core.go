package bench

import (
	"fmt"
	"runtime/metrics"
	"syscall"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/replay"
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
// the processor's partitions run it but with no Kafka, Redis or Avro
// (processor/replay: per partition a clock and the due wake-ups fired in
// (time, account) order before each event, then core.Apply at the
// partition clock, the order of processor/partition.go's step). The events
// are cut into batches of batch input events (the processor's
// max_poll_records); at a batch's end each changed account has its status
// summary and state encoded once (the processor's finish). Every account
// stays decoded in memory (about 2 KB each): loading and decoding states is
// the shell's cost, as are Avro, Kafka and Redis. Generating the next
// batch's events is not counted: only the steps are, with
// getrusage(RUSAGE_SELF) for CPU and runtime/metrics for allocations, so
// nothing else may run in this process meanwhile.
func coreReplay(w workload.Options, env *core.Env, batch int) (coreCost, error) {
	n := int32(w.Partitions)
	bk := replay.New(env, replay.Options{Partitions: w.Partitions, TrackChanged: true,
		PartitionOf: func(a string) int32 { return kafkax.PartitionFor([]byte(a), n) }})
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
			c.rejects, c.wakes, c.accounts = bk.Rejects, bk.Wakes, bk.Encoded()
			return c, nil
		}
		cpu0, allocs0, t0 := processCPU(), heapAllocs(), time.Now()
		for i := range evs {
			if err := bk.Step(evs[i]); err != nil {
				return c, fmt.Errorf("core replay, event %d: %w", c.events+i, err)
			}
		}
		if err := bk.Finish(); err != nil {
			return c, err
		}
		c.wall += time.Since(t0)
		c.cpu += processCPU() - cpu0
		c.allocs += heapAllocs() - allocs0
		c.events += len(evs)
	}
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
