package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
)

// ClickHouse opens a scratch database named <prefix>_<id> on the local
// ClickHouse, runs every migration in it and drops it when the test ends.
// It returns the connection and the config that reaches the database.
func ClickHouse(t testing.TB, prefix string) (*analytics.Conn, analytics.Config) {
	t.Helper()
	Integration(t, "clickhouse")
	return ClickHouseAt(t, prefix, ClickHouseAddr)
}

// ClickHouseAt is ClickHouse on the server at addr (a private one).
func ClickHouseAt(t testing.TB, prefix, addr string) (*analytics.Conn, analytics.Config) {
	t.Helper()
	cfg := analytics.Defaults()
	cfg.Addrs = []string{addr}
	cfg.Database = prefix + "_" + ID()
	ctx := context.Background()
	conn, err := analytics.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("ClickHouse is required: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for ctx.Err() == nil { // a merge may hold the database a moment
			if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+cfg.Database); err == nil {
				break
			}
			time.Sleep(time.Second)
		}
		_ = conn.Close()
	})
	if err := analytics.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	return conn, cfg
}
