package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// benchStack is one bench run's private world on the shared services: its
// own topics (id.events, id.actions, ...), Redis prefix, consumer groups and
// ClickHouse database, and the `arrears run` and `arrears sink` children
// configured for it through ARREARS_* variables.
type benchStack struct {
	id  string
	o   benchOptions
	cfg config.Config // the children's configuration, as they see it
	env []string
}

func newBenchStack(base config.Config, o benchOptions, id string) *benchStack {
	c := base
	c.Kafka.Topics = kafkax.PrefixedTopics(id)
	c.Kafka.Partitions = o.Partitions
	c.Redis.Prefix = id
	c.Processor.GroupID, c.Processor.TransactionalID = id, id+"-1"
	c.Sink.GroupID = id + "-sink"
	c.ClickHouse.Database = id
	env := []string{
		"ARREARS_KAFKA_TOPICS_EVENTS=" + c.Kafka.Topics.Events, "ARREARS_KAFKA_TOPICS_ACTIONS=" + c.Kafka.Topics.Actions,
		"ARREARS_KAFKA_TOPICS_RISK=" + c.Kafka.Topics.Risk, "ARREARS_KAFKA_TOPICS_STATUS=" + c.Kafka.Topics.Status,
		"ARREARS_KAFKA_TOPICS_GL=" + c.Kafka.Topics.GL, "ARREARS_KAFKA_TOPICS_ACCEPTED=" + c.Kafka.Topics.Accepted, "ARREARS_KAFKA_TOPICS_DLQ=" + c.Kafka.Topics.DLQ,
		"ARREARS_KAFKA_PARTITIONS=" + strconv.Itoa(o.Partitions), "ARREARS_REDIS_PREFIX=" + id,
		"ARREARS_PROCESSOR_GROUP_ID=" + id, "ARREARS_PROCESSOR_TRANSACTIONAL_ID=" + id + "-1",
		"ARREARS_SINK_GROUP_ID=" + id + "-sink", "ARREARS_CLICKHOUSE_DATABASE=" + id,
		"ARREARS_LOG_LEVEL=warn",
	}
	if o.Profile != "" {
		env = append(env, "ARREARS_HTTP_PPROF=true")
	}
	return &benchStack{id: id, o: o, cfg: c, env: env}
}

// child is a started `arrears run` or `arrears sink`.
type child struct {
	name   string
	cmd    *exec.Cmd
	listen string
	log    string
	exited chan error
}

// start launches `arrears name` for this stack with its ops endpoint on a
// free loopback port, and waits for /readyz.
func (s *benchStack) start(ctx context.Context, name string) (*child, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	listen := l.Addr().String()
	l.Close()
	args := []string{name}
	if s.o.Config != "" {
		args = append(args, "-config", s.o.Config)
	}
	logPath := filepath.Join(s.o.WorkDir, s.id+"-"+name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.o.Bin, args...)
	cmd.Env = append(append(os.Environ(), s.env...), "ARREARS_HTTP_LISTEN="+listen, benchChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s %s: %w", s.o.Bin, name, err)
	}
	c := &child{name: name, cmd: cmd, listen: listen, log: logPath, exited: make(chan error, 1)}
	go func() { c.exited <- cmd.Wait(); lf.Close() }()
	if err := c.waitReady(ctx, 2*time.Minute); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// benchChildEnv marks the children (tests dispatch on it, see bench_test.go).
const benchChildEnv = "ARREARS_BENCH_CHILD"

func (c *child) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		res, err := http.Get("http://" + c.listen + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("arrears %s exited before it was ready (%v); log: %s", c.name, err, c.log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("arrears %s not ready after %s; log: %s", c.name, timeout, c.log)
		}
	}
}

// peakRSSMB is the child's high-water resident set (VmHWM), in MB.
func (c *child) peakRSSMB() float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// saveProfile fetches /debug/pprof/NAME into path (best effort: a failed
// profile is reported in the file's place, the bench goes on).
func (c *child) saveProfile(ctx context.Context, name, path string) {
	err := func() error {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.listen+"/debug/pprof/"+name, nil)
		if err != nil {
			return err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s", res.Status)
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, res.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		_ = os.WriteFile(path+".error", []byte(err.Error()+"\n"), 0o644)
	}
}

