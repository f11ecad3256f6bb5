package chsink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
)

// acceptedInvoice is an accepted-topic record of an InvoiceIssued at at.
func (h *harness) acceptedInvoice(acct, id string, at time.Time, amount event.Amount) *kgo.Record {
	h.t.Helper()
	d := event.DateOf(at)
	bs, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, event.Event{ID: "ev-" + id, Time: at, Source: "test", Account: acct,
		Body: &event.InvoiceIssued{InvoiceID: id, Currency: "EUR", Amount: amount, IssueDate: d, DueDate: d + 7}})
	if err != nil {
		h.t.Fatal(err)
	}
	return &kgo.Record{Topic: h.kcfg.Topics.Accepted, Key: []byte(acct), Value: bs, Headers: []kgo.RecordHeader{
		{Key: "src_topic", Value: []byte(h.kcfg.Topics.Events)}, {Key: "src_partition", Value: []byte("0")},
		{Key: "src_offset", Value: []byte(fmt.Sprint(h.nextSrc()))}}}
}

// TestSinkMaintainsSnapshot: once the landed facts pass a month end the
// sink builds that month end's receivables snapshot, and aging as of it
// takes the fast path with the reference answer; a late fact dated before
// it marks the build stale and the sink rebuilds it, the late fact
// included.
func TestSinkMaintainsSnapshot(t *testing.T) {
	h := newHarness(t)
	h.cfg.Snapshot = SnapshotConfig{Enabled: true, Grace: time.Hour, PeriodDays: []int{30}, CheckInterval: time.Second}
	w := h.buildWorkload("s1", 50) // facts of 2026-01-05
	recs := append(w.records, h.acceptedInvoice("s1-late", "feb1", time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC), 70000))
	w.want["invoices"]++
	w.want["events"]++
	w.want["event_records"]++
	h.produceTx(recs, false)
	stop := h.start()
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	h.waitFor(w.want, 90*time.Second)
	ctx := context.Background()
	jan := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	fresh := func(after uint64) uint64 {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			st, err := analytics.SnapshotStates(ctx, h.conn, jan)
			if err == nil && st[jan].Fresh && st[jan].Build > after {
				return st[jan].Build
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("no fresh snapshot of %s built after %d", jan.Format(time.DateOnly), after)
		return 0
	}
	sameAsReference := func(wantTotal string) {
		t.Helper()
		o := analytics.ReportOptions{AsOf: jan}
		q, fast, err := analytics.ReportQuery(ctx, h.conn, "aging", o)
		if err != nil || !fast {
			t.Fatalf("aging as of %s: fast %v, %v\n%s", jan.Format(time.DateOnly), fast, err, q)
		}
		got, err := analytics.Report(ctx, h.conn, "aging", o)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := analytics.ReportSQL(h.conn.Database, "aging", o)
		if err != nil {
			t.Fatal(err)
		}
		var total string
		if err := h.conn.QueryRow(ctx, "SELECT toString(sum(total)) FROM ("+ref+")").Scan(&total); err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		for _, r := range got.Rows {
			sum = sum.Add(decimal.RequireFromString(fmt.Sprint(r[len(r)-1])))
		}
		if !sum.Equal(decimal.RequireFromString(total)) || !sum.Equal(decimal.RequireFromString(wantTotal)) {
			t.Errorf("aging fast path %v, reference total %s, want %s", got.Rows, total, wantTotal)
		}
	}
	first := fresh(0)
	// 50 invoices of 10.00 + 0.01 i, each paid 5.00: 250 + 0.01 * 1225 open
	// (the February invoice is after the day)
	sameAsReference("262.25")

	h.produceTx([]*kgo.Record{h.acceptedInvoice("s1-late", "jan20", time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC), 30000)}, false)
	w.want["invoices"]++
	w.want["events"]++
	w.want["event_records"]++
	h.waitFor(w.want, 60*time.Second)
	fresh(first)
	var stale uint64
	if err := h.conn.QueryRow(ctx, "SELECT count() FROM "+h.conn.Table("snapshot_builds")+" WHERE state = 'stale' AND as_of = toDate('2026-01-31')").Scan(&stale); err != nil || stale == 0 {
		t.Errorf("stale marks of 2026-01-31: %d, %v", stale, err)
	}
	sameAsReference("265.25") // and the late 3.00
}

// TestSnapshotDays: the month ends from the first fact's month whose next
// midnight the watermark has passed by the grace, nothing before any fact.
func TestSnapshotDays(t *testing.T) {
	k := &snapshotKeeper{cfg: SnapshotConfig{Grace: 24 * time.Hour}, wake: make(chan struct{}, 1)}
	if d := k.days(); d != nil {
		t.Fatalf("no facts: %v", d)
	}
	k.landed(time.Date(2025, 12, 20, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC))
	var got []string
	for _, d := range k.days() {
		got = append(got, d.Format(time.DateOnly))
	}
	// 03-01 23:00 is less than a day past 03-01 00:00: February waits
	if fmt.Sprint(got) != "[2025-12-31 2026-01-31]" {
		t.Errorf("days = %v", got)
	}
	select {
	case <-k.wake:
	default:
		t.Error("passing a month end did not wake the keeper")
	}
	k.landed(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	if n := len(k.days()); n != 3 {
		t.Errorf("after 03-02 01:00: %d days, want 3 (to 2026-02-28)", n)
	}
}
