package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
)

// SecureClickHouseAddr is the TLS native port of the secured ClickHouse of
// deploy/local/clickhouse-secure.sh (make clickhouse-secure-up), and
// SecureClickHouseDB the database of its allow_databases the tests use.
var (
	SecureClickHouseAddr = env("ARREARS_TEST_SECURE_CLICKHOUSE", "127.0.0.1:9440")
	SecureClickHouseDB   = env("ARREARS_TEST_SECURE_CLICKHOUSE_DB", "arrears_test")
)

// SecureClickHouseConfig is the config of user (admin, migrate, sink,
// serve) on the secured ClickHouse over TLS, starting the server if it is
// down. Under -short it skips.
func SecureClickHouseConfig(t testing.TB, user string) analytics.Config {
	t.Helper()
	EnsureSecure(t, "clickhouse-secure.sh", "start")
	c := analytics.Defaults()
	c.Addrs = []string{SecureClickHouseAddr}
	c.Database = SecureClickHouseDB
	c.Username, c.Password, c.TLS = user, SecurePassword(t, "clickhouse", user), SecureTLS()
	return c
}

// SecureClickHouse migrates SecureClickHouseDB as user migrate over TLS and
// drops it (as admin) when the test ends; it returns the migrate
// connection. Tests using it must not run in parallel with each other: the
// users' allow_databases is a fixed list.
func SecureClickHouse(t testing.TB) *analytics.Conn {
	t.Helper()
	admin := SecureClickHouseConfig(t, "admin")
	ctx := context.Background()
	ac, err := analytics.Open(ctx, admin)
	if err != nil {
		t.Fatalf("secured ClickHouse: %v", err)
	}
	if err := ac.Exec(ctx, "DROP DATABASE IF EXISTS "+admin.Database); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for ctx.Err() == nil {
			if err := ac.Exec(ctx, "DROP DATABASE IF EXISTS "+admin.Database); err == nil {
				break
			}
			time.Sleep(time.Second)
		}
		_ = ac.Close()
	})
	mc, err := analytics.Open(ctx, SecureClickHouseConfig(t, "migrate"))
	if err != nil {
		t.Fatalf("secured ClickHouse as migrate: %v", err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	if err := analytics.Migrate(ctx, mc); err != nil {
		t.Fatalf("migrate as user migrate: %v", err)
	}
	return mc
}
