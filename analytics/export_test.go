package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// For the external tests (package analytics_test), which import helpers
// that import analytics.
var (
	ReportDataset     = reportDataset
	TrainingLabelRows = trainingLabelRows
	TestConn          = testConn
)

// SnapshotQuery is TrainingRows' query for the snapshot at t, with the
// default options.
func SnapshotQuery(db string, t time.Time) string {
	var o TrainingOptions
	o.defaults()
	return snapshotQuery(db, t, o)
}

// BuildTestSnapshots builds the receivables snapshot of every day the
// snapshot tests use.
var BuildTestSnapshots = buildSnapshots

// SnapshotQueries are, for the engine comparison, the fast SQL of every
// snapshot case (from the fresh builds in c; a case without one fails t)
// and the SELECTs of a build of 2026-03-31 and of 2026-03-01, ordered
// (days as numbers: 18.16 prints day 0 as 0000-00-00).
func SnapshotQueries(t *testing.T, c *Conn) (names, sqls []string) {
	t.Helper()
	ns, opts := snapshotCases()
	for i, name := range ns {
		q := snapshotReportSQL(context.Background(), c, name, opts[i])
		if q == "" {
			t.Fatalf("%s %+v: no fresh snapshot", name, opts[i])
		}
		names = append(names, fmt.Sprintf("fast %s as of %s (segment %q, days %d)", name, opts[i].AsOf.Format(time.DateOnly), opts[i].Segment, opts[i].Days))
		sqls = append(sqls, q)
	}
	for _, d := range []time.Time{time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)} {
		for i, s := range snapshotSelects(snapshotParams(c.Database, d), 1, []int{30, 60}) {
			names = append(names, fmt.Sprintf("snapshot build %s select %d", d.Format(time.DateOnly), i))
			sqls = append(sqls, "SELECT * FROM (SELECT as_of, build, kind, segment, currency, toInt32(day) AS day_number, units FROM ("+s+
				")) ORDER BY kind, segment, currency, day_number, units")
		}
	}
	return names, sqls
}
