package analytics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/tlsconf"
)

// TestSecureUsers runs against the secured ClickHouse (TLS only, the users
// of deploy/local/clickhouse-secure/users.xml.in): migrate creates the
// schema, the sink user inserts over TLS but cannot DROP, TRUNCATE, CREATE
// or RENAME, the serve user selects but cannot insert or drop; each refusal
// names clickhouse and the cause and never holds the password.
func TestSecureUsers(t *testing.T) {
	db := testkit.SecureClickHouse(t).Database
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sinkCfg := testkit.SecureClickHouseConfig(t, "sink")
	sinkCfg.Database = db
	sink, err := analytics.Open(ctx, sinkCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dl := &event.DeadLetter{Reason: "r", ErrorClass: "decode", Code: "X", Topic: "ar.events", Partition: 1, Offset: 7,
		Key: []byte("k"), Value: []byte("v"), ValueSize: 1, ValueSHA256: []byte{1}, Time: time.Unix(1_700_000_000, 0)}
	row := analytics.DeadLetterRow(dl, analytics.Source{Topic: "ar.dlq", Partition: 0, Offset: 1}, time.Now())
	if err := analytics.InsertRows(ctx, sink, []analytics.Row{row}); err != nil {
		t.Fatalf("sink user insert over TLS: %v", err)
	}
	table := sink.Table("dead_letters")
	for _, q := range []string{"DROP TABLE " + table, "TRUNCATE TABLE " + table, "CREATE TABLE " + sink.Table("x") + " (a UInt8) ENGINE = Memory",
		"RENAME TABLE " + table + " TO " + sink.Table("gone"), "DROP DATABASE " + sink.Database} {
		checkDenied(t, "sink", q, sink.Exec(ctx, q), sinkCfg.Password)
	}

	mtls := sinkCfg
	mtls.TLS.CertFile, mtls.TLS.KeyFile = testkit.SecureClientCert()
	if c, err := analytics.Open(ctx, mtls); err != nil {
		t.Errorf("sink user with a client certificate (mutual TLS): %v", err)
	} else {
		c.Close()
	}

	serveCfg := testkit.SecureClickHouseConfig(t, "serve")
	serveCfg.Database = db
	serve, err := analytics.Open(ctx, serveCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	var n uint64
	if err := serve.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil || n != 1 {
		t.Fatalf("serve user select: %d rows, %v; want the sink's 1", n, err)
	}
	checkDenied(t, "serve", "insert", analytics.InsertRows(ctx, serve, []analytics.Row{row}), serveCfg.Password)
	checkDenied(t, "serve", "DROP TABLE", serve.Exec(ctx, "DROP TABLE "+table), serveCfg.Password)
	// readonly holds even when the client sends readonly=0 with the query
	rw := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"readonly": 0}))
	checkDenied(t, "serve", "DROP TABLE with readonly=0", serve.Exec(rw, "DROP TABLE "+table), serveCfg.Password)
	if err := serve.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the refusals: %d rows, %v; want 1", n, err)
	}
}

// TestSecureReportsAsServe: every report runs as the read-only serve user
// (readonly=2) over TLS.
func TestSecureReportsAsServe(t *testing.T) {
	cfg := testkit.SecureClickHouseConfig(t, "serve")
	cfg.Database = testkit.SecureClickHouse(t).Database
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serve, err := analytics.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	for _, r := range analytics.Reports() {
		if _, err := analytics.Report(ctx, serve, r.Name, analytics.ReportOptions{AsOf: time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), Account: "A-1"}); err != nil {
			t.Errorf("report %s as serve: %v", r.Name, err)
		}
	}
}

func checkDenied(t *testing.T, user, what string, err error, password string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s user: %s succeeded", user, what)
	case !errors.Is(analytics.Cause(err), analytics.ErrNotPermitted):
		t.Errorf("%s user: %s: err = %v, want ErrNotPermitted", user, what, err)
	case !strings.Contains(strings.ToLower(err.Error()), "clickhouse") && !strings.Contains(err.Error(), "DB::Exception"):
		t.Errorf("%s user: %s: err = %v does not name clickhouse", user, what, err)
	case strings.Contains(err.Error(), password):
		t.Errorf("%s user: %s: the error holds the password", user, what)
	}
}

// TestSecureRefusals: an untrusted certificate, a wrong password, the
// disabled default user and a plaintext client fail Open at once (not by
// the deadline) naming clickhouse and the cause.
func TestSecureRefusals(t *testing.T) {
	good := testkit.SecureClickHouseConfig(t, "sink")
	for _, c := range []struct {
		name  string
		edit  func(*analytics.Config)
		cause error
		want  string
	}{
		{"untrusted certificate", func(c *analytics.Config) { c.TLS = tlsconf.Config{Enabled: true} }, analytics.ErrTLS, "certificate"},
		{"wrong server name", func(c *analytics.Config) { c.TLS.ServerName = "clickhouse.example" }, analytics.ErrTLS, "clickhouse.example"},
		{"wrong password", func(c *analytics.Config) { c.Password = "not-the-password" }, analytics.ErrAuth, "sink"},
		{"default user", func(c *analytics.Config) { c.Username, c.Password = "default", "" }, analytics.ErrAuth, "default"},
		{"no password", func(c *analytics.Config) { c.Password = "" }, analytics.ErrAuth, "sink"},
		{"plaintext client", func(c *analytics.Config) { c.TLS = tlsconf.Config{}; c.DialTimeout = 3 * time.Second }, nil, "clickhouse"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, err := analytics.Open(ctx, cfg)
			if err == nil {
				conn.Close()
				t.Fatal("Open succeeded")
			}
			if ctx.Err() != nil {
				t.Fatalf("failed by the deadline, not at once: %v", err)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Errorf("err = %v, want cause %v", err, c.cause)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "clickhouse ") || !strings.Contains(msg, c.want) || strings.Contains(msg, good.Password) {
				t.Errorf("err = %v, want it to start with clickhouse, name %q and not hold the password", err, c.want)
			}
		})
	}
}

// TestConfigRedacted: fmt and slog of a Config never print the password.
func TestConfigRedacted(t *testing.T) {
	c := analytics.Defaults()
	c.Username, c.Password = "sink", "pa55-word"
	testkit.CheckRedacted(t, c, c.Password, c.Username)
}
