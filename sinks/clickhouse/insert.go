package chsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
)

// pendingRow is a buffered row and the record it came from (for the DLQ).
type pendingRow struct {
	values []any
	rec    *kgo.Record
}

// rejectedRow is a row ClickHouse or the client encoder refused as data.
type rejectedRow struct {
	row pendingRow
	err error
}

// inserter writes one table's rows, retrying infrastructure failures with
// backoff and isolating data errors by bisection.
type inserter struct {
	conn   *analytics.Conn
	cfg    Config
	m      *Metrics
	log    *slog.Logger
	paused func(bool) // called with true on the first retry, false once an insert succeeds again
	stuck  bool
}

// insert writes rows into t. It returns the rows rejected as data errors;
// it only fails when ctx ends while ClickHouse keeps failing.
func (in *inserter) insert(ctx context.Context, t *analytics.TableSpec, rows []pendingRow) ([]rejectedRow, error) {
	var rej []rejectedRow
	delay := in.cfg.RetryInitial
	for len(rows) > 0 {
		err := in.attempt(ctx, t, rows)
		if err == nil {
			return rej, nil
		}
		var re *analytics.RowError
		switch {
		case errors.As(err, &re) && re.Index >= 0 && re.Index < len(rows):
			// The client could not encode one row: drop it and resend the rest.
			rej = append(rej, rejectedRow{rows[re.Index], err})
			rest := make([]pendingRow, 0, len(rows)-1)
			rows = append(append(rest, rows[:re.Index]...), rows[re.Index+1:]...)
		case classify(err) == fatal:
			return rej, fmt.Errorf("insert into %s: %w", t.Name, err)
		case classify(err) == deadLetter:
			// The server refused the block for its data: find the rows by bisection.
			if len(rows) == 1 {
				return append(rej, rejectedRow{rows[0], err}), nil
			}
			h := len(rows) / 2
			for _, part := range [][]pendingRow{rows[:h], rows[h:]} {
				r, err := in.insert(ctx, t, part)
				rej = append(rej, r...)
				if err != nil {
					return rej, err
				}
			}
			return rej, nil
		default:
			if ctx.Err() != nil {
				return rej, fmt.Errorf("insert into %s: %w", t.Name, ctx.Err())
			}
			in.m.Retries.WithLabelValues(t.Name).Inc()
			if !in.stuck {
				in.stuck = true
				if in.paused != nil {
					in.paused(true)
				}
			}
			in.log.Warn("clickhouse insert failed, retrying", "table", t.Name, "rows", len(rows), "retry_in", delay, "err", err)
			if err := sleep(ctx, jitter(delay)); err != nil {
				return rej, fmt.Errorf("insert into %s: %w", t.Name, err)
			}
			delay = min(2*delay, in.cfg.RetryMax)
		}
	}
	return rej, nil
}

func (in *inserter) attempt(ctx context.Context, t *analytics.TableSpec, rows []pendingRow) error {
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = r.values
	}
	actx, cancel := context.WithTimeout(ctx, in.cfg.InsertTimeout)
	defer cancel()
	start := time.Now()
	if err := analytics.Insert(actx, in.conn, t, vals); err != nil {
		return err
	}
	in.m.InsertSeconds.WithLabelValues(t.Name).Observe(time.Since(start).Seconds())
	in.m.RowsInserted.WithLabelValues(t.Name).Add(float64(len(rows)))
	in.m.BatchesInserted.WithLabelValues(t.Name).Inc()
	if in.stuck {
		in.stuck = false
		in.log.Info("clickhouse inserts succeed again", "table", t.Name)
		if in.paused != nil {
			in.paused(false)
		}
	}
	return nil
}

// jitter spreads retries of several sinks: d +/- 20%.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
