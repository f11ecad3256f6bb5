package analytics

import (
	"context"
	"time"
)

// The fast paths of aging, DSO and CEI: the same columns, types, groups and
// order as agingSQL, dsoSQL and ceiSQL, read from fresh receivables
// snapshot builds (snapshot.go). TestSnapshotReportsEqualReference and
// TestReportsOnCurrentClickHouse compare each with its reference query.

// snap is the snapshot builds a fast query reads: at AsOf and, for CEI,
// at the period start.
type snap struct{ at, start uint64 }

// fastReports are the reports with a fast path, and the snapshot days each
// needs besides AsOf (CEI: the period start).
var fastReports = map[string]struct {
	sql       func(params, snap) string
	needStart bool
}{
	"aging": {agingFastSQL, false},
	"dso":   {dsoFastSQL, false},
	"add":   {dsoFastSQL, false},
	"cei":   {ceiFastSQL, true},
}

func (p params) snapFrom(d time.Time, b uint64, kind int) string {
	return "FROM " + snapshotWhere(p.db, d, b, kind)
}

func (p params) snapSegmentFilter() string {
	if !p.segmentSet {
		return "1"
	}
	return "segment = {segment}"
}

// openUnitsSQL is the open rows of build b at AsOf with their days past due.
func (p params) openUnitsSQL(b uint64) string {
	return `(SELECT segment, currency, account_id, units, toInt32({D} - day) AS dpd ` + p.snapFrom(p.asOf, b, snapOpen) + `)`
}

func agingFastSQL(p params, s snap) string {
	return `SELECT segment, currency, ` + agingColumns("units") + `
FROM ` + p.openUnitsSQL(s.at) + `
WHERE ` + p.snapSegmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// salesUnitsSQL is the credit-sale rows of build b issued in (D0, D].
func (p params) salesUnitsSQL(b uint64) string {
	return p.snapFrom(p.asOf, b, snapSales) + ` AND day > {D0} AND day <= {D}`
}

func dsoFastSQL(p params, s snap) string {
	return `SELECT segment, currency,
    ` + dsoColumns + `
FROM (
    SELECT segment, currency, units AS ar, if(dpd <= 0, units, toInt64(0)) AS cur, toInt64(0) AS sales, dpd FROM ` + p.openUnitsSQL(s.at) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), units, toInt32(0) ` + p.salesUnitsSQL(s.at) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), toInt64(0), toInt32(0) ` + p.snapFrom(p.asOf, s.at, snapGroup) + `
)
WHERE ` + p.snapSegmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// ceiFastSQL: the period start's open rows take the account's segment as
// of AsOf (as ceiSQL's joinSegments does) from AsOf's build.
func ceiFastSQL(p params, s snap) string {
	start := p.asOf.AddDate(0, 0, -p.days)
	return `SELECT segment, currency,
    ` + ceiColumns + `
FROM (
    SELECT seg AS segment, currency, b, toInt64(0) AS s, toInt64(0) AS e, toInt64(0) AS ec
    FROM (SELECT account_id, currency, units AS b ` + p.snapFrom(start, s.start, snapOpen) + `) AS opening
    ANY LEFT JOIN (SELECT account_id, currency, segment AS seg ` + p.snapFrom(p.asOf, s.at, snapAccount) + `) AS segs USING account_id, currency
    UNION ALL
    SELECT segment, currency, toInt64(0), units, toInt64(0), toInt64(0) ` + p.salesUnitsSQL(s.at) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), units, if(dpd <= 0, units, toInt64(0)) FROM ` + p.openUnitsSQL(s.at) + `
    UNION ALL
    SELECT segment, currency, toInt64(0), toInt64(0), toInt64(0), toInt64(0) ` + p.snapFrom(p.asOf, s.at, snapGroup) + `
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
	days := []time.Time{p.asOf}
	start := p.asOf.AddDate(0, 0, -p.days)
	if f.needStart {
		days = append(days, start)
	}
	st, err := SnapshotStates(ctx, c, days...)
	if err != nil {
		// e.g. a database not yet migrated to 0005: the reference query
		// gives the same answer
		return ""
	}
	var s snap
	for i, d := range days {
		if !st[d].Fresh {
			return ""
		}
		if i == 0 {
			s.at = st[d].Build
		} else {
			s.start = st[d].Build
		}
	}
	return p.sql(f.sql(p, s))
}
