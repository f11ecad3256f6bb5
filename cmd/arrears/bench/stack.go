package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/cmd/arrears/feed"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/sinks/redisstore"
)

// stack is one bench run's private world on the shared services: its own
// topics (id.events, id.actions, ...), Redis prefix, consumer groups and
// ClickHouse database, and the `arrears run` and `arrears sink` children
// configured for it (see child.go).
type stack struct {
	id  string
	o   Options
	cfg config.Config // the children's configuration, as they read it
	// cost is the children's usage over the throughput phase
	cost struct{ run, sink usage }
}

// newStack is base moved to the private world id: the services and tuning
// of base, the names of id, simulated time (the workload carries its own
// clock in its ClockTicks, so the built-in ticker is off).
func newStack(base config.Config, o Options, id string) *stack {
	c := base
	c.Kafka.Topics = kafkax.PrefixedTopics(id)
	c.Kafka.Partitions = o.Workload.Partitions
	c.Redis.Prefix = id
	c.Processor.GroupID, c.Processor.TransactionalID = id, id+"-1"
	c.Processor.Time, c.Processor.TickInterval = processor.TimeSimulated, 0
	c.Sink.GroupID = id + "-sink"
	c.ClickHouse.Database = id
	c.Log.Level = "warn"
	c.HTTP.Pprof = o.Profile != ""
	if o.PaymentsTopic { // docs/processing.md "Read first"
		c.Kafka.Topics.ExtraInputs = []string{id + ".payments"}
		c.Kafka.Topics.ReadFirst = c.Kafka.Topics.ExtraInputs
		if d := processor.Defaults(); c.Processor.FetchMaxBytes == d.FetchMaxBytes && c.Processor.FetchMaxPartitionBytes == d.FetchMaxPartitionBytes {
			c.Processor.FetchMaxBytes, c.Processor.FetchMaxPartitionBytes = paymentsFetchBytes, paymentsFetchPartitionBytes
		} // else the configuration's own
	}
	return &stack{id: id, o: o, cfg: c}
}

// The producer batches and fetch bounds of --payments-topic. Kafka hands
// a partition over in whole batches, and a bulk partition whose first
// batch exceeds what a fetch has left gets nothing in a fetch that starts
// with the payments (32 KiB a partition starved the bill run's 1 MB
// batches, ~140 KiB compressed). So the bench's producer batches at most
// 16 KiB (before compression: the Java producer's default batch.size, as
// a billing system's producer has), and a fetch of 64 KiB (about 4,000
// generated records, ~16 compressed bytes each: one transaction) holds
// many of them: a payment waits behind about one transaction of a burst.
// With the 500 ms end of input-less transactions gone (processor/txnend.go)
// this gave a bill-run payment p99 of 986 ms against 2,704 with 1 MB
// batches and 256 KiB fetches (docs/bench.md, 2026-12-03 afternoon).
const (
	producerBatchBytes          = 16 << 10
	paymentsFetchBytes          = 64 << 10
	paymentsFetchPartitionBytes = 64 << 10
)

