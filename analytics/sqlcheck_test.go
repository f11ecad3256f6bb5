package analytics

import (
	"context"
	"testing"
	"time"
)

// TestReportsRunOnEmptyTables runs every report on a fresh database: each
// query must parse and execute on the server under test.
func TestReportsRunOnEmptyTables(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, r := range Reports() {
		for _, seg := range []string{"", "post'paid"} {
			_, err := Report(ctx, c, r.Name, ReportOptions{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Segment: seg, Account: "A1"})
			if err != nil {
				t.Errorf("%s (segment %q): %v", r.Name, seg, err)
			}
		}
	}
}
