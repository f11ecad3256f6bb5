package chsink

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// TestInsertRejectsOnlyBadRows: a row the client cannot encode (a time
// DateTime cannot hold) is returned as rejected; the others are inserted.
func TestInsertRejectsOnlyBadRows(t *testing.T) {
	testkit.Integration(t, "clickhouse")
	cfg := Defaults()
	cfg.ClickHouse.Addrs = []string{testkit.ClickHouseAddr}
	cfg.ClickHouse.Database = "arrears_test_" + testkit.ID()
	ctx := context.Background()
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		t.Fatalf("ClickHouse is required: %v", err)
	}
	defer func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+cfg.ClickHouse.Database)
		_ = conn.Close()
	}()
	if err := analytics.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	in := &inserter{conn: conn, cfg: cfg, m: NewMetrics(nil), log: slog.New(slog.DiscardHandler)}
	var rows []pendingRow
	for i, at := range []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)} {
		ev := event.Event{ID: string(rune('a' + i)), Time: at, Account: "A", Body: &event.AccountClosed{}}
		rows = append(rows, pendingRow{values: analytics.EventRows(ev, analytics.Source{}, time.Now())[0].Values})
	}
	rej, err := in.insert(ctx, analytics.EventsTable, rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 1 || rej[0].row.values[0] != "b" {
		t.Fatalf("rejected %+v, want only row b", rej)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+conn.Table("events")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d rows inserted, want 2", n)
	}
}
