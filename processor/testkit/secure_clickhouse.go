package testkit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
)

// SecureClickHouseAddr is the TLS native port of the secured ClickHouse of
// deploy/local/clickhouse-secure.sh (make clickhouse-secure-up).
var SecureClickHouseAddr = env("ARREARS_TEST_SECURE_CLICKHOUSE", "127.0.0.1:9440")

// secureSlots is how many test databases (arrears_t0 ...) the users'
// allow_databases of clickhouse-secure.sh list: allow_databases takes exact
// names, so tests take turns on them (one per test at a time, across test
// binaries).
const secureSlots = 8

// secureSlot locks one of the test databases for the rest of the test and
// returns its name.
func secureSlot(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		for i := range secureSlots {
			f, err := os.OpenFile(filepath.Join(SecureDir, fmt.Sprintf("clickhouse-t%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				t.Cleanup(func() { f.Close() })
				return fmt.Sprintf("arrears_t%d", i)
			}
			f.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("all %d test databases of the secured ClickHouse stayed busy", secureSlots)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// SecureClickHouseConfig is the config of user (admin, migrate, sink,
// serve) on the secured ClickHouse over TLS (database arrears; set Database
// to SecureClickHouse's), starting the server if it is down. Under -short it
// skips.
func SecureClickHouseConfig(t testing.TB, user string) analytics.Config {
	t.Helper()
	EnsureSecure(t, "clickhouse-secure.sh", "start")
	c := analytics.Defaults()
	c.Addrs = []string{SecureClickHouseAddr}
	c.Database = "arrears"
	c.Username, c.Password, c.TLS = user, SecurePassword(t, "clickhouse", user), SecureTLS()
	return c
}

// SecureClickHouse takes a test database of the secured ClickHouse for
// this test, migrates it as user migrate over TLS and drops it (as admin)
// when the test ends; it returns the migrate connection, whose Database the
// test's other users' configs take.
func SecureClickHouse(t testing.TB) *analytics.Conn {
	t.Helper()
	admin := SecureClickHouseConfig(t, "admin")
	admin.Database = secureSlot(t)
	ctx := context.Background()
	ac, err := analytics.Open(ctx, admin)
	if err != nil {
		t.Fatalf("secured ClickHouse: %v", err)
	}
	if err := ac.Exec(ctx, "DROP DATABASE IF EXISTS "+admin.Database); err != nil {
		t.Fatal(err)
	}
	// 18.16 forgets a dropped database's tables a moment later: a CREATE
	// TABLE IF NOT EXISTS in between would be skipped.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var n uint64
		err := ac.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ?", admin.Database).Scan(&n)
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("secured ClickHouse still lists %d tables of the dropped %s: %v", n, admin.Database, err)
		}
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
	mcfg := SecureClickHouseConfig(t, "migrate")
	mcfg.Database = admin.Database
	mc, err := analytics.Open(ctx, mcfg)
	if err != nil {
		t.Fatalf("secured ClickHouse as migrate: %v", err)
	}
	t.Cleanup(func() { _ = mc.Close() })
	if err := analytics.Migrate(ctx, mc); err != nil {
		t.Fatalf("migrate as user migrate: %v", err)
	}
	return mc
}
