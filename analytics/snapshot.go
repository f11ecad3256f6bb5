package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The receivables snapshot (migration 0005, docs/analytics.md): a build of
// day D stores what the aging, DSO and CEI reports need as of D, summed per
// segment and currency, computed by the reference fragments (openItemsSQL,
// salesSQL, segmentsSQL), so those reports as of D read a few thousand rows
// instead of reconstructing every open item from the facts. Report uses a
// build only while it is fresh (no stale mark since it started); otherwise
// it runs the reference query, so an answer never depends on whether a
// snapshot exists.

// SnapshotSalesDays is how many days of credit sales a build keeps (issue
// dates in (D-SnapshotSalesDays, D]): DSO and CEI over a longer period run
// the reference query.
const SnapshotSalesDays = 366

// DefaultSnapshotPeriods are the CEI periods a build covers unless told
// otherwise: CEI's default 30 days.
var DefaultSnapshotPeriods = []int{30}

// Snapshot kinds (receivables_snapshot.kind).
const (
	snapOpen   = 1 // open units by due date, > 0
	snapSales  = 2 // credit-sale units by issue date
	snapGroup  = 3 // a (segment, currency) with an invoice; units: accounts with anything open
	snapStart  = 4 // open units as of a CEI period start (day)
	snapPeriod = 5 // a period start of kind 4 (segment and currency '')
)

// SnapshotBuild is one finished build.
type SnapshotBuild struct {
	AsOf  time.Time
	Build uint64 // Unix nanoseconds when it started reading
	Rows  uint64
}

func day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// snapshotParams are the reference parameters of a build of asOf: the
// sales window is SnapshotSalesDays.
func snapshotParams(db string, asOf time.Time) params {
	return newParams(db, ReportOptions{AsOf: asOf, Days: SnapshotSalesDays})
}

// snapshotSelects are the SELECTs of a build of p's day under build id b,
// in the column order of snapshotInsert: open units and the groups (kinds
// 1 and 3, one openItemsSQL pass), credit sales (kind 2) and, per period
// in periods (days), the open units at its start (kinds 4 and 5).
func snapshotSelects(p params, b uint64, periods []int) []string {
	head := fmt.Sprintf("SELECT {D} AS as_of, toUInt64(%d) AS build, ", b)
	open := head + `kind, segment, currency, day, toInt64(sum(open_units)) AS units
FROM (
    SELECT tupleElement(e, 1) AS kind, acct_segment AS segment, currency, tupleElement(e, 2) AS day, tupleElement(e, 3) AS open_units
    FROM (
        SELECT account_id, currency, acct_segment, es FROM (
            SELECT account_id, currency,
                arrayConcat([(toUInt8(` + fmt.Sprint(snapGroup) + `), toDate(0), toInt64(max(due_units) > 0))],
                    arrayFilter(x -> tupleElement(x, 3) > 0, groupArray((toUInt8(` + fmt.Sprint(snapOpen) + `), due_date, due_units)))) AS es
            FROM (
                SELECT account_id, currency, due_date, toInt64(sum(open)) AS due_units
                FROM ` + openItemsSQL("{D}", "{END}") + `
                GROUP BY account_id, currency, due_date
            )
            GROUP BY account_id, currency
        ) ` + joinSegments + `
    )
    ARRAY JOIN es AS e
)
GROUP BY kind, segment, currency, day`
	sales := head + `toUInt8(` + fmt.Sprint(snapSales) + `) AS kind, acct_segment AS segment, currency, issue_date AS day, toInt64(sum(sale_units)) AS units
FROM (SELECT account_id, currency, issue_date, units AS sale_units FROM (` + salesSQL + `)) ` + joinSegments + `
GROUP BY acct_segment, currency, issue_date`
	out := []string{p.sql(open), p.sql(sales)}
	for _, d := range periods {
		start := p.asOf.AddDate(0, 0, -d)
		sd, se := dateLit(start), instantLit(start.AddDate(0, 0, 1))
		out = append(out, p.sql(head+`toUInt8(`+fmt.Sprint(snapStart)+`) AS kind, acct_segment AS segment, currency, `+sd+` AS day, toInt64(sum(open)) AS units
FROM (SELECT account_id, currency, open FROM `+openItemsSQL(sd, se)+`) `+joinSegments+`
GROUP BY acct_segment, currency
UNION ALL
`+head+`toUInt8(`+fmt.Sprint(snapPeriod)+`), '', '', `+sd+`, toInt64(0)`))
	}
	return out
}

const snapshotInsert = "INSERT INTO %s.receivables_snapshot (as_of, build, kind, segment, currency, day, units) "

// snapshotWhere selects build b of day d of one kind.
func snapshotWhere(db string, d time.Time, b uint64, kind int) string {
	return fmt.Sprintf("%s.receivables_snapshot WHERE as_of = %s AND build = %d AND kind = %d", db, dateLit(d), b, kind)
}

