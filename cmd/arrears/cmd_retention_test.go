package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/testkit"
)

// TestRetentionCommand: --dry-run prints the cutoff and each partition drop
// and changes nothing; without it the same partitions go.
func TestRetentionCommand(t *testing.T) {
	conn, _ := testkit.ClickHouse(t, "arrears_retention")
	ctx := context.Background()
	old := time.Date(2023, 1, 15, 10, 0, 0, 0, time.UTC)
	rows := [][]any{{"e1", old, "A"}, {"e2", old.AddDate(3, 10, 0), "A"}}
	if err := analytics.Insert(ctx, conn, &analytics.TableSpec{Name: "events", Columns: []string{"event_id", "event_time", "account_id"}}, rows); err != nil {
		t.Fatal(err)
	}
	count := func() uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+conn.Table("events")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	if err := retention(ctx, conn, 24, now, true, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"would drop history before 2024-12-01", "events: 1 partitions, 1 rows",
		"ALTER TABLE " + conn.Table("events") + " DROP PARTITION ID '202301'"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out.String())
		}
	}
	if n := count(); n != 2 {
		t.Errorf("a dry run left %d events, want 2", n)
	}
	out.Reset()
	if err := retention(ctx, conn, 24, now, false, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "done: 1 partitions dropped") {
		t.Errorf("output:\n%s", out.String())
	}
	if n := count(); n != 1 {
		t.Errorf("%d events after retention, want the 2026 one", n)
	}
	if err := retention(ctx, conn, 0, now, true, &out); err == nil {
		t.Error("retention of 0 months: no error")
	}
}
