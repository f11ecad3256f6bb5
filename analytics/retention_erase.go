package analytics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// ErasuresTable is the erasure audit (migration 0010): one row per
// carried-out erasure, without personal data.
var ErasuresTable = &TableSpec{"erasures", []string{"erasure_id", "erased_at", "source", "reason", "tables",
	"rows_deleted", "kafka_partition", "kafka_offset", "ingested_at"}}

// Erased is what EraseAccounts removed.
type Erased struct {
	// Tables that held rows of the accounts, sorted.
	Tables []string
	// Deleted counts, per account and table, the rows deleted (or, for a
	// parent_id column, blanked).
	Deleted map[string]map[string]uint64
	// FirstFact is the earliest event time of the accounts' events (zero:
	// none): the receivables snapshots from that day on included them.
	FirstFact time.Time
}

// ErrNotErased is rows of an erased account still found after the
// deletion's mutations finished.
var ErrNotErased = errors.New("rows of the erased account remain")

// eraseTarget is one column of one table holding account ids.
type eraseTarget struct {
	table, column string
	blank         bool // pseudonymise (set '') rather than delete the row
}

// eraseColumns are the columns holding an account id; true: the row is
// the account's (deleted), false: the row is another account's that names
// it (the column is blanked). group_exposure's group_id is the group's own account (its history
// goes) and its parent the parent group's account (blanked).
var eraseColumns = map[string]bool{"account_id": true, "record_key": true, "group_id": true, "parent_id": false, "parent": false}

// eraseTargets finds, in c's database, every MergeTree-family table's
// account columns (system.tables and system.columns, on 18.16 and current).
func eraseTargets(ctx context.Context, c *Conn) ([]eraseTarget, error) {
	engines := map[string]bool{}
	rows, err := c.Query(ctx, tablesSQL(c.Database))
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	for rows.Next() {
		var name, engine string
		if err := rows.Scan(&name, &engine); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		engines[name] = strings.HasSuffix(engine, "MergeTree")
	}
	_ = rows.Close()
	rows, err = c.Query(ctx, columnsSQL(c.Database))
	if err != nil {
		return nil, fmt.Errorf("list account columns: %w", err)
	}
	defer rows.Close()
	var out []eraseTarget
	for rows.Next() {
		var t eraseTarget
		if err := rows.Scan(&t.table, &t.column); err != nil {
			return nil, fmt.Errorf("list account columns: %w", err)
		}
		if engines[t.table] {
			t.blank = !eraseColumns[t.column]
			out = append(out, t)
		}
	}
	return out, rows.Err()
}

// EraseAccounts deletes every row holding one of accts from every table of
// c's database (and blanks parent_id naming them), waits up to wait for
// the mutations to finish and verifies that no row is left. A table
// without such rows gets no mutation, so calling it again is cheap and
// idempotent. ALTER TABLE ... DELETE and UPDATE run on ClickHouse 18.16
// and current releases; the user needs ALTER DELETE and ALTER UPDATE (on
// 18.16: a profile with allow_ddl=1).
func EraseAccounts(ctx context.Context, c *Conn, accts []string, wait time.Duration) (Erased, error) {
	res := Erased{Deleted: map[string]map[string]uint64{}}
	if len(accts) == 0 {
		return res, nil
	}
	targets, err := eraseTargets(ctx, c)
	if err != nil {
		return res, err
	}
	in := quoteList(accts)
	seen := map[string]bool{}
	var mutated []string
	for _, t := range targets {
		counts, err := countBy(ctx, c, t, in)
		if err != nil {
			return res, err
		}
		if t.column == "account_id" && t.table == "events" {
			if res.FirstFact, err = firstFact(ctx, c, in); err != nil {
				return res, err
			}
		}
		if len(counts) == 0 {
			continue
		}
		for a, n := range counts {
			if res.Deleted[a] == nil {
				res.Deleted[a] = map[string]uint64{}
			}
			res.Deleted[a][t.table] += n
		}
		if !seen[t.table] {
			seen[t.table] = true
			res.Tables = append(res.Tables, t.table)
		}
		if err := c.Exec(ctx, alterSQL(c.Database, t, in)); err != nil {
			return res, fmt.Errorf("erase from %s.%s: %w", t.table, t.column, err)
		}
		mutated = append(mutated, t.table)
	}
	sort.Strings(res.Tables)
	if err := waitMutations(ctx, c, mutated, wait); err != nil {
		return res, err
	}
	for _, t := range targets {
		counts, err := countBy(ctx, c, t, in)
		if err != nil {
			return res, err
		}
		if len(counts) > 0 {
			return res, fmt.Errorf("%s.%s: %w", t.table, t.column, ErrNotErased)
		}
	}
	return res, nil
}

