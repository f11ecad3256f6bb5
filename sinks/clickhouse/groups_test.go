package chsink

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/testkit"
)

// TestSinkLandsGroupChangelog: group changelog records on the real stack
// (a top T with a mid M under it, a group U that then ends with a
// tombstone, an undecodable node, and an aborted transaction) land one
// group_exposure row per committed record; the bad node is dead-lettered,
// the aborted node never lands, and a second sink re-landing the same
// offsets (a re-delivery) adds no row under FINAL. as_of is the writer's
// clock (the nodes' At, in March), not the records' Kafka timestamps (the
// producer's wall clock): a tombstone's is its partition's clock before it,
// here U's last node, also when the sink reads it after a restart (from
// ClickHouse: nothing of the partition seen since).
func TestSinkLandsGroupChangelog(t *testing.T) {
	h := newHarness(t)
	topic := h.kcfg.Topics.GroupChangelog
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	today := event.DateOf(at)
	eur := func(exp int64, due map[event.Date]int64) map[event.Currency]*group.Figures {
		return map[event.Currency]*group.Figures{"EUR": {Exposure: exp, ExpectedLoss: exp / 10, Due: due}}
	}
	mTot := group.Totals{Accounts: 1, Depth: 1, Currencies: eur(4_000_000, map[event.Date]int64{today - 45: 4_000_000})}
	tTot := group.Totals{Accounts: 3, Suspended: 1, MaxPD: 0.2, Depth: 2,
		Currencies: eur(10_000_000, map[event.Date]int64{today - 45: 4_000_000, today - 10: 3_000_000, today + 5: 3_000_000})}
	nodes := []struct {
		id string
		n  *group.Node
	}{
		{"M", &group.Node{Parent: "T", Forwarded: "T", Children: map[string]group.Child{"a:M1": {Version: 1, Totals: mTot}}, Totals: mTot, Version: 3}},
		{"T", &group.Node{Children: map[string]group.Child{"a:T1": {Version: 2, Totals: tTot}, "g:M": {Version: 3, Totals: mTot}}, Totals: tTot, Version: 4}},
		{"U", &group.Node{Children: map[string]group.Child{"a:U1": {Version: 5, Totals: mTot}}, Totals: mTot, Version: 5}},
	}
	var recs []*kgo.Record
	for i, x := range nodes {
		// the record's own timestamp is the producer's (wall) clock
		x.n.At = at.Add(time.Duration(i) * time.Minute).UnixMilli()
		b, err := x.n.Encode()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(x.id), Value: b})
	}
	recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("BAD"), Value: []byte("not a node"), Timestamp: at})
	h.produceTx(recs, false)
	ghost, _ := (&group.Node{Children: map[string]group.Child{"a:G1": {Version: 9, Totals: mTot}}, Totals: mTot, At: at.UnixMilli()}).Encode()
	h.produceTx([]*kgo.Record{{Topic: topic, Key: []byte("GHOST"), Value: ghost}}, true)

	stop := h.start()
	h.waitFor(map[string]uint64{"group_exposure": 3, "dead_letters": 1}, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// U ends while no sink runs: the restarted sink (same group) reads the
	// tombstone first of its partition
	h.produceTx([]*kgo.Record{{Topic: topic, Key: []byte("U")}}, false)
	stop = h.start()
	h.waitFor(map[string]uint64{"group_exposure": 4, "dead_letters": 1}, 30*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	q := "SELECT group_id, ended, toString(as_of), accounts, not_active, level, parent, arrayStringConcat(arrayMap(x -> toString(toInt64(x)), exposure), ','), " +
		"arrayStringConcat(arrayMap(x -> toString(toInt64(x)), overdue), ','), worst_dpd FROM " + h.conn.Table("group_exposure") + " FINAL ORDER BY as_of, ended, group_id"
	rows, err := h.conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, asOf, parent, exp, ovd string
		var ended, level uint8
		var accts, notActive int64
		var worst int32
		if err := rows.Scan(&id, &ended, &asOf, &accts, &notActive, &level, &parent, &exp, &ovd, &worst); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, " ", ended, " ", asOf, " ", accts, "/", notActive, " L", level, " ^", parent, " ", exp, " ", ovd, " ", worst))
	}
	rows.Close()
	// overdue as of the record's day: M and U 400 (45 days); T 400 + 300
	// (the 300 due in 5 days is not), worst 45 days
	want := strings.Join([]string{
		"M 0 2026-03-10 12:00:00 1/0 L1 ^T 400 400 45",
		"T 0 2026-03-10 12:01:00 3/1 L2 ^ 1000 700 45",
		"U 0 2026-03-10 12:02:00 1/0 L1 ^ 400 400 45",
		"U 1 2026-03-10 12:02:00 0/0 L0 ^   0",
	}, "\n")
	if strings.Join(got, "\n") != want {
		t.Errorf("group_exposure rows:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}

	// A re-delivery: another sink group lands the same offsets again. Its
	// rows are told from the first landing's by ingested_at (a second
	// later): the raw count of both cannot be awaited, since a background
	// merge may collapse a duplicate pair at any time, keeping the later.
	first := time.Now().UTC().Truncate(time.Second)
	time.Sleep(time.Until(first.Add(1100 * time.Millisecond)))
	h.cfg.GroupID = "sink-test-" + testkit.ID()
	stop = h.start()
	deadline := time.Now().Add(30 * time.Second)
	again := "SELECT count() FROM " + h.conn.Table("group_exposure") + " WHERE ingested_at > toDateTime('" + first.Format("2006-01-02 15:04:05") + "', 'UTC')"
	for {
		var n uint64
		if err := h.conn.QueryRow(context.Background(), again).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 4 {
			if final, _ := h.counts(); final["group_exposure"] != 4 {
				t.Errorf("after a re-delivery group_exposure has %d rows under FINAL, want 4", final["group_exposure"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("re-delivery: %d group_exposure rows landed again, want 4", n)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
