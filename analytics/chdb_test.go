package analytics_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
)

// TestReportsOnCurrentClickHouse runs every migration, every report (all
// segments, one segment; the timeline for two accounts), the training
// snapshot query (three dates), the fast paths of aging, DSO and CEI over
// the receivables snapshot built on 18.16 and the snapshot build's SELECTs
// on chDB, current ClickHouse, over the report dataset and the
// training-label history copied from ClickHouse 18.16, and compares each
// result with 18.16's.
func TestReportsOnCurrentClickHouse(t *testing.T) {
	py := chdbtest.Python(t)
	c := analytics.TestConn(t)
	ctx := context.Background()
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice, as a replay would: FINAL must collapse the copies
		if err := analytics.InsertRows(ctx, c, analytics.ReportDataset()); err != nil {
			t.Fatal(err)
		}
	}
	if err := analytics.InsertRows(ctx, c, analytics.TrainingLabelRows()); err != nil {
		t.Fatal(err)
	}
	analytics.BuildTestSnapshots(t, c)
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	var queries []chdbtest.Query
	names, sqls := analytics.SnapshotQueries(t, c)
	for i := range names {
		queries = append(queries, chdbtest.Query{Name: names[i], SQL: sqls[i]})
	}
	for _, r := range analytics.Reports() {
		opts := []analytics.ReportOptions{{AsOf: asOf}, {AsOf: asOf, Segment: "postpaid"}}
		if r.Name == "timeline" {
			opts = []analytics.ReportOptions{{AsOf: asOf, Account: "A1"}, {AsOf: asOf, Account: "A2", Limit: 3}}
		}
		for _, o := range opts {
			sql, err := analytics.ReportSQL(c.Database, r.Name, o)
			if err != nil {
				t.Fatal(err)
			}
			queries = append(queries, chdbtest.Query{Name: fmt.Sprintf("report %s (segment %q, account %q)", r.Name, o.Segment, o.Account), SQL: sql})
		}
	}
	for _, m := range []time.Month{2, 3, 4} {
		at := time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC)
		queries = append(queries, chdbtest.Query{Name: "training snapshot " + at.Format(time.DateOnly), SQL: analytics.SnapshotQuery(c.Database, at)})
	}
	if equal, _, _ := chdbtest.Compare(t, py, c.Database, queries); equal == 0 {
		t.Error("no report ran equal on both engines")
	}
}