// createTopics creates the stack's topics.
func (s *stack) createTopics(ctx context.Context) error {
	cl, err := kgo.NewClient(s.cfg.Kafka.ClientOpts()...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := kafkax.CreateTopics(ctx, adm, s.cfg.Kafka); err != nil {
		return err
	}
	// a created topic shows in metadata a moment later: wait, as run checks them at start
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := kafkax.CheckTopics(ctx, adm, s.cfg.Kafka)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startPipeline creates the topics and starts run and sink; stop stops both.
// run has joined its group and committed its first transaction (every
// partition claimed) before the sink starts: no phase times the group join.
func (s *stack) startPipeline(ctx context.Context) (run, sink *child, stop func(), err error) {
	if err := s.createTopics(ctx); err != nil {
		return nil, nil, nil, err
	}
	if run, err = s.start(ctx, "run"); err != nil {
		return nil, nil, nil, err
	}
	if err := run.waitFirstBatch(ctx); err != nil {
		run.stop()
		return nil, nil, nil, err
	}
	if sink, err = s.start(ctx, "sink"); err != nil {
		run.stop()
		return nil, nil, nil, err
	}
	return run, sink, func() { sink.stop(); run.stop() }, nil
}

// phaseThroughput starts run and sink, produces recs as fast as Kafka takes
// them and waits until both consumed everything.
func (s *stack) phaseThroughput(ctx context.Context, recs []*kgo.Record, res *Result) error {
	run, sink, stop, err := s.startPipeline(ctx)
	if err != nil {
		return err
	}
	defer stop()

	runAt0, err := run.usage(ctx)
	if err != nil {
		return err
	}
	sinkAt0, err := sink.usage(ctx)
	if err != nil {
		return err
	}
	t0 := time.Now()
	var profiles sync.WaitGroup
	if s.o.Profile != "" {
		for _, c := range []*child{run, sink} {
			profiles.Add(1)
			go func() {
				defer profiles.Done()
				c.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", s.o.ProfileSeconds), filepath.Join(s.o.Profile, c.name+".cpu.pprof"))
			}()
		}
	}
	if err := s.produce(ctx, recs, 0, nil); err != nil {
		return err
	}
	produced := time.Since(t0)
	procAt, err := caughtUp(ctx, s.cfg.Kafka, s.cfg.Processor.GroupID, run)
	if err != nil {
		return err
	}
	runAt1, err := run.usage(ctx)
	if err != nil {
		return err
	}
	sinkAt, err := caughtUp(ctx, s.cfg.Kafka, s.cfg.Sink.GroupID, sink)
	if err != nil {
		return err
	}
	sinkAt1, err := sink.usage(ctx)
	if err != nil {
		return err
	}
	s.cost.run, s.cost.sink = runAt1.sub(runAt0), sinkAt1.sub(sinkAt0)
	n := float64(len(recs))
	res.ProduceEventsPerSec = n / produced.Seconds()
	res.ProcessorEventsPerSec = n / procAt.Sub(t0).Seconds()
	res.EventsPerSec = n / sinkAt.Sub(t0).Seconds()
	res.Seconds["throughput"] = sinkAt.Sub(t0).Seconds()
	res.RSSMB, res.SinkRSSMB = run.peakRSSMB(), sink.peakRSSMB()
	res.Loop = run.loopStats(ctx)
	if s.o.Profile != "" {
		run.saveProfile(ctx, "heap", filepath.Join(s.o.Profile, "run.heap.pprof"))
		profiles.Wait()
	}

	rdb := redisstore.NewClient(s.cfg.Redis)
	defer rdb.Close()
	res.RedisBytesPerAccount, res.RedisAccounts, err = redisstore.New(rdb, s.cfg.Redis.Prefix).BytesPerAccount(ctx, s.cfg.Kafka.Partitions)
	return err
}

// produce sends recs to the stack's events topic at rate (0: as fast as
// possible); sent, if given, is called with each record's index and the
// time it was handed to the client.
func (s *stack) produce(ctx context.Context, recs []*kgo.Record, rate int, sent func(i int, at time.Time)) error {
	var opts []kgo.Opt
	if s.o.PaymentsTopic {
		opts = append(opts, kgo.ProducerBatchMaxBytes(producerBatchBytes))
	}
	pr, err := feed.New(s.cfg.Kafka, rate, nil, opts...)
	if err != nil {
		return err
	}
	defer pr.Close()
	for i, r := range recs {
		var topic string // the default: events
		// a payment goes to the payments topic when produced at a rate, as
		// live; a backlog produced at once stays in order on one topic
		if r.Topic == paymentsMark && s.o.PaymentsTopic && rate > 0 {
			topic = s.cfg.Kafka.Topics.ExtraInputs[0]
		}
		at, err := pr.Send(ctx, &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Partition: r.Partition})
		if err != nil {
			return err
		}
		if sent != nil {
			sent(i, at)
		}
	}
	return pr.Flush(ctx)
}

// caughtUp waits until group consumed everything committed to its topics
// and returns the start of the first check that found it so: the group was
// done by then (a check that finds lag left started before it was done).
func caughtUp(ctx context.Context, k kafkax.Config, group string, c *child) (time.Time, error) {
	return waitFor(ctx, c, "group "+group+" caught up", func() (bool, error) {
		lag, err := kafkax.Lag(ctx, k, group)
		return err == nil && lag == 0, err
	})
}

// waitFor calls done every 50 ms until it reports true and returns the
// start of that call; it fails when c exits or after 30 minutes (naming
// what, with done's last error).
func waitFor(ctx context.Context, c *child, what string, done func() (bool, error)) (time.Time, error) {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		at := time.Now()
		ok, err := done()
		if ok {
			return at, nil
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			return at, fmt.Errorf("arrears %s exited (%v); log: %s", c.name, err, c.log)
		case <-ctx.Done():
			return at, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return at, fmt.Errorf("not %s after 30m (%v)", what, err)
		}
	}
}

// cleanup deletes the stack's topics (policies and collections groups'
// included), Redis keys and ClickHouse databases.
func (s *stack) cleanup(ctx context.Context) error {
	var errs []error
	if cl, err := kgo.NewClient(s.cfg.Kafka.ClientOpts()...); err == nil {
		t := s.cfg.Kafka.Topics
		names := append(append(t.Inputs(), t.Outputs()...), t.Groups()...)
		if t.Policies != "" {
			names = append(names, t.Policies)
		}
		if _, err := kadm.NewClient(cl).DeleteTopics(ctx, names...); err != nil {
			errs = append(errs, err)
		}
		cl.Close()
	} else {
		errs = append(errs, err)
	}
	rdb := redisstore.NewClient(s.cfg.Redis)
	for _, p := range []string{s.cfg.Redis.Prefix, s.cfg.Redis.Prefix + "ceil"} {
		st := redisstore.New(rdb, p)
		for i := int32(0); i < int32(s.cfg.Kafka.Partitions); i++ {
			if err := st.Drop(ctx, i); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	rdb.Close()
	if conn, err := analytics.Open(ctx, s.cfg.ClickHouse); err == nil {
		for _, db := range []string{s.cfg.ClickHouse.Database, s.cfg.ClickHouse.Database + "_ceil"} {
			if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
				errs = append(errs, err)
			}
		}
		conn.Close()
	} else {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
