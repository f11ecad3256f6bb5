package chsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// Sink lands arrears topics in ClickHouse. Build it with New, drive it with
// Run; it is not safe for concurrent use except Ready, Stalled and Ping.
type Sink struct {
	cfg   Config
	kcfg  kafkax.Config
	conn  *analytics.Conn
	econn *analytics.Conn // the erasure's (sink.erase_username; nil: conn)
	cl    *kgo.Client
	codec *schemas.Codec
	dec   decoder
	ins   *inserter
	m     *Metrics
	log   *slog.Logger
	ready atomic.Bool
	// waitingSince is when records started waiting for a commit (the
	// first record of the buffer, or a decode retry with an empty buffer),
	// as Unix nanoseconds; 0 while nothing waits. Stalled reads it.
	waitingSince atomic.Int64

	buf  buffer
	lag  map[string]map[int32]int64
	snap *snapshotKeeper // nil: the sink builds no receivables snapshot
	// erased: accounts erased by this sink, with the tombstone's record
	// time: their older rows arriving late are dropped (erase.go)
	erased map[string]time.Time
	// watch re-checks the group changelog while it cannot be read (nil:
	// consumed, or not configured; groups.go)
	watch *changelogWatch
}

// buffer is one flush worth of polled records and their rows.
type buffer struct {
	rows    map[*analytics.TableSpec][]pendingRow
	nrows   int
	nrecs   int
	last    map[string]map[int32]*kgo.Record // highest record per partition, to commit
	dead    []deadRecord                     // undecodable records to dead-letter before the commit
	firstAt time.Time
	// factLo and factHi span the event times of the buffered rows the
	// receivables snapshot reads (zero: none).
	factLo, factHi time.Time
	erase          []erasure // status tombstones to carry out (erase.go)
}

// deadRecord is a record to dead-letter: why (code, err) and the
// coordinates its dead letter names (src: the input record for an
// accepted record, else rec's own).
type deadRecord struct {
	rec  *kgo.Record
	src  analytics.Source
	code string
	err  error
}

// New connects to ClickHouse (applying the migrations unless disabled) and
// builds the Kafka client: consumer group cfg.GroupID, read_committed,
// manual commits, starting at the earliest offset when the group has none.
func New(ctx context.Context, cfg Config, kcfg kafkax.Config, codec *schemas.Codec, reg prometheus.Registerer, log *slog.Logger) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := kcfg.Validate(); err != nil {
		return nil, err
	}
	if codec == nil {
		return nil, errors.New("chsink: nil codec")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "sink")
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return nil, fmt.Errorf("chsink: %w", err)
	}
	if cfg.Migrate {
		if err := analytics.Migrate(ctx, conn); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("chsink: %w", err)
		}
	}
	econn, err := openEraser(ctx, cfg)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	topicSet := kcfg.Topics
	var unreadable string
	if topicSet.GroupChangelog != "" {
		if unreadable, err = checkGroupChangelog(ctx, kcfg); err != nil {
			(&Sink{conn: conn, econn: econn}).closeConns()
			return nil, err
		}
		if unreadable != "" {
			topicSet.GroupChangelog = "" // until the watch finds it readable (groups.go)
		}
	}
	m := NewMetrics(reg)
	s := &Sink{cfg: cfg, kcfg: kcfg, conn: conn, econn: econn, codec: codec, m: m, log: log,
		dec: decoder{codec: codec, kinds: topicKinds(topicSet), keepTicks: cfg.KeepClockTicks,
			status: newStatusDedup(cfg.StatusDedupAccounts), groups: newGroupClock(landedGroupClock(conn))},
		lag: map[string]map[int32]int64{}}
	if s.dec.status != nil {
		s.dec.status.skipped = m.StatusSkipped
	}
	if unreadable != "" {
		s.watch = &changelogWatch{topic: kcfg.Topics.GroupChangelog, every: cfg.GroupChangelogRecheck, m: m, log: log,
			ready: make(chan struct{}),
			check: func(ctx context.Context) (string, error) { return checkGroupChangelog(ctx, kcfg) }}
		s.watch.note(unreadable)
	}
	topics := s.dec.topics()
	stalled := s.Stalled
	m.stalled.Store(&stalled)
	s.ins = &inserter{conn: conn, cfg: cfg, m: m, log: log, paused: s.setPaused}
	if cfg.Snapshot.Enabled {
		s.snap = &snapshotKeeper{cfg: cfg.Snapshot, conn: conn, m: m, log: log, wake: make(chan struct{}, 1)}
	}
	opts := append(kcfg.ClientOpts(),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(topics...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxBytes(cfg.FetchMaxBytes),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			s.dec.status.Reset() // another sink may have landed status rows of these partitions
			s.dec.groups.Reset() // ... and group changelog records
			s.ready.Store(true)
			log.Info("partitions assigned", "partitions", a)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			s.dec.status.Reset()
			s.dec.groups.Reset()
			log.Info("partitions revoked", "partitions", r)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			s.dec.status.Reset()
			s.dec.groups.Reset()
			log.Info("partitions lost", "partitions", l)
		}),
	)
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		s.closeConns()
		return nil, fmt.Errorf("chsink: kafka client: %w", err)
	}
	s.resetBuffer()
	log.Info("sink started", "group", cfg.GroupID, "topics", topics, "clickhouse", cfg.ClickHouse,
		"erase_username", cfg.EraseUsername, "batch_rows", cfg.BatchRows, "flush_interval", cfg.FlushInterval)
	return s, nil
}

