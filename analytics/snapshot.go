package analytics

import (
	"context"
	"fmt"
	"time"
)

// The receivables snapshot (migration 0005, docs/analytics.md): a build of
// day D stores what the aging, DSO and CEI reports need as of D, computed
// by the reference fragments (openItemsSQL, salesSQL, segmentsSQL), so
// those reports as of D read a few rows per account instead of
// reconstructing every open item from the facts. Report uses a build only
// while it is fresh (no stale mark since it started); otherwise it runs
// the reference query, so an answer never depends on whether a snapshot
// exists.

// SnapshotSalesDays is how many days of credit sales a build keeps (issue
// dates in (D-SnapshotSalesDays, D]): DSO and CEI over a longer period run
// the reference query.
const SnapshotSalesDays = 366

// Snapshot kinds (receivables_snapshot.kind).
const (
	snapAccount = 0 // one row per (account, currency) with an invoice: its segment
	snapOpen    = 1 // open units per (account, currency, due date), > 0
	snapSales   = 2 // credit-sale units per (account, currency, issue date)
	snapGroup   = 3 // one row per (segment, currency) with an invoice
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
// in the column order of snapshotInsert: the per-account rows (kinds 0 and
// 1, one openItemsSQL pass) and the credit sales (kind 2).
func snapshotSelects(p params, b uint64) []string {
	head := fmt.Sprintf("SELECT {D} AS as_of, toUInt64(%d) AS build, ", b)
	accounts := head + `tupleElement(e, 1) AS kind, acct_segment AS segment, currency, account_id,
    tupleElement(e, 2) AS day, tupleElement(e, 3) AS units
FROM (
    SELECT account_id, currency, acct_segment, es FROM (
        SELECT account_id, currency,
            arrayConcat([(toUInt8(` + fmt.Sprint(snapAccount) + `), toDate(0), toInt64(0))],
                arrayFilter(x -> tupleElement(x, 3) > 0, groupArray((toUInt8(` + fmt.Sprint(snapOpen) + `), due_date, due_units)))) AS es
        FROM (
            SELECT account_id, currency, due_date, toInt64(sum(open)) AS due_units
            FROM ` + openItemsSQL("{D}", "{END}") + `
            GROUP BY account_id, currency, due_date
        )
        GROUP BY account_id, currency
    ) ` + joinSegments + `
)
ARRAY JOIN es AS e`
	sales := head + `toUInt8(` + fmt.Sprint(snapSales) + `) AS kind, acct_segment AS segment, currency, account_id,
    issue_date AS day, toInt64(sum(sale_units)) AS units
FROM (SELECT account_id, currency, issue_date, units AS sale_units FROM (` + salesSQL + `)) ` + joinSegments + `
GROUP BY acct_segment, currency, account_id, issue_date`
	return []string{p.sql(accounts), p.sql(sales)}
}

const snapshotInsert = "INSERT INTO %s.receivables_snapshot (as_of, build, kind, segment, currency, account_id, day, units) "

// snapshotWhere selects build b of day d of one kind.
func snapshotWhere(db string, d time.Time, b uint64, kind int) string {
	return fmt.Sprintf("%s.receivables_snapshot WHERE as_of = %s AND build = %d AND kind = %d", db, dateLit(d), b, kind)
}

// BuildSnapshot builds the receivables snapshot of asOf's day from every
// fact landed so far, marks it ready and drops that day's older builds.
// The build id is the time it started (Unix nanoseconds): a fact the sink
// lands after that marks the day stale (MarkSnapshotsStale), so a build
// that may have missed it is never used. It costs about three reference
// queries; it is safe to run while the sink inserts.
func BuildSnapshot(ctx context.Context, c *Conn, asOf time.Time) (SnapshotBuild, error) {
	d := day(asOf)
	b := uint64(time.Now().UnixNano())
	p := snapshotParams(c.Database, d)
	ins := fmt.Sprintf(snapshotInsert, c.Database)
	stmts := snapshotSelects(p, b)
	for i := range stmts {
		stmts[i] = ins + stmts[i]
	}
	stmts = append(stmts,
		ins+fmt.Sprintf("SELECT as_of, build, toUInt8(%d), segment, currency, '', toDate(0), toInt64(0) FROM %s GROUP BY as_of, build, segment, currency",
			snapGroup, snapshotWhere(c.Database, d, b, snapAccount)),
		fmt.Sprintf(`INSERT INTO %[1]s.snapshot_builds (as_of, state, build, version, rows, at)
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

// dropOldBuilds drops the partitions of d's builds older than b.
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
		if err := c.Exec(ctx, fmt.Sprintf("ALTER TABLE %s.receivables_snapshot DROP PARTITION (%s, %d)", c.Database, d.Format("20060102"), o)); err != nil {
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
