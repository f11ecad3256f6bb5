package analytics

import "context"

// The fast paths of aging, DSO and CEI: the same columns, types, groups and
// order as agingSQL, dsoSQL and ceiSQL, read from a fresh receivables
// snapshot build (snapshot.go). TestSnapshotReportsEqualReference and
// TestReportsOnCurrentClickHouse compare each with its reference query.

// fastReports are the reports with a fast path; CEI also needs the build
// to cover its period (kind 5).
var fastReports = map[string]struct {
	sql       func(params, uint64) string
	needStart bool
}{
	"aging": {agingFastSQL, false},
	"dso":   {dsoFastSQL, false},
	"add":   {dsoFastSQL, false},
	"cei":   {ceiFastSQL, true},
}

func (p params) snapFrom(b uint64, kind int) string {
	return "FROM " + snapshotWhere(p.db, p.asOf, b, kind)
}

func (p params) snapSegmentFilter() string {
	if !p.segmentSet {
		return "1"
	}
	return "segment = {segment}"
}

// openUnitsSQL is the open rows of build b with their days past due.
func (p params) openUnitsSQL(b uint64) string {
	return `(SELECT segment, currency, units, toInt32({D} - day) AS dpd ` + p.snapFrom(b, snapOpen) + `)`
}

// groupsSQL is the (segment, currency) rows of build b: one per group with
// an invoice, units the accounts with anything open.
func (p params) groupsSQL(b uint64) string { return p.snapFrom(b, snapGroup) }

func agingFastSQL(p params, b uint64) string {
	return `SELECT segment, currency, ` + agingColumns("toUInt64(sum(accts))", "units") + `
FROM (
    SELECT segment, currency, units, dpd, toInt64(0) AS accts FROM ` + p.openUnitsSQL(b) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt32(0), units ` + p.groupsSQL(b) + ` AND units > 0
)
WHERE ` + p.snapSegmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// salesUnitsSQL is the credit-sale rows of build b issued in (D0, D].
func (p params) salesUnitsSQL(b uint64) string {
	return p.snapFrom(b, snapSales) + ` AND day > {D0} AND day <= {D}`
}

func dsoFastSQL(p params, b uint64) string {
	return `SELECT segment, currency,
    ` + dsoColumns + `
FROM (
    SELECT segment, currency, units AS ar, if(dpd <= 0, units, toInt64(0)) AS cur, toInt64(0) AS sales, dpd FROM ` + p.openUnitsSQL(b) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), units, toInt32(0) ` + p.salesUnitsSQL(b) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), toInt64(0), toInt32(0) ` + p.groupsSQL(b) + `
)
WHERE ` + p.snapSegmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

func ceiFastSQL(p params, b uint64) string {
	return `SELECT segment, currency,
    ` + ceiColumns + `
FROM (
    SELECT segment, currency, units AS b, toInt64(0) AS s, toInt64(0) AS e, toInt64(0) AS ec ` + p.snapFrom(b, snapStart) + ` AND day = {D0}
    UNION ALL
    SELECT segment, currency, toInt64(0), units, toInt64(0), toInt64(0) ` + p.salesUnitsSQL(b) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), units, if(dpd <= 0, units, toInt64(0)) FROM ` + p.openUnitsSQL(b) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), toInt64(0), toInt64(0) ` + p.groupsSQL(b) + `
)
WHERE ` + p.snapSegmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// ReportQuery is the SQL Report runs for name and opts now: the fast path
// when fresh snapshot builds cover it (fast true), else ReportSQL's.
func ReportQuery(ctx context.Context, c *Conn, name string, opts ReportOptions) (q string, fast bool, err error) {
	if q = snapshotReportSQL(ctx, c, name, opts); q != "" {
		return q, true, nil
	}
	q, err = ReportSQL(c.Database, name, opts)
	return q, false, err
}

// snapshotReportSQL is the fast SQL of report name with opts when fresh
// builds cover it, else "" (run the reference query, also when the builds
// cannot be read). It reads snapshot_builds (one small query) only for the
// reports with a fast path.
func snapshotReportSQL(ctx context.Context, c *Conn, name string, opts ReportOptions) string {
	f, ok := fastReports[name]
	if !ok {
		return ""
	}
	o, err := opts.withDefaults(reports[name])
	if err != nil || o.Days > SnapshotSalesDays {
		return "" // the reference path reports a bad option
	}
	p := newParams(c.Database, o)
	st, err := SnapshotStates(ctx, c, p.asOf)
	if err != nil || !st[p.asOf].Fresh {
		// none, stale, or cannot be read (e.g. a database not yet
		// migrated to 0005): the reference query gives the same answer
		return ""
	}
	b := st[p.asOf].Build
	if f.needStart {
		var n uint64
		q := "SELECT count() FROM " + snapshotWhere(c.Database, p.asOf, b, snapPeriod) + " AND day = " + p.d0
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil || n == 0 {
			return "" // the build does not cover this period
		}
	}
	return p.sql(f.sql(p, b))
}
