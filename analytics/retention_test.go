package analytics

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRetentionPartitionCutoff(t *testing.T) {
	cut := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	for id, want := range map[string]bool{
		"202411": true, "202412": false, "202501": false, "199001": true,
		"20241130-5": true, "20241201-1": false, "all": false, "": false, "2024": false, "abcdef": false,
	} {
		if got := before(id, cut); got != want {
			t.Errorf("before(%q) = %v, want %v", id, got, want)
		}
	}
	for v, want := range map[string]bool{"18.16.1": false, "19.5.3.8": false, "19.6.1": true, "20.3": true,
		"26.9.1.1": true, "x": false, "": false} {
		if got := SupportsTTL(v); got != want {
			t.Errorf("SupportsTTL(%q) = %v, want %v", v, got, want)
		}
	}
	cols, err := timeColumns()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := RetentionTables()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tables, " ")
	for _, table := range []string{"events", "invoices", "dunning_actions", "account_status", "risk_features", "dead_letters", "event_records", "receivables_snapshot"} {
		if cols[table] == "" || !strings.Contains(" "+got+" ", " "+table+" ") {
			t.Errorf("%s: not a retention table (time column %q; tables %s)", table, cols[table], got)
		}
	}
	if r := (Retention{}); r.Validate() == nil || !strings.Contains(r.Validate().Error(), "retention.months") {
		t.Errorf("Validate of months 0: %v, want an error naming retention.months", r.Validate())
	}
}

