package analytics

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// snapshotDays are the days the snapshot tests build: the month ends
// 2025-12-31 .. 2026-03-31.
func snapshotDays() []time.Time {
	var ds []time.Time
	for _, s := range []string{"2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31"} {
		d, _ := time.Parse(time.DateOnly, s)
		ds = append(ds, d)
	}
	return ds
}

// snapshotCases are the fast-path reports and options compared with their
// reference queries: two month ends (a late invoice of 02-20 makes the
// second stale), all segments and one, the default period and others (the
// builds cover CEI over 30 and 60 days).
func snapshotCases() (names []string, opts []ReportOptions) {
	for _, d := range []string{"2026-01-31", "2026-03-31"} {
		asOf, _ := time.Parse(time.DateOnly, d)
		for _, name := range []string{"aging", "dso", "cei"} {
			for _, seg := range []string{"", "prepaid"} {
				names, opts = append(names, name), append(opts, ReportOptions{AsOf: asOf, Segment: seg})
			}
		}
		names, opts = append(names, "dso", "cei"), append(opts, ReportOptions{AsOf: asOf, Days: 30}, ReportOptions{AsOf: asOf, Days: 60})
	}
	return names, opts
}

func buildSnapshots(t *testing.T, c *Conn) {
	t.Helper()
	for _, d := range snapshotDays() {
		b, err := BuildSnapshot(context.Background(), c, d, []int{30, 60})
		if err != nil {
			t.Fatal(err)
		}
		if b.Rows == 0 || b.Build == 0 || !b.AsOf.Equal(d) {
			t.Fatalf("build %s = %+v", d.Format(time.DateOnly), b)
		}
	}
}

// compareFast runs every snapshot case on the fast path and on its
// reference query and fails on any difference; it returns how many cases
// took the fast path and how many result rows they had.
func compareFast(t *testing.T, c *Conn) (fast, rows int) {
	t.Helper()
	ctx := context.Background()
	names, opts := snapshotCases()
	for i, name := range names {
		label := fmt.Sprintf("%s as of %s segment %q days %d", name, opts[i].AsOf.Format(time.DateOnly), opts[i].Segment, opts[i].Days)
		ref, err := ReportSQL(c.Database, name, opts[i])
		if err != nil {
			t.Fatal(err)
		}
		want, err := runReport(ctx, c, name, ref)
		if err != nil {
			t.Fatalf("%s reference: %v", label, err)
		}
		if q := snapshotReportSQL(ctx, c, name, opts[i]); q != "" {
			fast++
			got, err := runReport(ctx, c, name, q)
			if err != nil {
				t.Fatalf("%s fast: %v\n%s", label, err, q)
			}
			if render(got) != render(want) {
				t.Errorf("%s: fast path\n%s\nreference\n%s", label, render(got), render(want))
			}
			rows += len(got.Rows)
		}
		got, err := Report(ctx, c, name, opts[i])
		if err != nil {
			t.Fatal(err)
		}
		if render(got) != render(want) {
			t.Errorf("%s: Report\n%s\nreference\n%s", label, render(got), render(want))
		}
	}
	return fast, rows
}

// TestSnapshotReportsEqualReference: aging, DSO and CEI read from fresh
// snapshot builds give exactly the reference queries' answers on the
// report dataset; a fact landed after a build (dated before its day) makes
// the build stale, so Report falls back to the reference query (which
// sees the fact) until the day is rebuilt.
func TestSnapshotReportsEqualReference(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := InsertRows(ctx, c, reportDataset()); err != nil {
			t.Fatal(err)
		}
	}
	names, opts := snapshotCases()
	for i, name := range names {
		if q := snapshotReportSQL(ctx, c, name, opts[i]); q != "" {
			t.Fatalf("%s %+v took the fast path with no snapshot built", name, opts[i])
		}
	}
	buildSnapshots(t, c)
	buildSnapshots(t, c) // a rebuild replaces the day's build
	var n uint64
	if err := c.QueryRow(ctx, "SELECT uniqExact(as_of, build) FROM "+c.Table("receivables_snapshot")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(snapshotDays())) {
		t.Errorf("%d builds kept for %d days: old builds not dropped", n, len(snapshotDays()))
	}
	if fast, rows := compareFast(t, c); fast != len(names) || rows == 0 {
		t.Fatalf("%d of %d reports took the fast path (%d rows)", fast, len(names), rows)
	}
	if q := snapshotReportSQL(ctx, c, "cei", ReportOptions{AsOf: snapshotDays()[3], Days: 45}); q != "" {
		t.Errorf("CEI over 45 days took the fast path; the builds cover 30 and 60:\n%s", q)
	}

	// a late invoice of 2026-02-20 lands after the builds: every day from
	// 02-20 on is stale, earlier ones stay fresh
	late := EventRows(event.Event{ID: "late1", Time: time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC), Source: "test", Account: "A4",
		Body: &event.InvoiceIssued{InvoiceID: "I42", Currency: "EUR", Amount: event.MustAmount("70"),
			IssueDate: event.DateOf(time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)), DueDate: event.DateOf(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}},
		Source{Topic: "ar.events", Offset: 999}, time.Now().UTC())
	if err := InsertRows(ctx, c, late); err != nil {
		t.Fatal(err)
	}
	if err := MarkSnapshotsStale(ctx, c, time.Date(2026, 2, 20, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	st, err := SnapshotStates(ctx, c, snapshotDays()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range snapshotDays() {
		if want := d.Before(time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)); st[d].Fresh != want || st[d].Build == 0 {
			t.Errorf("%s: state %+v, want fresh %v", d.Format(time.DateOnly), st[d], want)
		}
	}
	fast, _ := compareFast(t, c) // Report (stale: reference) must see the late invoice
	if fast == 0 || fast == len(names) {
		t.Errorf("%d of %d reports took the fast path with the builds from 02-20 on stale", fast, len(names))
	}
	aging, err := Report(ctx, c, "aging", ReportOptions{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Segment: "postpaid"})
	if err != nil {
		t.Fatal(err)
	}
	if got := render(aging); !strings.Contains(got, "postpaid|EUR|3|300|70|150|0|300|0|820") {
		t.Errorf("aging after the late invoice:\n%s", got)
	}
	buildSnapshots(t, c)
	if fast, _ := compareFast(t, c); fast != len(names) {
		t.Errorf("%d of %d reports took the fast path after the rebuild", fast, len(names))
	}
}
