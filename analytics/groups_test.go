package analytics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
)

// groupChange is one group-changelog record of the dataset: node n (nil:
// a tombstone) of group id written at at.
type groupChange struct {
	id string
	at time.Time
	n  *group.Node
}

func gday(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }

func figures(exposure, disputed, el int64, due map[time.Time]int64) *group.Figures {
	f := &group.Figures{Exposure: exposure * 10000, Disputed: disputed * 10000, ExpectedLoss: el * 10000, Due: map[event.Date]int64{}}
	for d, v := range due {
		f.Due[event.DateOf(d)] = v * 10000
	}
	return f
}

// groupDataset is a hierarchy's changelog: top T (mid M under it, M's leaf
// link L), top U (ended 03-20), top V (EUR only, smaller); T changes on
// 02-20 and 03-15, so a month before 03-31 (end of 02-28) it stood at its
// 02-20 figures.
func groupDataset() []groupChange {
	t1 := &group.Node{Children: map[string]group.Child{"a:T": {}, "g:M": {}}, Totals: group.Totals{Accounts: 3, Suspended: 1, MaxPD: 0.2, Depth: 2,
		Currencies: map[event.Currency]*group.Figures{"EUR": figures(1000, 100, 50, map[time.Time]int64{gday(1, 10): 300, gday(2, 25): 600})}}}
	t2 := &group.Node{Children: map[string]group.Child{"a:T": {}, "g:M": {}, "a:X": {}}, Totals: group.Totals{Accounts: 4, Suspended: 1, MaxPD: 0.3, Depth: 2,
		Currencies: map[event.Currency]*group.Figures{
			"EUR": figures(1500, 100, 80, map[time.Time]int64{gday(1, 10): 300, gday(2, 25): 600, gday(3, 5): 200, gday(4, 30): 300}),
			"USD": figures(700, 0, 35, map[time.Time]int64{gday(1, 1).AddDate(0, 0, -70): 400, gday(3, 30): 300})}}}
	m := &group.Node{Parent: "T", Children: map[string]group.Child{"a:M1": {}}, Totals: group.Totals{Accounts: 1, Depth: 1,
		Currencies: map[event.Currency]*group.Figures{"EUR": figures(400, 0, 4, map[time.Time]int64{gday(2, 25): 400})}}}
	u := &group.Node{Children: map[string]group.Child{"a:U1": {}}, Totals: group.Totals{Accounts: 1, Depth: 1,
		Currencies: map[event.Currency]*group.Figures{"EUR": figures(5000, 0, 0, map[time.Time]int64{gday(3, 1): 5000})}}}
	v := &group.Node{Children: map[string]group.Child{"a:V1": {}}, Totals: group.Totals{Accounts: 1, Depth: 1,
		Currencies: map[event.Currency]*group.Figures{"EUR": figures(90, 0, 9, map[time.Time]int64{gday(3, 29): 90})}}}
	return []groupChange{
		{"T", gday(2, 20), t1}, {"M", gday(2, 20), m}, {"L", gday(2, 20), &group.Node{Parent: "M"}},
		{"U", gday(3, 1), u}, {"V", gday(3, 2), v}, {"T", gday(3, 15), t2}, {"U", gday(3, 20), nil},
	}
}

// groupRows are the dataset's rows, as the sink lands them (offsets in
// record order on partition 0).
func groupRows(now time.Time) []analytics.Row {
	var rows []analytics.Row
	for i, c := range groupDataset() {
		rows = append(rows, analytics.GroupExposureRow(c.id, c.n, c.at, analytics.Source{Topic: "changelog", Offset: int64(i)}, now))
	}
	return rows
}

