package analytics

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one embedded migrations/NNNN_name.sql file.
type Migration struct {
	Version  uint32
	Name     string
	Checksum string // sha256 of the file, hex
	SQL      string // with the {db} placeholder
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations lists the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read embedded migrations: %w", err)
	}
	var ms []Migration
	seen := map[uint32]string{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", e.Name())
		}
		v, _ := strconv.ParseUint(m[1], 10, 32)
		if other, dup := seen[uint32(v)]; dup {
			return nil, fmt.Errorf("migration version %d used by %s and %s", v, other, e.Name())
		}
		seen[uint32(v)] = e.Name()
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: uint32(v), Name: m[2], Checksum: hex.EncodeToString(sum[:]), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// Statements splits the migration into single statements (ClickHouse's
// native protocol runs one per query) with {db} replaced by db. Comments
// run from "--" to the end of the line; the SQL has no "--" or ";" inside
// string literals.
func (m Migration) Statements(db string) []string {
	var b strings.Builder
	for _, line := range strings.Split(m.SQL, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, s := range strings.Split(b.String(), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, strings.ReplaceAll(s, "{db}", db))
		}
	}
	return out
}

// AppliedMigration is a row of schema_migrations.
type AppliedMigration struct {
	Version   uint32
	Name      string
	Checksum  string
	AppliedAt time.Time
}

// Migrate creates the database and schema_migrations if needed and applies,
// in order, every embedded migration not recorded there. It is idempotent:
// a second run changes nothing. Statements use IF NOT EXISTS (ADD COLUMN:
// an existing column counts as added), so a run interrupted half-way
// through a migration completes it the next time. An
// applied migration whose text changed is ErrMigrationChanged.
func Migrate(ctx context.Context, c *Conn) error {
	ms, err := Migrations()
	if err != nil {
		return err
	}
	boot := []string{
		"CREATE DATABASE IF NOT EXISTS " + c.Database,
		"CREATE TABLE IF NOT EXISTS " + c.Table("schema_migrations") + ` (
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
	}
	for _, q := range boot {
		if err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("migrate: bootstrap %s: %w", c.Database, err)
		}
	}
	applied, err := Applied(ctx, c)
	if err != nil {
		return err
	}
	done := map[uint32]AppliedMigration{}
	for _, a := range applied {
		done[a.Version] = a
	}
	for _, m := range ms {
		if a, ok := done[m.Version]; ok {
			if a.Checksum != m.Checksum {
				return fmt.Errorf("migrate: %04d_%s: %w (recorded %.12s, embedded %.12s)", m.Version, m.Name, ErrMigrationChanged, a.Checksum, m.Checksum)
			}
			continue
		}
		for i, q := range m.Statements(c.Database) {
			if err := c.Exec(ctx, q); err != nil && !columnExists(q, err) {
				return fmt.Errorf("migrate: %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := recordMigration(ctx, c, m); err != nil {
			return err
		}
	}
	return nil
}

var addColumn = regexp.MustCompile(`(?is)^ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN\s`)

// columnExists reports whether err is ClickHouse refusing ADD COLUMN
// statement q because the column exists: a re-run of an interrupted
// migration (18.16 has no ADD COLUMN IF NOT EXISTS).
func columnExists(q string, err error) bool {
	var ex *clickhouse.Exception
	return addColumn.MatchString(q) && errors.As(err, &ex) && ex.Code == 44 && strings.Contains(ex.Message, "already exists")
}

func recordMigration(ctx context.Context, c *Conn, m Migration) error {
	b, err := c.PrepareBatch(ctx, "INSERT INTO "+c.Table("schema_migrations")+" (version, name, checksum, applied_at)")
	if err != nil {
		return fmt.Errorf("migrate: record %04d: %w", m.Version, err)
	}
	if err := b.Append(m.Version, m.Name, m.Checksum, time.Now().UTC()); err != nil {
		_ = b.Abort()
		return fmt.Errorf("migrate: record %04d: %w", m.Version, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("migrate: record %04d: %w", m.Version, err)
	}
	return nil
}

// Applied lists the migrations recorded in schema_migrations, by version.
func Applied(ctx context.Context, c *Conn) ([]AppliedMigration, error) {
	rows, err := c.Query(ctx, "SELECT version, argMax(name, applied_at), argMax(checksum, applied_at), max(applied_at) FROM "+
		c.Table("schema_migrations")+" GROUP BY version ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []AppliedMigration
	for rows.Next() {
		var a AppliedMigration
		if err := rows.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return out, nil
}
