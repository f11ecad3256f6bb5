package chsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/arrears/arrears/analytics"
)

// SnapshotConfig is how the sink maintains the receivables snapshot
// (analytics.BuildSnapshot) that turns aging, DSO and CEI as of a month
// end into a lookup.
type SnapshotConfig struct {
	// Enabled builds the snapshot of every month end (default true). Stale
	// marks are written whatever it says: a build made by hand must not
	// outlive a late fact either.
	Enabled bool `yaml:"enabled"`
	// Grace is how far the event time of the landed facts must pass a
	// month end's midnight before that month end is built, so facts still
	// in flight on slower partitions make it in (default 24h).
	Grace time.Duration `yaml:"grace"`
	// PeriodDays are the CEI periods (days ending on the month end) each
	// build covers (default [30], CEI's default period): CEI as of a month
	// end over one of them is a lookup; over another it runs the
	// reference query.
	PeriodDays []int `yaml:"period_days"`
	// CheckInterval is how often the sink looks for month ends to build
	// and for stale builds to rebuild (default 1m).
	CheckInterval time.Duration `yaml:"check_interval"`
}

// DefaultSnapshotConfig returns the documented defaults.
func DefaultSnapshotConfig() SnapshotConfig {
	return SnapshotConfig{Enabled: true, Grace: 24 * time.Hour, PeriodDays: analytics.DefaultSnapshotPeriods, CheckInterval: time.Minute}
}

func (c SnapshotConfig) validate() []error {
	var errs []error
	if c.Grace < 0 {
		errs = append(errs, fmt.Errorf("sink.snapshot.grace: %s must be >= 0", c.Grace))
	}
	if c.CheckInterval < time.Second {
		errs = append(errs, fmt.Errorf("sink.snapshot.check_interval: %s must be >= 1s", c.CheckInterval))
	}
	if len(c.PeriodDays) == 0 {
		errs = append(errs, errors.New("sink.snapshot.period_days: must name at least one period"))
	}
	for i, d := range c.PeriodDays {
		if d < 1 || d > analytics.SnapshotSalesDays {
			errs = append(errs, fmt.Errorf("sink.snapshot.period_days[%d]: %d not in 1..%d", i, d, analytics.SnapshotSalesDays))
		}
	}
	return errs
}

// factTime is the index of the event-time column of each table the
// snapshot reads; a landed row of one of them can change a built day.
var factTime = func() map[*analytics.TableSpec]int {
	m := map[*analytics.TableSpec]int{}
	for _, t := range []*analytics.TableSpec{analytics.EventsTable, analytics.InvoicesTable, analytics.PaymentsTable,
		analytics.AccountsTable, analytics.DisputesTable, analytics.GLTable} {
		for i, c := range t.Columns {
			if c == "event_time" || c == "entry_time" {
				m[t] = i
			}
		}
	}
	return m
}()

// factSpan widens [lo, hi] by the event time of row, when its table is
// one the snapshot reads.
func factSpan(lo, hi *time.Time, row analytics.Row) {
	i, ok := factTime[row.Table]
	if !ok {
		return
	}
	t, ok := row.Values[i].(time.Time)
	if !ok {
		return
	}
	if lo.IsZero() || t.Before(*lo) {
		*lo = t
	}
	if t.After(*hi) {
		*hi = t
	}
}

// snapshotKeeper builds the month ends the landed facts have passed and
// rebuilds stale ones, in its own goroutine (loop), one build at a time.
type snapshotKeeper struct {
	cfg  SnapshotConfig
	conn *analytics.Conn
	m    *Metrics
	log  *slog.Logger
	// first and watermark are the earliest and latest event times of the
	// facts in ClickHouse (Unix nanoseconds; 0: none seen yet), read at
	// start and moved by every flush.
	first, watermark atomic.Int64
	wake             chan struct{}
}

// landed records a flush's fact span [lo, hi]; a new month end passed
// wakes the loop.
func (k *snapshotKeeper) landed(lo, hi time.Time) {
	if lo.IsZero() {
		return
	}
	for f := k.first.Load(); f == 0 || lo.UnixNano() < f; f = k.first.Load() {
		if k.first.CompareAndSwap(f, lo.UnixNano()) {
			break
		}
	}
	for w := k.watermark.Load(); hi.UnixNano() > w; w = k.watermark.Load() {
		if k.watermark.CompareAndSwap(w, hi.UnixNano()) {
			if w == 0 || time.Unix(0, w).Add(-k.cfg.Grace).Month() != hi.Add(-k.cfg.Grace).Month() {
				select {
				case k.wake <- struct{}{}:
				default:
				}
			}
			break
		}
	}
}