// Ready reports whether the sink has joined its group.
func (s *Sink) Ready() bool { return s.ready.Load() }

// Stalled reports whether records have been waiting longer than
// Config.StallTimeout without a committed flush: ClickHouse, Kafka or the
// schema registry failing for that long, or a dead letter that cannot be
// sent. It is safe to call from any goroutine (for /readyz).
func (s *Sink) Stalled() bool {
	since := s.waitingSince.Load()
	return since != 0 && time.Since(time.Unix(0, since)) > s.cfg.StallTimeout
}

// waiting marks records as waiting (from now, unless they already were).
func (s *Sink) waiting() { s.waitingSince.CompareAndSwap(0, time.Now().UnixNano()) }

// Ping checks ClickHouse, for readiness probes.
func (s *Sink) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

// Close leaves the group and closes the connections. It does not commit.
func (s *Sink) Close() {
	s.cl.Close()
	s.closeConns()
}

// Run is the data path: poll -> decode -> buffer -> (size or time) insert
// -> dead-letter -> commit, until ctx ends; then a final flush and commit
// bounded by ShutdownTimeout.
func (s *Sink) Run(ctx context.Context) error {
	if s.snap != nil {
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.snap.loop(sctx)
	}
	if s.watch != nil {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.watch.run(wctx)
	}
	for {
		if ctx.Err() != nil {
			return s.shutdown()
		}
		s.consumeChangelog()
		wait := s.cfg.FlushInterval
		if s.buf.nrecs > 0 {
			wait = time.Until(s.buf.firstAt.Add(s.cfg.FlushInterval))
		}
		if wait > 0 {
			pctx, cancel := context.WithTimeout(ctx, wait)
			// A record gives at most three rows (an accepted event: events,
			// its fact table, event_records): polling a third of the room
			// left keeps the buffer within BatchRows+2 rows.
			fetches := s.cl.PollRecords(pctx, max(1, (s.cfg.BatchRows-s.buf.nrows)/3))
			cancel()
			if fetches.IsClientClosed() {
				return nil
			}
			fetches.EachError(func(topic string, p int32, err error) {
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
					s.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
				}
			})
			if err := s.add(ctx, fetches); err != nil {
				if ctx.Err() != nil {
					return s.shutdown()
				}
				return err
			}
		}
		if s.buf.nrecs > 0 && (s.buf.nrows >= s.cfg.BatchRows || !time.Now().Before(s.buf.firstAt.Add(s.cfg.FlushInterval))) {
			if err := s.flush(ctx); err != nil {
				if ctx.Err() != nil {
					return s.shutdown()
				}
				return err
			}
		}
	}
}

// add decodes the polled records into the buffer.
func (s *Sink) add(ctx context.Context, fetches kgo.Fetches) error {
	now := time.Now().UTC()
	var err error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 || err != nil {
			return
		}
		last := p.Records[len(p.Records)-1]
		lags := s.lag[p.Topic]
		if lags == nil {
			lags = map[int32]int64{}
			s.lag[p.Topic] = lags
		}
		lags[p.Partition] = max(0, p.HighWatermark-last.Offset-1)
		var sum int64
		for _, l := range lags {
			sum += l
		}
		s.m.Lag.WithLabelValues(p.Topic).Set(float64(sum))
		s.m.Consumed.WithLabelValues(p.Topic).Add(float64(len(p.Records)))
		for _, rec := range p.Records {
			if err = s.addRecord(ctx, rec, now); err != nil {
				return
			}
		}
	})
	s.m.BufferedRows.Set(float64(s.buf.nrows))
	s.m.BufferedRecords.Set(float64(s.buf.nrecs))
	return err
}

