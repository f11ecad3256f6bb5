package analytics

import (
	"context"
	"strings"
	"testing"
)

func TestMigrationsParse(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 || ms[0].Version != 1 {
		t.Fatalf("migrations = %+v", ms)
	}
	for _, m := range ms {
		for _, s := range m.Statements("x") {
			if strings.Contains(s, "{db}") || strings.Contains(s, "--") {
				t.Errorf("%04d: statement not rendered: %q", m.Version, s)
			}
		}
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	first, err := Applied(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	if len(first) != len(ms) {
		t.Fatalf("applied %d migrations, want %d", len(first), len(ms))
	}
	tables := func() string {
		var s string
		if err := c.QueryRow(ctx, "SELECT arrayStringConcat(groupArray(name), ',') FROM (SELECT name FROM system.tables WHERE database = ? ORDER BY name)", c.Database).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := tables()
	for _, want := range []string{"account_status", "accounts", "arrangements", "dead_letters", "disputes", "dunning_actions", "events", "gl_entries", "invoices", "payments", "risk_events", "schema_migrations"} {
		if !strings.Contains(","+before+",", ","+want+",") {
			t.Errorf("table %s missing (have %s)", want, before)
		}
	}
	if err := Migrate(ctx, c); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	second, err := Applied(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != len(first) {
		t.Fatalf("second run recorded migrations again: %d -> %d", len(first), len(second))
	}
	for i := range first {
		if !first[i].AppliedAt.Equal(second[i].AppliedAt) {
			t.Errorf("migration %d re-applied", first[i].Version)
		}
	}
	var rowsRecorded uint64
	if err := c.QueryRow(ctx, "SELECT count() FROM "+c.Table("schema_migrations")).Scan(&rowsRecorded); err != nil {
		t.Fatal(err)
	}
	if int(rowsRecorded) != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", rowsRecorded, len(ms))
	}
	if after := tables(); after != before {
		t.Errorf("tables changed: %s -> %s", before, after)
	}
	// A run interrupted after some statements does them again: every
	// statement of every migration must take being re-run.
	for _, m := range ms {
		for i, q := range m.Statements(c.Database) {
			if err := c.Exec(ctx, q); err != nil && !columnExists(q, err) {
				t.Errorf("%04d_%s statement %d re-run: %v", m.Version, m.Name, i+1, err)
			}
		}
	}
}
