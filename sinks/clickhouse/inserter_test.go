package chsink

import (
	"log/slog"
	"testing"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/testkit"
)

// testInserter is the sink's inserter on a scratch, migrated database.
func testInserter(t testing.TB, prefix string) (*inserter, *analytics.Conn) {
	t.Helper()
	cfg := Defaults()
	var conn *analytics.Conn
	conn, cfg.ClickHouse = testkit.ClickHouse(t, prefix)
	return &inserter{conn: conn, cfg: cfg, m: NewMetrics(nil), log: slog.New(slog.DiscardHandler)}, conn
}