func (s *Sink) addRecord(ctx context.Context, rec *kgo.Record, now time.Time) error {
	rows, err := s.dec.rows(ctx, rec, now)
	for delay := s.cfg.RetryInitial; err != nil && classify(err) == retry; delay = min(2*delay, s.cfg.RetryMax) {
		s.waiting()
		s.m.Retries.WithLabelValues("decode").Inc()
		s.log.Warn("decode failed transiently (schema registry?), retrying", "topic", rec.Topic, "partition", rec.Partition,
			"offset", rec.Offset, "retry_in", delay, "err", err)
		if serr := sleep(ctx, jitter(delay)); serr != nil {
			return serr
		}
		rows, err = s.dec.rows(ctx, rec, now)
	}
	if err != nil && classify(err) == fatal {
		return fmt.Errorf("decode %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	if s.buf.nrecs == 0 {
		s.buf.firstAt = time.Now()
		s.waiting()
	}
	s.buf.nrecs++
	tp := s.buf.last[rec.Topic]
	if tp == nil {
		tp = map[int32]*kgo.Record{}
		s.buf.last[rec.Topic] = tp
	}
	if prev := tp[rec.Partition]; prev == nil || prev.Offset < rec.Offset {
		tp[rec.Partition] = rec
	}
	if err != nil {
		src, _ := s.dec.source(rec)
		s.buf.dead = append(s.buf.dead, deadRecord{rec: rec, src: src, code: CodeSinkDecode, err: err})
		return nil
	}
	if _, ok := s.dec.source(rec); !ok {
		s.m.NoSource.Inc()
		s.log.Debug("accepted record without src_* headers: rows name its own coordinates",
			"topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
	}
	for _, r := range s.erasing(rec, rows) {
		s.buf.rows[r.Table] = append(s.buf.rows[r.Table], pendingRow{values: r.Values, rec: rec})
		s.buf.nrows++
		factSpan(&s.buf.factLo, &s.buf.factHi, r)
	}
	return nil
}

// flush inserts every buffered table, dead-letters what was rejected and
// commits the buffered records. Nothing is committed unless every insert
// and every DLQ produce succeeded.
func (s *Sink) flush(ctx context.Context) error {
	var rejected []deadRecord
	for _, t := range analytics.SinkTables() {
		rows := s.buf.rows[t]
		if len(rows) == 0 {
			continue
		}
		rej, err := s.ins.insert(ctx, t, rows)
		for _, r := range rej {
			src, _ := s.dec.source(r.row.rec)
			rejected = append(rejected, deadRecord{rec: r.row.rec, src: src, code: CodeSinkRejected,
				err: fmt.Errorf("clickhouse rejected %s row: %w", t.Name, r.err)})
		}
		if err != nil {
			return err
		}
		// Inserted: a retry of this flush (after a later table fails) must not send them again.
		delete(s.buf.rows, t)
	}
	if err := s.eraseBuffered(ctx); err != nil {
		return err
	}
	if err := s.markStale(ctx, s.buf.factLo); err != nil {
		return err
	}
	if s.snap != nil {
		s.snap.landed(s.buf.factLo, s.buf.factHi)
	}
	for _, d := range s.buf.dead {
		if err := s.deadLetter(ctx, d, "decode"); err != nil {
			return err
		}
	}
	s.buf.dead = nil
	seen := map[*kgo.Record]bool{}
	for _, d := range rejected {
		if seen[d.rec] {
			continue
		}
		seen[d.rec] = true
		if err := s.deadLetter(ctx, d, "reject"); err != nil {
			return err
		}
	}
	var recs []*kgo.Record
	for _, ps := range s.buf.last {
		for _, r := range ps {
			recs = append(recs, r)
		}
	}
	start := time.Now()
	if err := s.cl.CommitRecords(ctx, recs...); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("commit: %w", err)
		}
		// The rows are in ClickHouse; an uncommitted offset only means
		// re-delivery, which ReplacingMergeTree absorbs.
		s.log.Warn("offset commit failed; records will be re-delivered", "err", err)
	} else {
		s.m.CommitSeconds.Observe(time.Since(start).Seconds())
	}
	s.log.Debug("flushed", "records", s.buf.nrecs, "rows", s.buf.nrows, "dead_lettered", len(seen))
	s.resetBuffer()
	return nil
}

// shutdown flushes and commits what is buffered within ShutdownTimeout.
func (s *Sink) shutdown() error {
	if s.buf.nrecs == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.flush(ctx); err != nil {
		s.log.Warn("final flush failed; uncommitted records will be re-delivered", "records", s.buf.nrecs, "err", err)
		return nil
	}
	return nil
}

func (s *Sink) setPaused(p bool) {
	topics := s.dec.topics()
	if p {
		s.cl.PauseFetchTopics(topics...)
		s.m.Paused.Set(1)
		return
	}
	s.cl.ResumeFetchTopics(topics...)
	s.m.Paused.Set(0)
}

func (s *Sink) resetBuffer() {
	s.buf = buffer{rows: map[*analytics.TableSpec][]pendingRow{}, last: map[string]map[int32]*kgo.Record{}}
	s.m.BufferedRows.Set(0)
	s.m.BufferedRecords.Set(0)
	s.waitingSince.Store(0)
}
