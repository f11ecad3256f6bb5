package analytics

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Retention is the root config's `retention` section: how long ClickHouse
// keeps history (`arrears retention apply`).
type Retention struct {
	// Months of history kept (default 24, in [1, 1200]): `retention apply`
	// drops every month partition of the history tables older than the
	// first day of the month Months months before the current one (UTC),
	// and on a server with table TTL (19.6+) sets each table's TTL to its
	// time column + Months months.
	Months int `yaml:"months"`
}

// DefaultRetentionMonths is retention.months's default: two years, what
// risk training and the year-on-year reports read.
const DefaultRetentionMonths = 24

// Validate names the bad field.
func (r Retention) Validate() error {
	if r.Months < 1 || r.Months > 1200 {
		return fmt.Errorf("retention.months: %d not in [1, 1200]", r.Months)
	}
	return nil
}

// RetentionTables are the history tables retention applies to: those the
// sink lands that its migration partitions by time, and the receivables
// snapshot. The erasure audit, the migrations' bookkeeping and tables of
// other features are not touched.
func RetentionTables() ([]string, error) {
	cols, err := timeColumns()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range SinkTables() {
		if cols[t.Name] != "" {
			out = append(out, t.Name)
		}
	}
	return append(out, "receivables_snapshot"), nil
}

// partitionRE finds a table's time partitioning in the migrations:
// PARTITION BY toYYYYMM(col) or a tuple starting with toYYYYMMDD(col).
var partitionRE = regexp.MustCompile(`(?s)CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)\s*\(.*?PARTITION BY \(?(toYYYYMM|toYYYYMMDD)\((\w+)\)`)

// timeColumns maps each table whose migration partitions it by time to its
// time column.
func timeColumns() (map[string]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range ms {
		for _, stmt := range m.Statements("{db}") {
			if g := partitionRE.FindStringSubmatch(stmt); g != nil {
				out[g[1]] = g[3]
			}
		}
	}
	return out, nil
}

// PartitionDrop is one partition retention drops.
type PartitionDrop struct {
	Table, PartitionID string
	Rows               uint64
}

// TTLChange is one table TTL retention sets.
type TTLChange struct{ Table, Expr string }

// RetentionPlan is what `retention apply` does (or, dry, would do).
type RetentionPlan struct {
	// Cutoff: partitions wholly before it are dropped.
	Cutoff time.Time
	// Version is the server's version; TTL is set from 19.6 on.
	Version string
	Drops   []PartitionDrop
	TTL     []TTLChange
}

// PlanRetention lists, for a retention of months months at now, the
// partitions older than the cutoff (from system.parts, on 18.16 and
// current) and, where the server supports it, the TTLs to set.
func PlanRetention(ctx context.Context, c *Conn, months int, now time.Time) (RetentionPlan, error) {
	now = now.UTC()
	p := RetentionPlan{Cutoff: time.Date(now.Year(), now.Month()-time.Month(months), 1, 0, 0, 0, 0, time.UTC)}
	if err := c.QueryRow(ctx, "SELECT version()").Scan(&p.Version); err != nil {
		return p, fmt.Errorf("server version: %w", err)
	}
	cols, err := timeColumns()
	if err != nil {
		return p, err
	}
	tables, err := RetentionTables()
	if err != nil {
		return p, err
	}
	rows, err := c.Query(ctx, partitionsSQL(c.Database, tables))
	if err != nil {
		return p, fmt.Errorf("list partitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d PartitionDrop
		if err := rows.Scan(&d.Table, &d.PartitionID, &d.Rows); err != nil {
			return p, fmt.Errorf("list partitions: %w", err)
		}
		if before(d.PartitionID, p.Cutoff) {
			p.Drops = append(p.Drops, d)
		}
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("list partitions: %w", err)
	}
	if SupportsTTL(p.Version) {
		for _, t := range tables {
			if col, ok := cols[t]; ok {
				p.TTL = append(p.TTL, TTLChange{Table: t, Expr: fmt.Sprintf("%s + toIntervalMonth(%d)", col, months)})
			}
		}
	}
	return p, nil
}

// partitionsSQL lists the active partitions of tables with their rows.
func partitionsSQL(db string, tables []string) string {
	return "SELECT table, partition_id, sum(rows) FROM system.parts WHERE database = " + quote(db) +
		" AND active AND table IN " + quoteList(tables) + " GROUP BY table, partition_id ORDER BY table, partition_id"
}

// before reports whether a time partition's id (YYYYMM, or YYYYMMDD
// followed by "-" and the rest of a tuple) lies wholly before cutoff, the
// first day of a month. Other ids ("all": no partitioning) never do.
func before(id string, cutoff time.Time) bool {
	head, _, _ := strings.Cut(id, "-")
	n, err := strconv.Atoi(head)
	if err != nil {
		return false
	}
	switch len(head) {
	case 6:
		return n < cutoff.Year()*100+int(cutoff.Month())
	case 8:
		return n < (cutoff.Year()*100+int(cutoff.Month()))*100+1
	}
	return false
}

// SupportsTTL reports whether a server version ("18.16.1", "24.8.4.13")
// has table TTL (ClickHouse 19.6 and later).
func SupportsTTL(version string) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return major > 19 || major == 19 && minor >= 6
}

// Statements are the plan's ALTERs: the TTLs first, then the drops.
func (p RetentionPlan) Statements(db string) []string {
	var out []string
	for _, t := range p.TTL {
		out = append(out, "ALTER TABLE "+db+"."+t.Table+" MODIFY TTL "+t.Expr)
	}
	for _, d := range p.Drops {
		out = append(out, "ALTER TABLE "+db+"."+d.Table+" DROP PARTITION ID "+quote(d.PartitionID))
	}
	return out
}

// ApplyRetention runs the plan's statements in order; a partition dropped
// meanwhile (a repeat) is no error, so apply is idempotent.
func ApplyRetention(ctx context.Context, c *Conn, p RetentionPlan) error {
	for _, q := range p.Statements(c.Database) {
		if err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("retention: %s: %w", q, err)
		}
	}
	return nil
}

// RetentionSummary is a one-line-per-table account of the plan's drops.
func (p RetentionPlan) RetentionSummary() []string {
	by := map[string][2]uint64{}
	for _, d := range p.Drops {
		v := by[d.Table]
		v[0]++
		v[1] += d.Rows
		by[d.Table] = v
	}
	var out []string
	for t, v := range by {
		out = append(out, fmt.Sprintf("%s: %d partitions, %d rows", t, v[0], v[1]))
	}
	slices.Sort(out)
	return out
}
