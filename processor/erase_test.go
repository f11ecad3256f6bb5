package processor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestErasure is the right to erasure end to end (issue 13): a book runs
// through the processor and the ClickHouse sink, and one account, in
// dunning by then, is erased half-way through its history (its producers
// send nothing for it afterwards). Afterwards no Redis key, no ClickHouse
// row in any table and no latest status record holds its id; every other
// account's Redis state and ClickHouse rows equal a run of the same book
// without the erasure; the audit row names the erasure without the id; a
// restore from the changelog into an empty store and a replay of the input
// from the start do not bring it back.
func TestErasure(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	ctx := context.Background()
	const victim = "ACC-3"
	h := newHarness(t, 3)
	h.env = policyEnv(t)
	book := h.workload(13, 600, 12, 0)
	erasedAt := t0.Add(60 * 24 * time.Hour)
	var withErasure, without []*kgo.Record
	erased := false
	for _, r := range book {
		if string(r.Key) == victim && eventTime(t, h, r).After(erasedAt) {
			continue // nothing for the account after its erasure
		}
		if !erased && len(r.Key) > 0 && eventTime(t, h, r).After(erasedAt) {
			erased = true
			withErasure = append(withErasure, h.binary(event.Event{ID: "erase-1", Time: erasedAt, Source: "api:dpo",
				Account: victim, Body: &event.AccountErased{Reason: "GDPR_ART17"}}))
		}
		withErasure = append(withErasure, r)
		without = append(without, r)
	}
	if !erased {
		t.Fatal("the book ends before the erasure")
	}

	// the reference: the same book without the erasure, own topics and database
	ref := *h
	ref.kcfg.Topics = kafkax.PrefixedTopics("x" + testkit.ID())
	createTopics(t, ref.kcfg)
	ref.group, ref.pref = h.group+"-ref", h.pref+"ref"
	t.Cleanup(func() { testkit.DeletePrefix(h.rdb, ref.pref) })
	ref.produceAll(fresh(without))
	refSink, stopRefSink := startSink(t, &ref)
	stopRef := ref.start("ref")
	ref.waitCaughtUp(ref.group, 120*time.Second)
	stopRef()
	waitSinkAll(t, refSink, &ref)
	if err := stopRefSink(); err != nil {
		t.Fatal(err)
	}
	want := dump(t, h.rdb, ref.pref, h.kcfg.Partitions)
	if _, ok := want[victim]; !ok {
		t.Fatalf("the reference run holds no state of %s", victim)
	}
	if n := accountRows(t, refSink.conn, victim); n == 0 {
		t.Fatalf("the reference run landed no row of %s", victim)
	}

	sink, stopSink := startSink(t, h)
	stop := h.start("a")
	h.produceAll(fresh(withErasure))
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	waitSinkAll(t, sink, h)
	if err := stopSink(); err != nil {
		t.Fatal(err)
	}

	got := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	delete(want, victim)
	compareStates(t, got, want)
	checkNoRedisTrace(t, h, h.pref, victim)
	checkStatusTombstone(t, h, victim)
	if n := accountRows(t, sink.conn, victim); n != 0 {
		t.Errorf("ClickHouse holds %d values naming %s after its erasure", n, victim)
	}
	compareOtherRows(t, sink.conn, refSink.conn, victim)
	before, after := actionsAround(t, h, victim, erasedAt)
	if _, refAfter := actionsAround(t, &ref, victim, erasedAt); refAfter == 0 {
		t.Errorf("%s: no action after %s even without the erasure: the book does not show dunning stop", victim, erasedAt)
	}
	if before == 0 || after != 0 {
		t.Errorf("%s: %d dunning actions before its erasure, %d after; want some before, none after", victim, before, after)
	}
	// the audit (accountRows found no id in it): which rows the deletion
	// found depends on how far the sink had read the other topics; rows
	// arriving after the tombstone are dropped instead
	var id, source, reason string
	var n uint64
	q := "SELECT erasure_id, source, reason, count() FROM " + sink.conn.Table("erasures") + " FINAL GROUP BY erasure_id, source, reason"
	if err := sink.conn.QueryRow(ctx, q).Scan(&id, &source, &reason, &n); err != nil {
		t.Fatalf("the erasure audit: %v", err)
	}
	if id != "erase-1" || source != "api:dpo" || reason != "GDPR_ART17" || n != 1 {
		t.Errorf("audit %d rows %q %q %q; want one, erase-1 by api:dpo, GDPR_ART17", n, id, source, reason)
	}

	// a restore from the changelog into an empty store
	restored := h.pref + "restored"
	t.Cleanup(func() { testkit.DeletePrefix(h.rdb, restored) })
	if _, err := processor.Restore(ctx, h.kcfg, redisstore.New(h.rdb, restored), h.codec, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err != nil {
		t.Fatal(err)
	}
	compareStates(t, dump(t, h.rdb, restored, h.kcfg.Partitions), want)
	checkNoRedisTrace(t, h, restored, victim)

	// a replay of the input from the start: another group, store and outputs
	replay := *h
	replay.kcfg.Topics = kafkax.PrefixedTopics("y" + testkit.ID())
	replay.kcfg.Topics.Events = h.kcfg.Topics.Events
	createTopics(t, replay.kcfg)
	replay.group, replay.pref = h.group+"-replay", h.pref+"replay"
	t.Cleanup(func() { testkit.DeletePrefix(h.rdb, replay.pref) })
	stopReplay := replay.start("replay")
	replay.waitCaughtUp(replay.group, 120*time.Second)
	stopReplay()
	compareStates(t, dump(t, h.rdb, replay.pref, h.kcfg.Partitions), want)
	checkNoRedisTrace(t, h, replay.pref, victim)
}

// eventTime decodes a book record's event time.
func eventTime(t *testing.T, h *harness, r *kgo.Record) time.Time {
	t.Helper()
	ev, err := h.codec.DecodeEvent(context.Background(), r.Value)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Time
}

// checkNoRedisTrace: no key, hash field, sorted-set member or value under
// prefix holds acct.
func checkNoRedisTrace(t *testing.T, h *harness, prefix, acct string) {
	t.Helper()
	ctx := context.Background()
	keys, err := h.rdb.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatalf("no keys under %s", prefix)
	}
	for _, k := range keys {
		if strings.Contains(k, acct) {
			t.Errorf("redis key %s names %s", k, acct)
		}
		var kv []string
		switch typ := h.rdb.Type(ctx, k).Val(); typ {
		case "hash":
			m, err := h.rdb.HGetAll(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for f, v := range m {
				kv = append(kv, f, v)
			}
		case "zset":
			kv, err = h.rdb.ZRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("redis key %s: unexpected type %s", k, typ)
		}
		for _, s := range kv {
			if strings.Contains(s, acct) {
				t.Errorf("redis %s holds %s", k, acct)
			}
		}
	}
}

// checkStatusTombstone: the account's latest status record is a tombstone
// carrying the erasure's headers, so compaction keeps nothing else of it.
func checkStatusTombstone(t *testing.T, h *harness, acct string) {
	t.Helper()
	var last *kgo.Record
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Status, 1<<30, 5*time.Second) {
		if string(r.Key) == acct && (last == nil || r.Offset > last.Offset) {
			last = r
		}
	}
	switch {
	case last == nil:
		t.Errorf("no status record of %s at all", acct)
	case last.Value != nil:
		t.Errorf("the latest status record of %s is live (%d bytes), want a tombstone", acct, len(last.Value))
	default:
		hdr := map[string]string{}
		for _, x := range last.Headers {
			hdr[x.Key] = string(x.Value)
		}
		if hdr[kafkax.HeaderErasureID] != "erase-1" || hdr[kafkax.HeaderErasureSource] != "api:dpo" {
			t.Errorf("tombstone headers %v, want the erasure's id and source", hdr)
		}
	}
}

