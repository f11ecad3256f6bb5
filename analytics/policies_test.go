package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// TestPolicyVersionsReport: the policies rows of two records (the second
// repeating the first's version) collapse to one row per version, and the
// report marks, at the end of the as-of date, the latest effective version
// of each policy active, the earlier superseded and a later one scheduled,
// with the actions decided under each.
func TestPolicyVersionsReport(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	v1 := policy.Record{Name: "p", Version: "aaaaaaaaaaaa", EffectiveFrom: day.Add(-48 * time.Hour), AppliedAt: day.Add(-50 * time.Hour), YAML: []byte("name: p\n")}
	v2 := policy.Record{Name: "p", Version: "bbbbbbbbbbbb", EffectiveFrom: day.Add(6*time.Hour + 1), AppliedAt: day, YAML: []byte("name: p\n"),
		Previous: []policy.Record{v1}}
	v3 := policy.Record{Name: "p", Version: "cccccccccccc", EffectiveFrom: day.Add(48 * time.Hour), AppliedAt: day, YAML: []byte("name: p\n"),
		Previous: []policy.Record{v1, v2}}
	now := time.Now()
	var rows []Row
	for _, r := range []policy.Record{v1, v2, v3} {
		rows = append(rows, PolicyRows(r, now)...)
	}
	for i, v := range []string{"aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"} {
		rows = append(rows, ActionRow(&event.DunningAction{ActionID: fmt.Sprint("A", i), Account: "ACC1", Time: day.Add(time.Duration(i) * time.Hour),
			PolicyName: "p", PolicyVersion: v, Type: event.ActionNotify}, Source{}, now))
	}
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}
	tb, err := Report(ctx, c, "policy_versions", ReportOptions{AsOf: day})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tb.Rows {
		got = append(got, fmt.Sprint(r[1], " ", r[4], " ", r[5]))
	}
	want := "[aaaaaaaaaaaa superseded 2 bbbbbbbbbbbb active 1 cccccccccccc scheduled 0]"
	if fmt.Sprint(got) != want {
		t.Errorf("policy_versions %v, want %s (columns %v)", got, want, tb.Columns)
	}
}
