package chsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// TestSecureErasure: on the secured ClickHouse (18.16, TLS) the sink runs
// as user sink (allow_ddl=0: INSERT, no ALTER, no DROP).
//   - with sink.erase_username migrate, a status tombstone (an
//     AccountErased) removes the account's rows from every table holding
//     its id, leaves the other accounts' rows, and writes the audit row;
//   - with the sink user alone the next erasure stops the sink by itself
//     (no retry loop) with an error naming clickhouse, the permission and
//     sink.erase_username, and the account's rows stay;
//   - the sink user still cannot DROP a table;
//   - a wrong erase password stops the sink at start.
func TestSecureErasure(t *testing.T) {
	h := newSecureHarness(t)
	w := h.buildWorkload("se", 60)
	h.produceTx(w.records, false)

	const victim, other, spared = "se-A0000", "se-A0001", "se-A0002"
	h.cfg.EraseUsername, h.cfg.ErasePassword = "migrate", testkit.SecurePassword(t, "clickhouse", "migrate")
	stop := h.start()
	h.waitFor(w.want, 90*time.Second)
	before := accountCounts(t, h.conn, victim)
	if before["events"] == 0 || before["dunning_actions"] == 0 || before["risk_events"] == 0 ||
		before["gl_entries"] == 0 || before["dead_letters"] == 0 {
		t.Fatalf("the victim's rows before the erasure: %v (want some in every kind of table)", before)
	}
	otherBefore := accountCounts(t, h.conn, other)
	h.produceTx([]*kgo.Record{tombstone(h, victim, "erase-1")}, false)
	waitErasures(t, h.conn, 1, 90*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run with sink.erase_username: %v", err)
	}
	if got := accountCounts(t, h.conn, victim); len(got) != 0 {
		t.Errorf("rows of the erased account left: %v", got)
	}
	if got := accountCounts(t, h.conn, other); fmt.Sprint(got) != fmt.Sprint(otherBefore) {
		t.Errorf("another account's rows: %v, before the erasure %v", got, otherBefore)
	}

	// the sink user alone: fatal, not retried
	h.cfg.EraseUsername, h.cfg.ErasePassword = "", ""
	h.produceTx([]*kgo.Record{tombstone(h, spared, "erase-2")}, false)
	err := runUntilExit(t, h, 120*time.Second)
	for _, want := range []string{"clickhouse", analytics.ErrNotPermitted.Error(), `user "sink"`, "sink.erase_username"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Run as the sink user alone: %v, want an error naming %q", err, want)
		}
	}
	if !errors.Is(err, analytics.ErrNotPermitted) {
		t.Errorf("Run's error %v is not ErrNotPermitted", err)
	}
	for _, l := range h.logs.lines(t, slog.LevelWarn) {
		if strings.Contains(fmt.Sprint(l["msg"]), "erasure failed, retrying") {
			t.Errorf("a refused erasure was retried: %v", l)
		}
	}
	if got := accountCounts(t, h.conn, spared); got["events"] == 0 {
		t.Errorf("the refused erasure still removed rows: %v", got)
	}
	waitErasures(t, h.conn, 1, 0) // no audit row for the refused one

	// the sink user still cannot DROP
	sc, err := analytics.Open(context.Background(), h.cfg.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Exec(context.Background(), "DROP TABLE "+sc.Table("events")); !errors.Is(err, analytics.ErrNotPermitted) {
		t.Errorf("DROP TABLE as user sink: %v, want %v", err, analytics.ErrNotPermitted)
	}
	var n uint64
	if err := h.conn.QueryRow(context.Background(), "SELECT count() FROM system.tables WHERE database = ? AND name = 'events'",
		h.conn.Database).Scan(&n); err != nil || n != 1 {
		t.Errorf("events table after the sink's DROP: %d tables, %v", n, err)
	}

	// a wrong erase password stops the sink at start, naming the setting
	h.cfg.EraseUsername, h.cfg.ErasePassword = "migrate", "not-the-password"
	if s, err := New(context.Background(), h.cfg, h.kcfg, h.codec, prometheus.NewRegistry(), nil); err == nil {
		s.Close()
		t.Error("New with a wrong sink.erase_password succeeded")
	} else if !errors.Is(err, analytics.ErrAuth) || !strings.Contains(err.Error(), "sink.erase_username") ||
		strings.Contains(err.Error(), "not-the-password") {
		t.Errorf("New with a wrong sink.erase_password: %v, want %v naming sink.erase_username, without the password", err, analytics.ErrAuth)
	}
}

// newSecureHarness is newHarness with the sink as user sink of the secured
// ClickHouse, on a test database user migrate migrated (h.conn).
func newSecureHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.conn = testkit.SecureClickHouse(t)
	h.cfg.ClickHouse = testkit.SecureClickHouseConfig(t, "sink")
	h.cfg.ClickHouse.Database = h.conn.Database
	h.cfg.Migrate = false // the sink user cannot CREATE: arrears migrate runs as user migrate
	return h
}

// tombstone is the processor's erasure of acct on the status topic.
func tombstone(h *harness, acct, id string) *kgo.Record {
	return &kgo.Record{Topic: h.kcfg.Topics.Status, Key: []byte(acct), Headers: []kgo.RecordHeader{
		{Key: kafkax.HeaderErasureID, Value: []byte(id)},
		{Key: kafkax.HeaderErasureSource, Value: []byte("api:dpo")},
		{Key: kafkax.HeaderErasureReason, Value: []byte("GDPR_ART17")},
		{Key: kafkax.HeaderErasureTime, Value: strconv.AppendInt(nil, time.Now().UnixMilli(), 10)},
	}}
}

// accountCounts counts, per table of c's database with an account_id or
// record_key column, the rows holding acct (tables without any left out).
func accountCounts(t *testing.T, c *analytics.Conn, acct string) map[string]uint64 {
	t.Helper()
	ctx := context.Background()
	rows, err := c.Query(ctx, "SELECT table, name FROM system.columns WHERE database = ? AND name IN ('account_id', 'record_key')"+
		" AND table NOT LIKE '.inner%'", c.Database)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, name string }
	var cols []col
	for rows.Next() {
		var k col
		if err := rows.Scan(&k.table, &k.name); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, k)
	}
	_ = rows.Close()
	if len(cols) < 8 {
		t.Fatalf("only %d account columns found: %v", len(cols), cols)
	}
	out := map[string]uint64{}
	for _, k := range cols {
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM "+c.Table(k.table)+" WHERE "+k.name+" = ?", acct).Scan(&n); err != nil {
			t.Fatalf("count %s.%s: %v", k.table, k.name, err)
		}
		if n > 0 {
			out[k.table] += n
		}
	}
	return out
}

// waitErasures waits up to timeout until the erasures table holds want
// rows, and fails unless it holds exactly want then.
func waitErasures(t *testing.T, c *analytics.Conn, want uint64, timeout time.Duration) {
	t.Helper()
	var n uint64
	for deadline := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		if err := c.QueryRow(context.Background(), "SELECT count() FROM "+c.Table("erasures")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= want || time.Now().After(deadline) {
			break
		}
	}
	if n != want {
		t.Fatalf("erasures table: %d rows, want %d", n, want)
	}
}

// runUntilExit runs a sink of h's config until Run returns by itself
// (within timeout) and returns its error.
func runUntilExit(t *testing.T, h *harness, timeout time.Duration) error {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(h.logs, warnOnly{io.Discard}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := New(ctx, h.cfg, h.kcfg, h.codec, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx); s.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		cancel()
		<-done
		t.Fatalf("the sink was still running %s after an erasure its user may not run", timeout)
		return nil
	}
}