// days are the days to keep built: every month end from the first fact's
// month whose next midnight the watermark has passed by Grace.
func (k *snapshotKeeper) days() []time.Time {
	f, w := k.first.Load(), k.watermark.Load()
	if f == 0 || w == 0 {
		return nil
	}
	first, limit := time.Unix(0, f).UTC(), time.Unix(0, w).UTC().Add(-k.cfg.Grace)
	var out []time.Time
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); ; m = m.AddDate(0, 1, 0) {
		next := m.AddDate(0, 1, 0) // the midnight after the month end
		if next.After(limit) {
			return out
		}
		out = append(out, next.AddDate(0, 0, -1))
	}
}

// loop reads the facts' span, then builds what days lists and is not
// fresh, at start, every CheckInterval and when a month end is passed,
// until ctx ends. A failed build is logged and retried at the next check.
func (k *snapshotKeeper) loop(ctx context.Context) {
	var lo, hi time.Time
	if err := k.conn.QueryRow(ctx, "SELECT min(event_time), max(event_time) FROM "+k.conn.Table("events")).Scan(&lo, &hi); err != nil {
		k.log.Warn("receivables snapshot: cannot read the facts' time span; builds wait for new facts", "err", err)
	} else if hi.Unix() > 0 {
		k.landed(lo, hi)
	}
	t := time.NewTicker(k.cfg.CheckInterval)
	defer t.Stop()
	for {
		if err := k.check(ctx); err != nil && ctx.Err() == nil {
			k.log.Warn("receivables snapshot build failed; retrying at the next check", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-k.wake:
		}
	}
}

// check builds every wanted day that has no fresh build.
func (k *snapshotKeeper) check(ctx context.Context) error {
	days := k.days()
	if len(days) == 0 {
		return nil
	}
	st, err := analytics.SnapshotStates(ctx, k.conn, days...)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range days {
		if st[d].Fresh || ctx.Err() != nil {
			continue
		}
		start := time.Now()
		b, err := analytics.BuildSnapshot(ctx, k.conn, d, k.cfg.PeriodDays)
		if err != nil {
			k.m.SnapshotBuilds.WithLabelValues("error").Inc()
			errs = append(errs, err)
			continue
		}
		k.m.SnapshotBuilds.WithLabelValues("ok").Inc()
		k.m.SnapshotSeconds.Observe(time.Since(start).Seconds())
		k.log.Info("receivables snapshot built", "as_of", d.Format(time.DateOnly), "rows", b.Rows,
			"rebuild", st[d].Build != 0, "seconds", time.Since(start).Seconds())
	}
	return errors.Join(errs...)
}

// markStale marks the built days a flush's facts (from lo on) may change,
// retrying transient errors like an insert; it runs after the flush's
// inserts and before its commit, so a crash in between re-delivers the
// facts and marks again.
func (s *Sink) markStale(ctx context.Context, lo time.Time) error {
	if lo.IsZero() {
		return nil
	}
	err := analytics.MarkSnapshotsStale(ctx, s.conn, lo)
	if noSnapshotTable(err) {
		return nil
	}
	for delay := s.cfg.RetryInitial; err != nil && classify(err) == retry; delay = min(2*delay, s.cfg.RetryMax) {
		s.waiting()
		s.m.Retries.WithLabelValues("snapshot_builds").Inc()
		s.log.Warn("marking receivables snapshots stale failed, retrying", "retry_in", delay, "err", err)
		if serr := sleep(ctx, jitter(delay)); serr != nil {
			return serr
		}
		if err = analytics.MarkSnapshotsStale(ctx, s.conn, lo); noSnapshotTable(err) {
			return nil
		}
	}
	return err
}

// noSnapshotTable: snapshot_builds does not exist (a database not migrated
// to 0005, with sink.migrate off), so no build exists to mark stale.
func noSnapshotTable(err error) bool {
	var ex *clickhouse.Exception
	return errors.As(err, &ex) && ex.Code == 60 // UNKNOWN_TABLE
}