// BuildSnapshot builds the receivables snapshot of asOf's day from every
// fact landed so far, with the open receivables at the start of each CEI
// period of periods days (nil: DefaultSnapshotPeriods), marks it ready and
// drops that day's older builds. The build id is the time it started (Unix
// nanoseconds): a fact the sink lands after that marks the day stale
// (MarkSnapshotsStale), so a build that may have missed it is never used.
// It costs about one reference aging query per period plus two; it is safe
// to run while the sink inserts.
func BuildSnapshot(ctx context.Context, c *Conn, asOf time.Time, periods []int) (SnapshotBuild, error) {
	if periods == nil {
		periods = DefaultSnapshotPeriods
	}
	for _, d := range periods {
		if d < 1 || d > SnapshotSalesDays {
			return SnapshotBuild{}, fmt.Errorf("%w: snapshot period %d days not in 1..%d", ErrBadOption, d, SnapshotSalesDays)
		}
	}
	d := day(asOf)
	b := uint64(time.Now().UnixNano())
	p := snapshotParams(c.Database, d)
	ins := fmt.Sprintf(snapshotInsert, c.Database)
	stmts := snapshotSelects(p, b, periods)
	for i := range stmts {
		stmts[i] = ins + "SELECT * FROM (" + stmts[i] + ")"
	}
	stmts = append(stmts, fmt.Sprintf(`INSERT INTO %[1]s.snapshot_builds (as_of, state, build, version, rows, at)
SELECT %[2]s, 'ready', toUInt64(%[3]d), toUInt64(%[3]d), count(), now() FROM %[1]s.receivables_snapshot WHERE as_of = %[2]s AND build = %[3]d`,
		c.Database, dateLit(d), b))
	for _, s := range stmts {
		if err := c.Exec(ctx, s); err != nil {
			return SnapshotBuild{}, fmt.Errorf("build receivables snapshot %s: %w", d.Format(time.DateOnly), err)
		}
	}
	out := SnapshotBuild{AsOf: d, Build: b}
	if err := c.QueryRow(ctx, fmt.Sprintf("SELECT count() FROM %s.receivables_snapshot WHERE as_of = %s AND build = %d", c.Database, dateLit(d), b)).Scan(&out.Rows); err != nil {
		return out, fmt.Errorf("count receivables snapshot %s: %w", d.Format(time.DateOnly), err)
	}
	return out, dropOldBuilds(ctx, c, d, b)
}

// dropOldBuilds drops the partitions of d's builds older than b. A user
// without ALTER (the sink's, allow_ddl=0) keeps them: a superseded build is
// a few thousand rows no report reads, dropped by the next build made by a
// user that may.
func dropOldBuilds(ctx context.Context, c *Conn, d time.Time, b uint64) error {
	rows, err := c.Query(ctx, fmt.Sprintf("SELECT DISTINCT build FROM %s.receivables_snapshot WHERE as_of = %s AND build < %d", c.Database, dateLit(d), b))
	if err != nil {
		return fmt.Errorf("list old snapshot builds %s: %w", d.Format(time.DateOnly), err)
	}
	var old []uint64
	for rows.Next() {
		var o uint64
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return fmt.Errorf("list old snapshot builds: %w", err)
		}
		old = append(old, o)
	}
	rows.Close()
	for _, o := range old {
		err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.receivables_snapshot DROP PARTITION (%s, %d)", c.Database, d.Format("20060102"), o))
		if errors.Is(Cause(err), ErrNotPermitted) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("drop snapshot build %s/%d: %w", d.Format(time.DateOnly), o, err)
		}
	}
	return nil
}

// MarkSnapshotsStale marks every built day on or after the date of t (the
// earliest event time of facts just landed) stale as of now, so Report
// stops using those builds until they are rebuilt. The sink calls it after
// each flush that landed facts, before committing the offsets.
func MarkSnapshotsStale(ctx context.Context, c *Conn, t time.Time) error {
	q := fmt.Sprintf(`INSERT INTO %[1]s.snapshot_builds (as_of, state, build, version, rows, at)
SELECT as_of, 'stale', toUInt64(0), toUInt64(%[2]d), toUInt64(0), now() FROM %[1]s.snapshot_builds
WHERE state = 'ready' AND as_of >= %[3]s GROUP BY as_of`, c.Database, time.Now().UnixNano(), dateLit(day(t.UTC())))
	if err := c.Exec(ctx, q); err != nil {
		return fmt.Errorf("mark receivables snapshots stale from %s: %w", t.UTC().Format(time.DateOnly), err)
	}
	return nil
}

// SnapshotState is a day's latest build and whether it is fresh.
type SnapshotState struct {
	Build uint64 // 0: never built
	Fresh bool   // built and no stale mark since the build started
}

// SnapshotStates reads the state of each of days' snapshot.
func SnapshotStates(ctx context.Context, c *Conn, days ...time.Time) (map[time.Time]SnapshotState, error) {
	out := make(map[time.Time]SnapshotState, len(days))
	if len(days) == 0 {
		return out, nil
	}
	lits := ""
	for i, d := range days {
		if i > 0 {
			lits += ", "
		}
		lits += dateLit(day(d))
	}
	rows, err := c.Query(ctx, fmt.Sprintf(`SELECT as_of, maxIf(build, state = 'ready') AS b, maxIf(version, state = 'stale') AS s
FROM %s.snapshot_builds WHERE as_of IN (%s) GROUP BY as_of`, c.Database, lits))
	if err != nil {
		return nil, fmt.Errorf("read snapshot builds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d time.Time
		var b, s uint64
		if err := rows.Scan(&d, &b, &s); err != nil {
			return nil, fmt.Errorf("read snapshot builds: %w", err)
		}
		out[day(d)] = SnapshotState{Build: b, Fresh: b > 0 && b > s}
	}
	return out, rows.Err()
}
