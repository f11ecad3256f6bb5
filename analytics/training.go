package analytics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/risk/train"
)

// TrainingOptions says how `arrears risk train` samples labelled snapshots
// from the risk_features table.
type TrainingOptions struct {
	// Every spaces the snapshot dates (default 30 days).
	Every time.Duration
	// Horizon is the outcome window after a snapshot (default 90 days).
	Horizon time.Duration
	// DefaultDPD is the days past due that counts as default (default 90).
	DefaultDPD int
	// From and To bound the snapshot dates (default: the first feature row
	// + Every, and the last feature row - Horizon, so that every outcome
	// window is complete).
	From, To time.Time
}

func (o *TrainingOptions) defaults() {
	if o.Every == 0 {
		o.Every = 30 * 24 * time.Hour
	}
	if o.Horizon == 0 {
		o.Horizon = 90 * 24 * time.Hour
	}
	if o.DefaultDPD == 0 {
		o.DefaultDPD = 90
	}
}

// ErrNoHistory: the risk_features table does not span one outcome window.
var ErrNoHistory = errors.New("not enough history for one complete outcome window")

// TrainingRows samples labelled snapshots: at each snapshot date T, every
// account's latest features at or before T (accounts already DefaultDPD
// days past due are left out), labelled defaulted when within (T, T +
// Horizon] the account was DefaultDPD or more days past due: a feature row
// says so, or at T + Horizon its oldest unpaid item is that old.
func TrainingRows(ctx context.Context, c *Conn, o TrainingOptions) ([]train.Row, error) {
	o.defaults()
	if o.From.IsZero() || o.To.IsZero() {
		var lo, hi time.Time
		if err := c.QueryRow(ctx, "SELECT min(snapshot_time), max(snapshot_time) FROM "+c.Table("risk_features")).Scan(&lo, &hi); err != nil {
			return nil, fmt.Errorf("risk_features time span: %w", err)
		}
		if o.From.IsZero() {
			o.From = lo.Add(o.Every)
		}
		if o.To.IsZero() {
			o.To = hi.Add(-o.Horizon)
		}
	}
	if o.To.Before(o.From) {
		return nil, fmt.Errorf("%w: snapshots from %s to %s", ErrNoHistory, o.From.Format(time.DateOnly), o.To.Format(time.DateOnly))
	}
	var out []train.Row
	for t := o.From; !t.After(o.To); t = t.Add(o.Every) {
		rows, err := snapshotRows(ctx, c, t, o)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// snapshotSQL: the features at T (argMax by time), joined with the outcome
// over (T, H]. ClickHouse 18.16 has no inequality joins, hence two
// aggregations joined by account.
const snapshotSQL = `SELECT account_id, segment, dpd, overdue_ratio, utilisation, late_payments_12m, avg_days_to_pay,
    reversals, broken_promises, disputes_opened, tenure_days, open_invoices,
    toUInt8(future_dpd >= {N} OR (end_overdue > 0 AND end_oldest <= toDate(toDateTime({H})) - {N})) AS defaulted
FROM (
    SELECT account_id, argMax(segment, snapshot_time) AS segment, argMax(days_past_due, snapshot_time) AS dpd,
        argMax(overdue_ratio, snapshot_time) AS overdue_ratio, argMax(utilisation, snapshot_time) AS utilisation,
        argMax(late_payments_12m, snapshot_time) AS late_payments_12m, argMax(avg_days_to_pay, snapshot_time) AS avg_days_to_pay,
        argMax(reversals, snapshot_time) AS reversals, argMax(broken_promises, snapshot_time) AS broken_promises,
        argMax(disputes_opened, snapshot_time) AS disputes_opened, argMax(tenure_days, snapshot_time) AS tenure_days,
        argMax(open_invoices, snapshot_time) AS open_invoices
    FROM {db}.risk_features
    WHERE snapshot_time <= toDateTime({T})
    GROUP BY account_id
) AS features
ANY LEFT JOIN (
    SELECT account_id, maxIf(days_past_due, snapshot_time > toDateTime({T})) AS future_dpd,
        argMax(overdue_amount, snapshot_time) AS end_overdue, argMax(oldest_due_date, snapshot_time) AS end_oldest
    FROM {db}.risk_features
    WHERE snapshot_time <= toDateTime({H})
    GROUP BY account_id
) AS outcome USING account_id
WHERE dpd < {N}
ORDER BY account_id`

// snapshotQuery is snapshotSQL for database db and snapshot time t.
func snapshotQuery(db string, t time.Time, o TrainingOptions) string {
	return strings.NewReplacer("{db}", db, "{T}", fmt.Sprint(t.Unix()), "{H}", fmt.Sprint(t.Add(o.Horizon).Unix()),
		"{N}", fmt.Sprint(o.DefaultDPD)).Replace(snapshotSQL)
}

func snapshotRows(ctx context.Context, c *Conn, t time.Time, o TrainingOptions) ([]train.Row, error) {
	rs, err := c.Query(ctx, snapshotQuery(c.Database, t, o))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", t.Format(time.DateOnly), err)
	}
	defer rs.Close()
	var out []train.Row
	for rs.Next() {
		var acct, seg string
		var f risk.Features
		var def uint8
		if err := rs.Scan(&acct, &seg, &f.DaysPastDue, &f.OverdueRatio, &f.Utilisation, &f.LatePayments12M, &f.AvgDaysToPay,
			&f.Reversals, &f.BrokenPromises, &f.DisputesOpened, &f.TenureDays, &f.OpenInvoices, &def); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", t.Format(time.DateOnly), err)
		}
		f.Segment = event.Segment(seg)
		out = append(out, train.Row{Features: f, Defaulted: def == 1, Time: t})
	}
	return out, rs.Err()
}
