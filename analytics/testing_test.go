package analytics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"
)

// testConn connects to the local ClickHouse with a fresh database
// arrears_test_<random> that is dropped when the test ends. Under -short
// it skips; otherwise a missing server fails the test.
func testConn(t testing.TB) *Conn {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse on 127.0.0.1:9000")
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	cfg := Defaults()
	cfg.Database = "arrears_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("ClickHouse is required (make up): %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+c.Database); err != nil {
			t.Errorf("drop %s: %v", c.Database, err)
		}
		_ = c.Close()
	})
	return c
}
