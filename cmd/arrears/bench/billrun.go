package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/workload"
	"github.com/arrears/arrears/schemas"
)

// BillRun is what the bill-run phase measured.
type BillRun struct {
	// At is the simulated instant every account is invoiced at: 06:00 on
	// the day after the workload.
	At       time.Time `json:"at"`
	Invoices int       `json:"invoices"`
	// StreamEvents flowed beside the invoices at Rate (the latency
	// phase's): the book's next month without its cycle bills (payments
	// of earlier bills, promises, disputes, ticks, ...).
	StreamEvents int     `json:"stream_events"`
	Rate         float64 `json:"stream_rate_events_per_sec"`
	// BurstSeconds runs from the first invoice handed to the producer to
	// the processor's commit past every record the events topic held when
	// the last invoice was acknowledged.
	BurstSeconds float64 `json:"burst_seconds"`
	Seconds      float64 `json:"seconds"`
	// Burst is payment -> action latency of the payments sent while the
	// burst was in flight; the embedded Latency covers the whole phase.
	Burst Latency `json:"burst"`
	Latency
}

// phaseBillRun runs, on the latency phase's stack (its book: rest, the
// records that phase left out, are produced first, as fast as they go and
// untimed), the month after the workload with one bill run at its start:
// the month's other events are produced at rate and, when they reach the
// run's instant, every account's invoice is produced at once beside them.
// Every payment in the month is timed to the action decided on it, and
// those sent while the burst was in flight are also reported apart.
func (s *stack) phaseBillRun(ctx context.Context, codec *schemas.Codec, rest []*kgo.Record, w workload.Options, rate int) (*BillRun, error) {
	end := w.Start.AddDate(0, w.Months, 0)
	x := w
	x.Months++
	x.BillRun = end.Add(6 * time.Hour)
	burst, stream := newGenerated(), newGenerated()
	reach := -1 // the first stream record at or after the run's instant
	g := workload.New(x)
	for ev, ok := g.Next(); ok; ev, ok = g.Next() {
		if ev.Time.Before(end) {
			continue // the book the stack already holds
		}
		dst := stream
		if inv, ok := ev.Body.(*event.InvoiceIssued); ok && inv.BillCycle == workload.BillRunCycle {
			dst = burst
		} else if reach < 0 && !ev.Time.Before(x.BillRun) {
			reach = len(stream.recs)
		}
		if err := dst.add(ctx, codec, s.cfg.Kafka.Topics.Events, ev); err != nil {
			return nil, err
		}
	}
	br := &BillRun{At: x.BillRun, Invoices: len(burst.recs), StreamEvents: len(stream.recs), Rate: float64(rate)}
	var from, to time.Time
	lat, err := s.timePayments(ctx, codec, len(stream.recs), stream.pays, func(ctx context.Context, run *child, sent func(int, time.Time)) error {
		if len(rest) > 0 {
			if err := s.produce(ctx, rest, 0, nil); err != nil {
				return err
			}
			if _, err := caughtUp(ctx, s.cfg.Kafka, s.cfg.Processor.GroupID, run); err != nil {
				return err
			}
		}
		reached := make(chan struct{})
		if reach <= 0 {
			close(reached)
		}
		eg, ectx := errgroup.WithContext(ctx)
		eg.Go(func() error {
			return s.produce(ectx, stream.recs, rate, func(i int, at time.Time) {
				sent(i, at)
				if i+1 == reach {
					close(reached)
				}
			})
		})
		eg.Go(func() error {
			select {
			case <-reached:
			case <-ectx.Done():
				return ectx.Err()
			}
			from = time.Now()
			if err := s.produce(ectx, burst.recs, 0, nil); err != nil {
				return err
			}
			var err error
			to, err = s.committedPastEnd(ectx, run)
			return err
		})
		return eg.Wait()
	})
	if err != nil {
		return nil, err
	}
	br.Seconds, br.BurstSeconds = lat.seconds, to.Sub(from).Seconds()
	br.setLatency(lat.ms(time.Time{}, time.Time{}))
	br.Burst.setLatency(lat.ms(from, to))
	return br, nil
}

// committedPastEnd waits until the processor's group committed past the
// events topic's end offsets as they are now, and returns when it had.
func (s *stack) committedPastEnd(ctx context.Context, run *child) (time.Time, error) {
	cl, err := kgo.NewClient(s.cfg.Kafka.ClientOpts()...)
	if err != nil {
		return time.Time{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic, group := s.cfg.Kafka.Topics.Events, s.cfg.Processor.GroupID
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	return waitFor(ctx, run, "group "+group+" past the bill run", func() (bool, error) {
		got, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false, err
		}
		past := true
		ends.Each(func(o kadm.ListedOffset) {
			if c, ok := got.Lookup(o.Topic, o.Partition); !ok || c.At < o.Offset {
				past = false
			}
		})
		return past, nil
	})
}