// loopStats reads the processor's own histograms from /metrics: where a
// batch's wall time goes (nil if they cannot be read).
func (c *child) loopStats() *loopStats {
	res, err := http.Get("http://" + c.listen + "/metrics")
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	v := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "arrears_processor_") {
			continue
		}
		if f, err := strconv.ParseFloat(val, 64); err == nil {
			v[name] = f
		}
	}
	n := v["arrears_processor_batch_seconds_count"]
	if n == 0 {
		return nil
	}
	return &loopStats{
		Batches:       int(n),
		RecordsPerTxn: v["arrears_processor_batch_records_sum"] / n,
		BatchMs:       1000 * v["arrears_processor_batch_seconds_sum"] / n,
		CommitMs:      1000 * v["arrears_processor_commit_seconds_sum"] / n,
		StoreMs:       1000 * v["arrears_processor_store_apply_seconds_sum"] / max(v["arrears_processor_store_apply_seconds_count"], 1),
	}
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// createTopics creates the stack's topics.
func (s *benchStack) createTopics(ctx context.Context) error {
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

// phaseThroughput starts run and sink, produces recs as fast as Kafka takes
// them and waits until both consumed everything.
func (s *benchStack) phaseThroughput(ctx context.Context, recs []*kgo.Record, res *benchResult) error {
	if err := s.createTopics(ctx); err != nil {
		return err
	}
	run, err := s.start(ctx, "run")
	if err != nil {
		return err
	}
	defer run.stop()
	sink, err := s.start(ctx, "sink")
	if err != nil {
		return err
	}
	defer sink.stop()

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
	procAt, err := caughtUp(ctx, s.cfg.Kafka, s.id, run)
	if err != nil {
		return err
	}
	sinkAt, err := caughtUp(ctx, s.cfg.Kafka, s.id+"-sink", sink)
	if err != nil {
		return err
	}
	n := float64(len(recs))
	res.ProduceEventsPerSec = n / produced.Seconds()
	res.ProcessorEventsPerSec = n / procAt.Sub(t0).Seconds()
	res.EventsPerSec = n / sinkAt.Sub(t0).Seconds()
	res.Seconds["throughput"] = sinkAt.Sub(t0).Seconds()
	res.RSSMB, res.SinkRSSMB = run.peakRSSMB(), sink.peakRSSMB()
	res.Loop = run.loopStats()
	if s.o.Profile != "" {
		run.saveProfile(ctx, "heap", filepath.Join(s.o.Profile, "run.heap.pprof"))
		profiles.Wait()
	}

	rdb := redisstore.NewClient(s.cfg.Redis)
	defer rdb.Close()
	res.RedisBytesPerAccount, res.RedisAccounts, err = redisstore.New(rdb, s.cfg.Redis.Prefix).BytesPerAccount(ctx, s.o.Partitions)
	return err
}

// produce sends recs to the stack's events topic at rate (0: as fast as
// possible); sent, if given, is called with each record's index and the
// time it was handed to the client.
func (s *benchStack) produce(ctx context.Context, recs []*kgo.Record, rate int, sent func(i int, at time.Time)) error {
	pr, err := newProducer(s.cfg.Kafka, rate, nil)
	if err != nil {
		return err
	}
	defer pr.close()
	for i, r := range recs {
		at, err := pr.send(ctx, &kgo.Record{Key: r.Key, Value: r.Value, Partition: r.Partition})
		if err != nil {
			return err
		}
		if sent != nil {
			sent(i, at)
		}
	}
	return pr.flush(ctx)
}

// caughtUp waits until group consumed everything committed to its topics
// and returns the start of the first check that found it so: the group was
// done by then (a check that finds lag left started before it was done).
func caughtUp(ctx context.Context, k kafkax.Config, group string, c *child) (time.Time, error) {
	deadline := time.Now().Add(30 * time.Minute)
	for {
		at := time.Now()
		lag, err := kafkax.Lag(ctx, k, group)
		if err == nil && lag == 0 {
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
			return at, fmt.Errorf("group %s not caught up after 30m (lag %d, %v)", group, lag, err)
		}
	}
}

// latency is what the latency phase measured.
type latency struct {
	ms      []float64
	seconds float64
}

// phaseLatency starts run and sink, replays recs at rate while a
// read_committed consumer of the actions topic times every action decided
// on a payment (same account, action time = payment time) from the moment
// the payment was handed to the producer.
func (s *benchStack) phaseLatency(ctx context.Context, codec *schemas.Codec, recs []*kgo.Record, pays map[payKey]int, rate int) (latency, error) {
	if err := s.createTopics(ctx); err != nil {
		return latency{}, err
	}
	run, err := s.start(ctx, "run")
	if err != nil {
		return latency{}, err
	}
	defer run.stop()
	sink, err := s.start(ctx, "sink")
	if err != nil {
		return latency{}, err
	}
	defer sink.stop()

	type seen struct {
		key payKey
		at  time.Time
	}
	var mu sync.Mutex
	var got []seen
	cl, err := kgo.NewClient(append(s.cfg.Kafka.ClientOpts(), kgo.ConsumeTopics(s.cfg.Kafka.Topics.Actions),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(20*time.Millisecond))...)
	if err != nil {
		return latency{}, err
	}
	defer cl.Close()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var last atomic.Int64 // unix ns of the last action received
	go func() {
		for {
			fs := cl.PollFetches(cctx)
			now := time.Now()
			if cctx.Err() != nil {
				done <- nil
				return
			}
			var derr error
			fs.EachRecord(func(r *kgo.Record) {
				a, err := codec.DecodeAction(cctx, r.Value)
				if err != nil {
					derr = err
					return
				}
				mu.Lock()
				got = append(got, seen{payKey{a.Account, a.Time.UnixMilli()}, now})
				mu.Unlock()
				last.Store(now.UnixNano())
			})
			if derr != nil {
				done <- fmt.Errorf("decode action: %w", derr)
				return
			}
		}
	}()

	sentAt := make([]time.Time, len(recs))
	t0 := time.Now()
	if err := s.produce(ctx, recs, rate, func(i int, at time.Time) { sentAt[i] = at }); err != nil {
		cancel()
		return latency{}, err
	}
	if _, err := caughtUp(ctx, s.cfg.Kafka, s.id, run); err != nil {
		cancel()
		return latency{}, err
	}
	// the consumer sees committed actions within its fetch wait; give it a
	// quiet second after the processor's last commit
	for time.Since(time.Unix(0, last.Load())) < time.Second {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		return latency{}, err
	}
	lat := latency{seconds: time.Since(t0).Seconds()}
	mu.Lock()
	defer mu.Unlock()
	for _, g := range got {
		if i, ok := pays[g.key]; ok && i < len(recs) {
			lat.ms = append(lat.ms, float64(g.at.Sub(sentAt[i]).Microseconds())/1000)
		}
	}
	return lat, nil
}

// cleanup deletes the stack's topics, Redis keys and ClickHouse database.
func (s *benchStack) cleanup(ctx context.Context) error {
	var errs []error
	if cl, err := kgo.NewClient(s.cfg.Kafka.ClientOpts()...); err == nil {
		t := s.cfg.Kafka.Topics
		if _, err := kadm.NewClient(cl).DeleteTopics(ctx, append(t.Inputs(), t.Outputs()...)...); err != nil {
			errs = append(errs, err)
		}
		cl.Close()
	} else {
		errs = append(errs, err)
	}
	rdb := redisstore.NewClient(s.cfg.Redis)
	for _, p := range []string{s.cfg.Redis.Prefix, s.cfg.Redis.Prefix + "ceil"} {
		st := redisstore.New(rdb, p)
		for i := int32(0); i < int32(s.o.Partitions); i++ {
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