// TestRetentionApply drops whole months before the cutoff on the server
// under test (18.16: partition drops, no TTL), leaves later months and the
// erasure audit alone, changes nothing when dry, and a repeat drops nothing.
func TestRetentionApply(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time {
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	insert(t, c, "events", "event_id event_time account_id", []any{"e1", d("2023-01-15 10:00:00"), "A"},
		[]any{"e2", d("2024-11-30 23:59:59"), "A"}, []any{"e3", d("2024-12-01 00:00:00"), "A"}, []any{"e4", d("2026-11-02 00:00:00"), "B"})
	insert(t, c, "dunning_actions", "action_id account_id action_time", []any{"a1", "A", d("2024-03-01 00:00:00")},
		[]any{"a2", "A", d("2025-03-01 00:00:00")})
	insert(t, c, "receivables_snapshot", "as_of build kind segment currency day units",
		[]any{d("2024-11-30 00:00:00"), uint64(7), uint8(1), "s", "EUR", d("2024-11-30 00:00:00"), int64(1)},
		[]any{d("2024-12-31 00:00:00"), uint64(8), uint8(1), "s", "EUR", d("2024-12-31 00:00:00"), int64(1)})
	insert(t, c, "erasures", "erasure_id erased_at", []any{"x", d("2020-01-01 00:00:00")})
	counts := func() string {
		var out []string
		for _, table := range []string{"events", "dunning_actions", "receivables_snapshot", "erasures"} {
			var n uint64
			if err := c.QueryRow(ctx, "SELECT count() FROM "+c.Table(table)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s=%d", table, n))
		}
		return strings.Join(out, " ")
	}
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	p, err := PlanRetention(ctx, c, 24, now)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Cutoff.Equal(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("cutoff %s, want 2024-12-01", p.Cutoff)
	}
	var drops []string
	for _, d := range p.Drops {
		drops = append(drops, fmt.Sprintf("%s/%s/%d", d.Table, d.PartitionID, d.Rows))
	}
	if got, want := strings.Join(drops, " "), "dunning_actions/202403/1 events/202301/1 events/202411/1 receivables_snapshot/20241130-7/1"; got != want {
		t.Errorf("drops %s, want %s", got, want)
	}
	if SupportsTTL(p.Version) != (len(p.TTL) > 0) {
		t.Errorf("server %s: %d TTLs planned", p.Version, len(p.TTL))
	}
	if got, want := counts(), "events=4 dunning_actions=2 receivables_snapshot=2 erasures=1"; got != want {
		t.Errorf("planning (a dry run) changed the tables: %s, want %s", got, want)
	}
	if err := ApplyRetention(ctx, c, p); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(), "events=2 dunning_actions=1 receivables_snapshot=1 erasures=1"; got != want {
		t.Errorf("after retention: %s, want %s", got, want)
	}
	again, err := PlanRetention(ctx, c, 24, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Drops) != 0 {
		t.Errorf("a repeat would drop %v", again.Drops)
	}
	if err := ApplyRetention(ctx, c, p); err != nil {
		t.Errorf("applying the same plan again: %v", err)
	}
}

// TestEraseAccounts deletes every row of the erased accounts (an id with a
// quote and a backslash among them) from every table on the server under
// test, blanks a child's parent_id naming one, leaves other accounts'
// rows, and a repeat finds nothing to do.
func TestEraseAccounts(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	// a materialized view's inner table (named ".inner.mv") holds ids too
	if err := c.Exec(ctx, "CREATE MATERIALIZED VIEW "+c.Database+".mv ENGINE = MergeTree ORDER BY account_id AS SELECT account_id, event_id FROM "+c.Table("events")); err != nil {
		t.Fatal(err)
	}
	hostile := `O'Brien\1`
	at := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	insert(t, c, "events", "event_id event_time account_id", []any{"e1", at, "A"}, []any{"e2", at.AddDate(0, 1, 0), hostile},
		[]any{"e3", at.AddDate(0, 2, 0), "B"})
	insert(t, c, "accounts", "account_id event_id event_time parent_id", []any{"A", "u1", at, ""}, []any{"B", "u2", at, "A"})
	insert(t, c, "dead_letters", "source_topic record_key reason dead_time", []any{"ar.events", "A", "x", at}, []any{"ar.events", "B", "y", at})
	insert(t, c, "event_records", "kafka_partition kafka_offset event_time account_id", []any{int32(0), int64(1), at, "A"},
		[]any{int32(0), int64(2), at, "B"})
	// group_exposure: A's own group history goes, G's parent naming A is blanked
	insert(t, c, "group_exposure", "group_id parent as_of kafka_partition kafka_offset", []any{"A", "", at, int32(0), int64(1)},
		[]any{"G", "A", at, int32(0), int64(2)}, []any{"B", "", at, int32(0), int64(3)})
	res, err := EraseAccounts(ctx, c, []string{"A", hostile}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res.Deleted), `map[A:map[.inner.mv:1 accounts:2 dead_letters:1 event_records:1 events:1 group_exposure:2] O'Brien\1:map[.inner.mv:1 events:1]]`; got != want {
		t.Errorf("deleted %s, want %s", got, want)
	}
	if got, want := res.FirstFact, at; !got.Equal(want) {
		t.Errorf("first fact %s, want %s", got, want)
	}
	var rows string
	q := "SELECT arrayStringConcat(arraySort(groupArray(x)), ',') FROM (SELECT account_id AS x FROM " + c.Table("events") +
		" UNION ALL SELECT concat(account_id, '/', parent_id) AS x FROM " + c.Table("accounts") +
		" UNION ALL SELECT record_key AS x FROM " + c.Table("dead_letters") + " UNION ALL SELECT account_id AS x FROM " + c.Table("event_records") +
		" UNION ALL SELECT concat(group_id, '/', parent) AS x FROM " + c.Table("group_exposure") + ")"
	if err := c.QueryRow(ctx, q).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != "B,B,B,B/,B/,G/" {
		t.Errorf("rows left %q, want B's and G's only, the parent_id and parent naming A blanked", rows)
	}
	again, err := EraseAccounts(ctx, c, []string{"A", hostile}, time.Minute)
	if err != nil || len(again.Deleted) != 0 || len(again.Tables) != 0 {
		t.Errorf("a repeat: %v, %v", again, err)
	}
	var mutations uint64
	if err := c.QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = "+quote(c.Database)).Scan(&mutations); err != nil {
		t.Fatal(err)
	}
	if mutations != 8 { // accounts and group_exposure: delete A's row and blank the parent naming A; events, dead_letters, event_records, .inner.mv
		t.Errorf("%d mutations, want 8 (and none from the repeat)", mutations)
	}
}

// insert writes rows of the named columns (space separated) into table.
func insert(t *testing.T, c *Conn, table, cols string, rows ...[]any) {
	t.Helper()
	if err := Insert(context.Background(), c, &TableSpec{Name: table, Columns: strings.Fields(cols)}, rows); err != nil {
		t.Fatalf("insert into %s: %v", table, err)
	}
}