// countBy counts t's rows per account of the IN list.
func countBy(ctx context.Context, c *Conn, t eraseTarget, in string) (map[string]uint64, error) {
	rows, err := c.Query(ctx, countSQL(c.Database, t, in))
	if err != nil {
		return nil, fmt.Errorf("count %s.%s: %w", t.table, t.column, err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var a string
		var n uint64
		if err := rows.Scan(&a, &n); err != nil {
			return nil, fmt.Errorf("count %s.%s: %w", t.table, t.column, err)
		}
		out[a] = n
	}
	return out, rows.Err()
}

// firstFact is the earliest event time of the accounts' events (zero: none).
func firstFact(ctx context.Context, c *Conn, in string) (time.Time, error) {
	var n uint64
	var at time.Time
	if err := c.QueryRow(ctx, firstFactSQL(c.Database, in)).Scan(&n, &at); err != nil {
		return time.Time{}, fmt.Errorf("first fact of the erased accounts: %w", err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return at.UTC(), nil
}

// waitMutations waits until system.mutations has no unfinished mutation of
// tables (ALTER DELETE and UPDATE are asynchronous on every release;
// 18.16 has no mutations_sync).
func waitMutations(ctx context.Context, c *Conn, tables []string, wait time.Duration) error {
	if len(tables) == 0 {
		return nil
	}
	deadline := time.Now().Add(wait)
	q := mutationsSQL(c.Database, tables)
	delay := 20 * time.Millisecond
	for {
		var n uint64
		if err := c.QueryRow(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("wait for the erasure's mutations: %w", err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("erasure: %d mutations of %v not done after %s", n, tables, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// quoteList renders ss as a parenthesised list of string literals.
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// The erasure's SQL, one builder per statement (ErasureSQL lists them for
// the check on current ClickHouse).
func tablesSQL(db string) string {
	return "SELECT name, engine FROM system.tables WHERE database = " + quote(db)
}

func columnsSQL(db string) string {
	return "SELECT table, name FROM system.columns WHERE database = " + quote(db) +
		" AND name IN (" + eraseColumnList() + ") ORDER BY table, name"
}

// eraseColumnList is eraseColumns' names, quoted and sorted, for IN (...).
func eraseColumnList() string {
	names := slices.Sorted(maps.Keys(eraseColumns))
	for i, n := range names {
		names[i] = quote(n)
	}
	return strings.Join(names, ", ")
}

func countSQL(db string, t eraseTarget, in string) string {
	return "SELECT " + t.column + ", count() FROM " + db + "." + ident(t.table) + " WHERE " + t.column + " IN " + in + " GROUP BY " + t.column
}

func alterSQL(db string, t eraseTarget, in string) string {
	if t.blank {
		return "ALTER TABLE " + db + "." + ident(t.table) + " UPDATE " + t.column + " = '' WHERE " + t.column + " IN " + in
	}
	return "ALTER TABLE " + db + "." + ident(t.table) + " DELETE WHERE " + t.column + " IN " + in
}

// ident quotes a table name found in system.tables (a materialized view's
// inner table is named ".inner.<view>").
func ident(name string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(name) + "`"
}

func firstFactSQL(db, in string) string {
	return "SELECT count(), min(event_time) FROM " + db + ".events WHERE account_id IN " + in
}

func mutationsSQL(db string, tables []string) string {
	return "SELECT count() FROM system.mutations WHERE database = " + quote(db) + " AND table IN " + quoteList(tables) + " AND is_done = 0"
}

// ErasureSQL is every statement EraseAccounts runs to erase accts from the
// events, accounts (parent_id) and dead_letters tables of db, in order.
func ErasureSQL(db string, accts []string) []string {
	in := quoteList(accts)
	out := []string{tablesSQL(db), columnsSQL(db), firstFactSQL(db, in)}
	tables := []string{"events", "accounts", "dead_letters"}
	for _, t := range []eraseTarget{{"events", "account_id", false}, {"accounts", "parent_id", true}, {"dead_letters", "record_key", false}} {
		out = append(out, countSQL(db, t, in), alterSQL(db, t, in))
	}
	return append(out, mutationsSQL(db, tables))
}

// RetentionSQL is every statement PlanRetention and ApplyRetention run for
// a plan dropping partition id of table and setting TTLs, in order.
func RetentionSQL(db string, p RetentionPlan) []string {
	tables, _ := RetentionTables()
	return append([]string{"SELECT version()", partitionsSQL(db, tables)}, p.Statements(db)...)
}