// accountRows counts, over every table of c's database, the rows with a
// String or Array(String) column containing acct (the book's other ids
// do not contain it).
func accountRows(t *testing.T, c *analytics.Conn, acct string) uint64 {
	t.Helper()
	ctx := context.Background()
	rows, err := c.Query(ctx, "SELECT table, name, type FROM system.columns WHERE database = '"+c.Database+"'")
	if err != nil {
		t.Fatal(err)
	}
	conds := map[string][]string{}
	for rows.Next() {
		var table, name, typ string
		if err := rows.Scan(&table, &name, &typ); err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "String":
			conds[table] = append(conds[table], fmt.Sprintf("position(%s, '%s') > 0", name, acct))
		case "Array(String)":
			conds[table] = append(conds[table], fmt.Sprintf("arrayExists(x -> position(x, '%s') > 0, %s)", acct, name))
		}
	}
	_ = rows.Close()
	if len(conds) == 0 {
		t.Fatal("no tables with string columns")
	}
	var total uint64
	for table, cs := range conds {
		var n uint64
		if err := c.QueryRow(ctx, "SELECT count() FROM "+c.Table(table)+" WHERE "+strings.Join(cs, " OR ")).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if n > 0 {
			t.Logf("%s: %d rows name %s", table, n, acct)
			total += n
		}
	}
	return total
}