// wantGroupExposure recomputes the report from the dataset in Go: each
// group's latest node before the end of asOf, its figures per currency,
// overdue by bucket and worst days past due as of asOf (group.Totals), and
// the exposure a month before.
func wantGroupExposure(asOf time.Time, only string) [][]string {
	latest := func(end time.Time) map[string]*group.Node {
		out := map[string]*group.Node{}
		for _, c := range groupDataset() {
			if c.at.Before(end) {
				out[c.id] = c.n
			}
		}
		return out
	}
	end := asOf.AddDate(0, 0, 1)
	before := latest(time.Date(2026, asOf.Month()-1, asOf.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1))
	if asOf.Day() == 31 && asOf.Month() == 3 {
		before = latest(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) // the end of 28 February
	}
	today := event.DateOf(asOf)
	dec := func(units int64) string { return decimal.New(units, -4).String() }
	type line struct {
		cur string
		exp int64
		row []string
	}
	var lines []line
	for id, n := range latest(end) {
		if n == nil || n.Totals.Depth == 0 || (only == "" && n.Parent != "") || (only != "" && id != only) {
			continue
		}
		t := n.Totals
		for c, f := range t.Currencies {
			var b [5]int64
			worst := int64(0)
			for d, v := range f.Due {
				dpd := int64(today - d)
				switch {
				case dpd < 1:
					continue
				case dpd <= 30:
					b[0] += v
				case dpd <= 60:
					b[1] += v
				case dpd <= 90:
					b[2] += v
				case dpd <= 120:
					b[3] += v
				default:
					b[4] += v
				}
				worst = max(worst, dpd)
			}
			ovd := t.Overdue(c, today)
			share := 0.0
			if f.Exposure > 0 {
				share = float64(int64(float64(ovd)/float64(f.Exposure)*10000+0.5)) / 10000
			}
			var ago int64
			if bn := before[id]; bn != nil && bn.Totals.Currencies[c] != nil {
				ago = bn.Totals.Currencies[c].Exposure
			}
			lines = append(lines, line{string(c), f.Exposure, []string{id, string(c), fmt.Sprint(t.Accounts), fmt.Sprint(t.Suspended),
				dec(f.Exposure), dec(ovd), dec(b[0]), dec(b[1]), dec(b[2]), dec(b[3]), dec(b[4]), fmt.Sprint(share),
				dec(f.ExpectedLoss), fmt.Sprint(worst), dec(ago), dec(f.Exposure - ago)}})
		}
	}
	slices.SortFunc(lines, func(a, b line) int {
		if a.cur != b.cur {
			return map[bool]int{true: -1, false: 1}[a.cur < b.cur]
		}
		return int(b.exp - a.exp)
	})
	var out [][]string
	for _, l := range lines {
		out = append(out, l.row)
	}
	return out
}

// gotRows renders a report table as strings, money normalised.
func gotRows(tb *analytics.Table) [][]string {
	var out [][]string
	for _, r := range tb.Rows {
		var s []string
		for _, v := range r {
			x := fmt.Sprint(v)
			if n, ok := v.(json.Number); ok {
				x = decimal.RequireFromString(string(n)).String()
			}
			s = append(s, x)
		}
		out = append(out, s)
	}
	return out
}

// TestGroupExposureReport: the changelog of a hierarchy (landed twice, as
// a re-delivery would) gives, per top group and currency, the figures a Go
// recomputation from the nodes gives: exposure, overdue by bucket and worst
// days past due as of the date (not the record's), expected loss, share
// overdue and the change since the same day a month before; an ended group
// and a mid level are not listed, -group lists a mid; -top 1 keeps the
// largest per currency.
func TestGroupExposureReport(t *testing.T) {
	c := analytics.TestConn(t)
	ctx := context.Background()
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := analytics.InsertRows(ctx, c, groupRows(time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []analytics.ReportOptions{
		{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
		{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Group: "M"},
	} {
		tb, err := analytics.Report(ctx, c, "group_exposure", o)
		if err != nil {
			t.Fatal(err)
		}
		got, want := gotRows(tb), wantGroupExposure(o.AsOf, o.Group)
		if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("group_exposure %s group %q:\n got %v\nwant %v\n(columns %v)", o.AsOf.Format(time.DateOnly), o.Group, got, want, tb.Columns)
		}
	}
	tb, err := analytics.Report(ctx, c, "group_exposure", analytics.ReportOptions{AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	var tops []string
	for _, r := range tb.Rows {
		tops = append(tops, fmt.Sprint(r[0], " ", r[1]))
	}
	if fmt.Sprint(tops) != "[U EUR]" {
		t.Errorf("-top 1 on 03-10: %v, want [U EUR]", tops)
	}
}

// TestGroupExposureOnCurrentClickHouse: the migration and the report's
// queries (top groups on three dates, one group, -top 1) give the same
// rows on chDB (current ClickHouse) as on 18.16.
func TestGroupExposureOnCurrentClickHouse(t *testing.T) {
	py := chdbtest.Python(t)
	c := analytics.TestConn(t)
	ctx := context.Background()
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := analytics.InsertRows(ctx, c, groupRows(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	var queries []chdbtest.Query
	for _, o := range []analytics.ReportOptions{
		{AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}, {AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
		{AsOf: time.Date(2026, 2, 21, 0, 0, 0, 0, time.UTC)}, {AsOf: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Group: "M"},
		{AsOf: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Top: 1},
	} {
		sql, err := analytics.ReportSQL(c.Database, "group_exposure", o)
		if err != nil {
			t.Fatal(err)
		}
		queries = append(queries, chdbtest.Query{Name: fmt.Sprintf("group_exposure %s group %q top %d", o.AsOf.Format(time.DateOnly), o.Group, o.Top), SQL: sql})
	}
	queries = append(queries, chdbtest.Query{Name: "group_exposure rows",
		SQL: "SELECT * FROM " + c.Database + ".group_exposure FINAL ORDER BY group_id, kafka_offset"})
	if equal, _, _ := chdbtest.Compare(t, py, c.Database, queries); equal != len(queries) {
		t.Errorf("%d of %d queries equal", equal, len(queries))
	}
}
