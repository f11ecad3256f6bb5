package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
)

// TestFinanceReportsOnCurrentClickHouse runs the provisions and agencies
// reports over the finance dataset (loaded twice, as a replay would) on
// ClickHouse 18.16 and on chDB (current ClickHouse) and compares them: the
// report dataset of chdb_test.go holds no provisions or agency entries.
func TestFinanceReportsOnCurrentClickHouse(t *testing.T) {
	py := chdbtest.Python(t)
	c := analytics.TestConn(t)
	ctx := context.Background()
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := analytics.InsertRows(ctx, c, analytics.FinanceDataset()); err != nil {
			t.Fatal(err)
		}
	}
	var queries []chdbtest.Query
	for _, name := range []string{"provisions", "agencies"} {
		for _, o := range []analytics.ReportOptions{
			{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Days: 31},
			{AsOf: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), Segment: "corporate"},
		} {
			sql, err := analytics.ReportSQL(c.Database, name, o)
			if err != nil {
				t.Fatal(err)
			}
			queries = append(queries, chdbtest.Query{Name: name + " " + o.AsOf.Format(time.DateOnly) + " " + o.Segment, SQL: sql})
		}
	}
	if equal, _, _ := chdbtest.Compare(t, py, c.Database, queries); equal != len(queries) {
		t.Errorf("%d of %d finance reports equal on both engines", equal, len(queries))
	}
}
