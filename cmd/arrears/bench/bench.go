package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/cmd/arrears/feed"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/workload"
	"github.com/arrears/arrears/schemas"
)

// Run is the whole benchmark on the services cfg names: generate, throughput
// phase, ceilings, latency phase, cleanup. Progress goes to logw.
func Run(ctx context.Context, cfg config.Config, o Options, logw io.Writer) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Env == nil {
		return nil, errors.New("bench: no core environment for the pure core's replay")
	}
	if len(cfg.Kafka.Topics.ExtraInputs) > 0 {
		return nil, errors.New("bench runs on its own topics: unset kafka.topics.extra_inputs")
	}
	if o.Bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Bin = exe
	}
	if o.WorkDir == "" {
		d, err := os.MkdirTemp("", "arrears-bench-")
		if err != nil {
			return nil, err
		}
		o.WorkDir = d
	} else if err := os.MkdirAll(o.WorkDir, 0o755); err != nil { // --dir may name a new one
		return nil, fmt.Errorf("bench --dir: %w", err)
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(logw, "[%s] bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	w := o.Workload
	res := &Result{Accounts: w.Accounts, Months: w.Months, Partitions: w.Partitions, PaymentsTopic: o.PaymentsTopic, Seconds: map[string]float64{},
		Ceilings: map[string]float64{}}
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}

	// the workload, encoded once, in memory
	t := time.Now()
	recs, pays, err := generate(ctx, codec, cfg.Kafka.Topics.Events, w)
	if err != nil {
		return nil, err
	}
	res.Events = len(recs)
	res.Seconds["generate"] = time.Since(t).Seconds()
	say("generated %d events for %d accounts over %d months in %s", len(recs), w.Accounts, w.Months, time.Since(t).Round(time.Millisecond))

	id := fmt.Sprintf("bench%d", time.Now().UnixMilli())
	var stacks []*stack
	defer func() {
		if o.Keep {
			return
		}
		for _, s := range stacks { // a book of 1M accounts takes over a minute a stack (Redis, ClickHouse)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
			if err := s.cleanup(cctx); err != nil {
				say("cleanup %s: %v", s.id, err)
			}
			cancel()
		}
	}()

	// 1. throughput: the processor and the sink running, the workload produced
	// as fast as Kafka takes it, on one input topic even with --payments-topic:
	// three months produced at once and a payments topic read first would
	// apply months of payments before their invoices (the phases at a rate
	// read them seconds ahead, as production does)
	ao := o
	ao.PaymentsTopic = false
	a := newStack(cfg, ao, id+"a")
	stacks = append(stacks, a)
	say("throughput phase on topics %s.* (configs and logs in %s)", a.id, o.WorkDir)
	if err := a.phaseThroughput(ctx, recs, res); err != nil {
		return nil, err
	}
	say("%.0f events/s end to end (%.0f events/s to the processor's last commit)", res.EventsPerSec, res.ProcessorEventsPerSec)

	// 2. the parts' ceilings on the same data, the pure core's in this process
	if err := a.ceilings(ctx, codec, res, say); err != nil {
		return nil, err
	}
	rows, err := a.clickHouseRows(ctx)
	if err != nil {
		return nil, err
	}
	cc, err := coreReplay(w, o.Env, cfg.Processor.MaxPollRecords)
	if err != nil {
		return nil, err
	}
	res.setCost(a.cost.run, a.cost.sink, rows, cc)
	say("pure core: %d events in %s, %.1f us CPU each (processor %.1f, sink %.1f a row)", cc.events, cc.wall.Round(time.Millisecond),
		res.CoreCPUUsPerEvent, res.ProcessorCPUUsPerEvent, res.SinkCPUUsPerRow)
	res.slowest()

	// 3. latency at half load, on fresh topics and state
	b := newStack(cfg, o, id+"b")
	stacks = append(stacks, b)
	n := len(recs)
	if o.LatencyEvents > 0 && o.LatencyEvents < n {
		n = o.LatencyEvents
	}
	res.LatencyRate = res.EventsPerSec / 2
	if o.LatencyRate > 0 { // a fixed load, for A/Bs across runs
		res.LatencyRate = float64(o.LatencyRate)
	}
	res.LatencyEvents = n
	say("latency phase: %d events at %.0f events/s on topics %s.*", n, res.LatencyRate, b.id)
	lat, err := b.phaseLatency(ctx, codec, recs[:n], pays, int(res.LatencyRate))
	if err != nil {
		return nil, err
	}
	res.Seconds["latency"] = lat.seconds
	res.setLatency(lat.ms(time.Time{}, time.Time{}))

	// 4. a bill run on the latency phase's book, beside the same load
	if o.BillRun {
		say("bill-run phase on topics %s.*: the whole book invoiced at one instant beside %.0f events/s", b.id, res.LatencyRate)
		if res.BillRun, err = b.phaseBillRun(ctx, codec, recs[n:], w, int(res.LatencyRate)); err != nil {
			return nil, err
		}
		res.Seconds["bill_run"] = res.BillRun.Seconds
		say("bill run: %d invoices in flight %.1f s; %d payments timed during the burst", res.BillRun.Invoices,
			res.BillRun.BurstSeconds, res.BillRun.Burst.LatencySamples)
	}
	return res, nil
}

// payKey identifies a payment by account and event time (ms): a dunning
// action decided on the payment carries the same account and, as its time,
// the partition clock the payment set.
type payKey struct {
	account string
	ms      int64
}

// generated is an encoded stream: its records and each PaymentReceived's
// index in them.
type generated struct {
	recs []*kgo.Record
	pays map[payKey]int
}

func newGenerated() *generated { return &generated{pays: map[payKey]int{}} }

// add encodes ev for topic and appends it.
func (gen *generated) add(ctx context.Context, codec *schemas.Codec, topic string, ev event.Event) error {
	rec, err := feed.Record(ctx, codec, topic, ev, false)
	if err != nil {
		return err
	}
	if ev.Body.Kind() == event.KindPaymentReceived {
		gen.pays[payKey{ev.Account, ev.Time.UnixMilli()}] = len(gen.recs)
		rec.Topic = paymentsMark // the stack's payments topic with --payments-topic (stack.produce)
	}
	gen.recs = append(gen.recs, rec)
	return nil
}

// paymentsMark marks a generated payment's record: stack.produce sends it
// to the stack's payments topic, if it has one, else to its events topic.
const paymentsMark = "payments"

// generate builds and encodes the workload; pays maps each PaymentReceived
// to its record index.
func generate(ctx context.Context, codec *schemas.Codec, topic string, w workload.Options) ([]*kgo.Record, map[payKey]int, error) {
	g, gen := workload.New(w), newGenerated()
	for ev, ok := g.Next(); ok; ev, ok = g.Next() {
		if err := gen.add(ctx, codec, topic, ev); err != nil {
			return nil, nil, err
		}
	}
	return gen.recs, gen.pays, nil
}