// compareOtherRows: every table with an account_id holds, per account other
// than victim, as many rows (FINAL) as the reference run's.
func compareOtherRows(t *testing.T, got, want *analytics.Conn, victim string) {
	t.Helper()
	count := func(c *analytics.Conn, table string) map[string]uint64 {
		rows, err := c.Query(context.Background(), "SELECT account_id, count() FROM "+c.Table(table)+" FINAL WHERE account_id != '"+victim+"' GROUP BY account_id")
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		defer rows.Close()
		out := map[string]uint64{}
		for rows.Next() {
			var a string
			var n uint64
			if err := rows.Scan(&a, &n); err != nil {
				t.Fatal(err)
			}
			out[a] = n
		}
		return out
	}
	compared := 0
	for _, table := range []string{"events", "invoices", "payments", "accounts", "dunning_actions", "risk_events",
		"account_status", "risk_features", "gl_entries", "event_records"} {
		g, w := count(got, table), count(want, table)
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: other accounts' rows %v, want the run without erasure's %v", table, g, w)
		}
		compared += len(w)
	}
	if compared == 0 {
		t.Error("the reference landed no rows of other accounts")
	}
}

// waitSinkAll waits until the sink's group committed every topic it reads
// (the tombstone is on the status topic, which waitSink does not watch).
func waitSinkAll(t *testing.T, s *sinkRun, h *harness) {
	t.Helper()
	adm := h.admin()
	tp := h.kcfg.Topics
	waitFor(t, "the sink to commit every topic", 120*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(ctx, tp.Accepted, tp.Actions, tp.Risk, tp.Status, tp.GL, tp.DLQ)
		if err != nil {
			return false
		}
		offs, err := adm.FetchOffsets(ctx, s.cfg.GroupID)
		if err != nil {
			return false
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := offs.Lookup(o.Topic, o.Partition)
			if o.Offset > 0 && (!ok || c.At < o.Offset-1) { // a commit marker may end the partition
				done = false
			}
		})
		return done
	})
}

// actionsAround counts acct's committed dunning actions up to and after at.
func actionsAround(t *testing.T, h *harness, acct string, at time.Time) (before, after int) {
	t.Helper()
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		if string(r.Key) != acct {
			continue
		}
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if a.Time.After(at) {
			after++
		} else {
			before++
		}
	}
	return before, after
}

// TestErasureThenNewAccount: an account erased and upserted again under
// the same id, in one batch and across batches, starts from nothing: its
// state holds only what came after the erasure, and its status records
// are the tombstone followed by the new account's.
func TestErasureThenNewAccount(t *testing.T) {
	h := newHarness(t, 1)
	h.env = policyEnv(t)
	up := func(id string, at time.Time) event.Event {
		return event.Event{ID: id, Time: at, Source: "crm", Account: "ACC-E", Body: &event.AccountUpserted{
			Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email}}}
	}
	inv := func(id string, at time.Time) event.Event {
		return event.Event{ID: id, Time: at, Source: "billing", Account: "ACC-E", Body: &event.InvoiceIssued{
			InvoiceID: id, Currency: "EUR", Amount: event.MustAmount("50"), IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14}}
	}
	erase := func(id string, at time.Time) event.Event {
		return event.Event{ID: id, Time: at, Source: "api:dpo", Account: "ACC-E", Body: &event.AccountErased{Reason: "GDPR_ART17"}}
	}
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	stop := h.start("a")
	defer stop()
	// one batch: history, erasure, a new account under the same id
	var recs []*kgo.Record
	for _, e := range []event.Event{up("u1", day(0)), inv("old-1", day(1)), inv("old-2", day(2)), erase("x1", day(3)), up("u2", day(4)), inv("new-1", day(5))} {
		recs = append(recs, h.binary(e))
	}
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 60*time.Second)
	st := h.state("ACC-E")
	if st == nil || st.Ledger.OpenItems() != 1 {
		t.Fatalf("after erasure and re-upsert in one batch: state %v, want the new account with its one invoice", st)
	}
	if _, ok := st.Ledger.Item("old-1"); ok {
		t.Error("the erased account's invoice old-1 is back")
	}
	// another batch: erased again, nothing after
	h.produceAll([]*kgo.Record{h.binary(erase("x2", day(6)))})
	h.waitCaughtUp(h.group, 60*time.Second)
	if st := h.state("ACC-E"); st != nil {
		t.Errorf("after the second erasure the store still holds the account (%d open items)", st.Ledger.OpenItems())
	}
	var seq []string
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Status, 1<<30, 5*time.Second) {
		if r.Value == nil {
			seq = append(seq, "tombstone")
		} else if len(seq) == 0 || seq[len(seq)-1] != "status" {
			seq = append(seq, "status")
		}
	}
	// the history's status comes first only if it was in an earlier batch
	// than its erasure: in the same one, the erasure drops it unwritten
	if got := strings.TrimPrefix(strings.Join(seq, " "), "status "); got != "tombstone status tombstone" {
		t.Errorf("status records %s, want [status] tombstone status tombstone", strings.Join(seq, " "))
	}
}
