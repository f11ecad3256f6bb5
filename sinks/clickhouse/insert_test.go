package chsink

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
)

// TestInsertRejectsOnlyBadRows: a row the client cannot encode (a time
// DateTime cannot hold) is returned as rejected; the others are inserted.
func TestInsertRejectsOnlyBadRows(t *testing.T) {
	in, conn := testInserter(t, "arrears_test")
	ctx := context.Background()
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
