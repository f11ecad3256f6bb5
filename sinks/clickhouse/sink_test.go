package chsink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// harness is one test's sink environment: unique topics, consumer group and
// ClickHouse database (dropped at the end).
type harness struct {
	t     *testing.T
	kcfg  kafkax.Config
	cfg   Config
	codec *schemas.Codec // the producers' codec (and the sink's unless sinkCodec)
	// sinkCodec, when set, is the sink's own codec (a registry test gives
	// it a cold cache)
	sinkCodec *schemas.Codec
	conn      *analytics.Conn
	reg       *prometheus.Registry
	m         *Metrics
	s         *Sink        // the running sink (set by start)
	logs      *lockedLines // every log line of the sinks started, Debug and up, as JSON
	src       int64        // the last input offset handed out by nextSrc
}

// lockedLines collects log output from the sink's goroutine.
type lockedLines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON log records at level or above.
func (l *lockedLines) lines(t *testing.T, level slog.Level) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, ln := range bytes.Split(l.b.Bytes(), []byte("\n")) {
		if len(ln) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(ln, &m); err != nil {
			t.Fatalf("log line %q: %v", ln, err)
		}
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(fmt.Sprint(m["level"]))); err != nil {
			t.Fatalf("log level in %q: %v", ln, err)
		}
		if lv >= level {
			out = append(out, m)
		}
	}
	return out
}

// nextSrc hands out input offsets (for src_offset headers and the
// processor's dead letters), unique across the harness's workloads.
func (h *harness) nextSrc() int64 {
	h.src++
	return h.src
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessAt(t, testkit.ClickHouseAddr)
}

// newHarnessAt is newHarness against the ClickHouse server at addr.
func newHarnessAt(t *testing.T, addr string) *harness {
	t.Helper()
	testkit.Integration(t, "kafka", "clickhouse")
	kcfg := testkit.KafkaConfig(t, 3)
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	var conn *analytics.Conn
	conn, cfg.ClickHouse = testkit.ClickHouseAt(t, "arrears_test", addr)
	cfg.GroupID = "sink-test-" + testkit.ID()
	cfg.BatchRows = 700
	cfg.FlushInterval = 200 * time.Millisecond
	cfg.RetryMax = 2 * time.Second
	return &harness{t: t, kcfg: kcfg, cfg: cfg, codec: codec, conn: conn, logs: &lockedLines{}}
}

// start runs a sink until the returned stop is called; stop returns Run's error.
func (h *harness) start() (stop func() error) {
	h.t.Helper()
	h.reg = prometheus.NewRegistry()
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(h.logs, warnOnly{os.Stderr}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	codec := h.codec
	if h.sinkCodec != nil {
		codec = h.sinkCodec
	}
	s, err := New(ctx, h.cfg, h.kcfg, codec, h.reg, log)
	if err != nil {
		h.t.Fatal(err)
	}
	h.m, h.s = s.m, s
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx); s.Close() }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			return fmt.Errorf("sink did not stop within 60s")
		}
	}
}

// warnOnly passes the JSON log lines at Warn and above to w (the test's
// stderr stays as quiet as the sink is in production).
type warnOnly struct{ w io.Writer }

func (o warnOnly) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"WARN"`)) || bytes.Contains(p, []byte(`"level":"ERROR"`)) {
		return o.w.Write(p)
	}
	return len(p), nil
}

// workload is what a test produces and what it expects in ClickHouse.
type workload struct {
	records  []*kgo.Record
	want     map[string]uint64 // table -> distinct rows under FINAL
	garbage  int               // undecodable records (dead-lettered by the sink)
	rejected int               // decodable records ClickHouse cannot hold (dead-lettered by the sink)
	refused  int               // raw inputs the processor rejected (on ar.events and ar.dlq only)
}

// buildWorkload makes n accounts' worth of records of every topic. Event ids
// are prefixed with tag so several workloads can share the topics.
func (h *harness) buildWorkload(tag string, n int) *workload {
	h.t.Helper()
	ctx := context.Background()
	w := &workload{want: map[string]uint64{}}
	tp := h.kcfg.Topics
	add := func(topic, key string, b []byte, err error) {
		if err != nil {
			h.t.Fatalf("encode for %s: %v", topic, err)
		}
		w.records = append(w.records, &kgo.Record{Topic: topic, Key: []byte(key), Value: b})
	}
	// accept is what the processor does with an input it applied: a copy
	// on the accepted topic naming the input's coordinates.
	accept := func(key string, b []byte, err error) {
		add(tp.Accepted, key, b, err)
		src := h.nextSrc()
		w.records[len(w.records)-1].Headers = []kgo.RecordHeader{{Key: "src_topic", Value: []byte(tp.Events)},
			{Key: "src_partition", Value: []byte("2")}, {Key: "src_offset", Value: []byte(fmt.Sprint(src))}}
	}
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		acct := fmt.Sprintf("%s-A%04d", tag, i)
		at := t0.Add(time.Duration(i) * time.Minute)
		d := event.DateOf(at)
		evs := []event.Body{
			&event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR"},
			&event.InvoiceIssued{InvoiceID: acct + "-I1", Currency: "EUR", Amount: event.Amount(100000 + 100*i), IssueDate: d, DueDate: d + 14},
			&event.PaymentReceived{PaymentID: acct + "-P1", Currency: "EUR", Amount: event.Amount(50000)},
		}
		w.want["accounts"]++
		w.want["invoices"]++
		w.want["payments"]++
		for j, b := range evs {
			ev := event.Event{ID: fmt.Sprintf("%s-e%d", acct, j), Time: at.Add(time.Duration(j) * time.Second), Source: "test", Account: acct, Body: b}
			bs, err := h.codec.EncodeEvent(ctx, tp.Events, ev)
			accept(acct, bs, err)
			w.want["events"]++
			w.want["event_records"]++ // one per accepted record (by its offset)
			if j == 1 && i%10 == 0 {  // a re-delivered duplicate: same event id
				accept(acct, bs, err)
				w.want["event_records"]++
			}
		}
		bs, err := h.codec.EncodeAction(ctx, tp.Actions, &event.DunningAction{ActionID: acct + "-X1", Account: acct, Time: at, Stage: "reminder",
			Type: event.ActionNotify, Channel: event.Email, Currency: "EUR", OverdueAmount: 50000, OldestDueDate: d})
		add(tp.Actions, acct, bs, err)
		w.want["dunning_actions"]++
		if i%2 == 0 {
			bs, err = h.codec.EncodeRisk(ctx, tp.Risk, &event.RiskEvent{EventID: acct + "-K1", Account: acct, Time: at, Score: 500, PD: 0.05, Tier: "B", ModelVersion: "m1"})
			add(tp.Risk, acct, bs, err)
			w.want["risk_events"]++
		}
		bs, err = h.codec.EncodeStatus(ctx, tp.Status, &event.AccountStatus{Account: acct, Time: at, Segment: event.Postpaid,
			Balances: []event.CurrencyBalance{{Currency: "EUR", Open: 50000, Overdue: 50000}}, OpenItems: 1, SourcePartition: 0, SourceOffset: int64(i)})
		add(tp.Status, acct, bs, err)
		w.want["account_status"]++
		if i%5 == 0 {
			bs, err = h.codec.EncodeGL(ctx, tp.GL, &event.GLEntry{EntryID: acct + "-G1", Account: acct, Time: at, Kind: "FEE", Currency: "EUR", Amount: 5000})
			add(tp.GL, acct, bs, err)
			w.want["gl_entries"]++
		}
		if i%100 == 0 { // decodes, but DateTime cannot hold 1800: rejected, dead-lettered
			bs, err := h.codec.EncodeAction(ctx, tp.Actions, &event.DunningAction{ActionID: acct + "-old", Account: acct,
				Time: time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), Stage: "reminder", Type: event.ActionNotify, Channel: event.Email})
			add(tp.Actions, acct, bs, err)
			w.rejected++
		}
		if i%25 == 0 { // refused by the processor: on the raw input and the DLQ, never on the accepted topic
			bs, err := h.codec.EncodeEvent(ctx, tp.Events, event.Event{ID: acct + "-huge", Time: at, Source: "test", Account: acct,
				Body: &event.InvoiceIssued{InvoiceID: acct + "-IX", Currency: "EUR", Amount: 5_290_000_000_000_000_000, IssueDate: d, DueDate: d + 14}})
			add(tp.Events, acct, bs, err)
			dl := event.NewDeadLetter(tp.Events, 1, h.nextSrc(), []byte(acct), bs, "ledger", "AMOUNT_OUT_OF_RANGE", "amount exceeds the maximum", at, 0)
			bs, err = h.codec.EncodeDeadLetter(ctx, tp.DLQ, dl)
			add(tp.DLQ, acct, bs, err)
			w.refused++
		}
		if i%50 == 25 { // accepted Avro JSON the sink cannot read: its error quotes the amount
			accept(acct, []byte(`{"account_id":"`+acct+`","event_id":"`+acct+`-j","event_time":1741944413589,"source":"billing",`+
				`"payload":{"arrears.InvoiceIssued":{"amount":"12,50","bill_cycle":null,"currency":"EUR","due_date":20162,"invoice_id":"J1","issue_date":20148}}}`), nil)
			w.garbage++
		}
		if i%50 == 0 {
			accept(acct, []byte("this is not avro"), nil)
			w.garbage++
			bs, err = h.codec.EncodeDeadLetter(ctx, tp.DLQ, &event.DeadLetter{Reason: "ledger: unknown currency", ErrorClass: "ledger",
				Topic: "upstream-" + tag, Partition: 0, Offset: int64(1_000_000 + i), Value: []byte("x"), Time: at})
			add(tp.DLQ, acct, bs, err)
			w.want["dead_letters"]++
		}
	}
	// The processor's own dead letters (one per "this is not avro" record,
	// added above, and one per refused input) plus the sink's (one per
	// garbage record and rejected row).
	w.want["dead_letters"] += uint64(w.garbage) + uint64(w.rejected) + uint64(w.refused)
	return w
}

// produceTx produces recs in transactions of about 500 records; abort
// ones are rolled back (read_committed consumers must never see them).
func (h *harness) produceTx(recs []*kgo.Record, abort bool) {
	h.t.Helper()
	cl, err := kgo.NewClient(append(h.kcfg.ClientOpts(), kgo.TransactionalID("chsink-test-"+testkit.ID()),
		kgo.DefaultProduceTopic(h.kcfg.Topics.Events))...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(recs) > 0 {
		n := min(500, len(recs))
		if err := cl.BeginTransaction(); err != nil {
			h.t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, recs[:n]...).FirstErr(); err != nil {
			h.t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(!abort)); err != nil {
			h.t.Fatal(err)
		}
		recs = recs[n:]
	}
}

// counts returns, per table, rows under FINAL and rows without it.
func (h *harness) counts() (final, raw map[string]uint64) {
	h.t.Helper()
	final, raw = map[string]uint64{}, map[string]uint64{}
	ctx := context.Background()
	for _, t := range analytics.SinkTables() {
		var f, r uint64
		if err := h.conn.QueryRow(ctx, "SELECT count() FROM "+h.conn.Table(t.Name)+" FINAL").Scan(&f); err != nil {
			continue // not migrated yet
		}
		if err := h.conn.QueryRow(ctx, "SELECT count() FROM "+h.conn.Table(t.Name)).Scan(&r); err != nil {
			continue
		}
		final[t.Name], raw[t.Name] = f, r
	}
	return final, raw
}

// waitFor polls ClickHouse until every table holds want rows under FINAL.
func (h *harness) waitFor(want map[string]uint64, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	var got map[string]uint64
	for time.Now().Before(deadline) {
		got, _ = h.counts()
		ok := true
		for t, n := range want {
			if got[t] != n {
				ok = false
			}
		}
		if ok {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	h.t.Fatalf("after %s ClickHouse has %v, want %v", timeout, got, want)
}

func TestSinkEndToEnd(t *testing.T) {
	h := newHarness(t)
	w := h.buildWorkload("w1", 400)
	h.produceTx(w.records, false)
	// An aborted transaction: read_committed must skip all of it.
	aborted := h.buildWorkload("ab", 30)
	h.produceTx(aborted.records, true)

	stop := h.start()
	h.waitFor(w.want, 90*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	// What Kafka holds (read_committed) equals what ClickHouse holds.
	tp := h.kcfg.Topics
	kafka := map[string]int{}
	for _, topic := range []string{tp.Accepted, tp.Actions, tp.Risk, tp.Status, tp.GL} {
		kafka[topic] = len(testkit.Consume(t, h.kcfg.Brokers, topic, 1<<30, 3*time.Second))
	}
	final, raw := h.counts()
	distinctEvents := kafka[tp.Accepted] - w.garbage - 40 // 40 re-delivered duplicates (every 10th invoice)
	for table, k := range map[string]int{"events": distinctEvents, "dunning_actions": kafka[tp.Actions] - w.rejected,
		"risk_events": kafka[tp.Risk], "account_status": kafka[tp.Status], "gl_entries": kafka[tp.GL]} {
		if final[table] != uint64(k) {
			t.Errorf("%s: %d rows under FINAL, Kafka holds %d distinct records", table, final[table], k)
		}
	}
	if raw["dunning_actions"] != final["dunning_actions"] {
		t.Errorf("dunning_actions re-delivered: %d raw rows, %d distinct", raw["dunning_actions"], final["dunning_actions"])
	}
	var dupes uint64
	if err := h.conn.QueryRow(context.Background(), "SELECT count() FROM (SELECT event_id, count() AS n FROM "+
		h.conn.Table("events")+" FINAL GROUP BY event_id HAVING n > 1)").Scan(&dupes); err != nil {
		t.Fatal(err)
	}
	if dupes != 0 {
		t.Errorf("%d event ids duplicated under FINAL", dupes)
	}

	// Only accepted facts land, each events row names its input (the src_*
	// headers), and each rejection is one dead_letters row: the refused
	// inputs have the processor's only, the sink's own have the sink's.
	for what, c := range map[string]struct {
		sql  string
		want uint64
	}{
		"refused invoices landed": {"SELECT count() FROM " + h.conn.Table("invoices") + " FINAL WHERE invoice_id LIKE '%-IX'", 0},
		"refused events landed":   {"SELECT count() FROM " + h.conn.Table("events") + " FINAL WHERE event_id LIKE '%-huge'", 0},
		"events rows not naming their input": {"SELECT count() FROM " + h.conn.Table("events") + " FINAL WHERE kafka_topic != '" +
			tp.Events + "' OR kafka_partition != 2 OR kafka_offset < 1", 0},
		"processor dead letters": {"SELECT count() FROM " + h.conn.Table("dead_letters") + " FINAL WHERE error_class = 'ledger' AND source_topic = '" +
			tp.Events + "'", uint64(w.refused)},
		"sink dead letters of accepted records": {"SELECT count() FROM " + h.conn.Table("dead_letters") +
			" FINAL WHERE error_class = 'sink' AND source_topic = '" + tp.Events + "' AND code = 'SINK_DECODE' AND truncated = 0", uint64(w.garbage)},
		"sink dead letters of actions": {"SELECT count() FROM " + h.conn.Table("dead_letters") +
			" FINAL WHERE error_class = 'sink' AND source_topic = '" + tp.Actions + "'", uint64(w.rejected)},
		"inputs with two dead letters": {"SELECT count() FROM (SELECT count() AS n FROM " + h.conn.Table("dead_letters") +
			" FINAL GROUP BY source_topic, source_partition, source_offset HAVING n > 1)", 0},
	} {
		var got uint64
		if err := h.conn.QueryRow(context.Background(), c.sql).Scan(&got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != c.want {
			t.Errorf("%s: %d, want %d", what, got, c.want)
		}
	}

	// The sink dead-lettered every garbage record with its coordinates.
	dlq := testkit.Consume(t, h.kcfg.Brokers, tp.DLQ, int(w.want["dead_letters"]), 10*time.Second)
	var fromSink, rejected int
	for _, r := range dlq {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatalf("DLQ record: %v", err)
		}
		if d.ErrorClass == "sink" {
			if d.Code == CodeSinkRejected {
				rejected++
				if !strings.Contains(d.Reason, "DateTime range") || d.Code != CodeSinkRejected || d.Topic != tp.Actions {
					t.Errorf("rejected row's reason %q", d.Reason)
				}
				continue
			}
			fromSink++
			if d.Topic != tp.Events || d.Partition != 2 || d.Reason == "" || d.Offset < 1 || d.Code != CodeSinkDecode ||
				d.ValueSize != int64(len(d.Value)) || len(d.ValueSHA256) != 32 || d.Truncated {
				t.Errorf("sink dead letter %+v", d)
			}
		}
	}
	if fromSink != w.garbage || rejected != w.rejected {
		t.Errorf("sink dead-lettered %d undecodable and %d rejected records, want %d and %d", fromSink, rejected, w.garbage, w.rejected)
	}
	if got := value(h.m.DeadLettered.WithLabelValues(tp.Actions, "reject")); got != float64(w.rejected) {
		t.Errorf("dead_lettered_total{reject} = %v, want %d", got, w.rejected)
	}
	if got := value(h.m.DeadLettered.WithLabelValues(tp.Accepted, "decode")); got != float64(w.garbage) {
		t.Errorf("dead_lettered_total{decode} = %v, want %d", got, w.garbage)
	}
	if got := value(h.m.RowsInserted.WithLabelValues("invoices")); got < float64(w.want["invoices"]) {
		t.Errorf("rows_inserted_total{invoices} = %v, want >= %d", got, w.want["invoices"])
	}

	// Logs: no input value or account id at Warn or above; each dead
	// letter's details at Debug with its coordinates.
	for _, ln := range h.logs.lines(t, slog.LevelWarn) {
		if b, _ := json.Marshal(ln); bytes.Contains(b, []byte("not avro")) || bytes.Contains(b, []byte("12,50")) || bytes.Contains(b, []byte("w1-A")) {
			t.Errorf("Warn+ log line carries an input value or account id: %s", b)
		}
	}
	details := 0
	for _, ln := range h.logs.lines(t, slog.LevelDebug) {
		if ln["msg"] == "dead letter" && ln["topic"] != nil && ln["partition"] != nil && ln["offset"] != nil && ln["reason"] != nil {
			details++
		}
	}
	if details != w.garbage+w.rejected {
		t.Errorf("%d dead-letter Debug lines with coordinates and reason, want %d", details, w.garbage+w.rejected)
	}

	// A restarted sink resumes from the committed offsets: nothing new lands
	// (counted by the new sink's metrics: raw row counts also fall when
	// ClickHouse merges the re-delivered duplicates meanwhile).
	stop = h.start()
	time.Sleep(3 * time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, tb := range analytics.SinkTables() {
		if got := value(h.m.RowsInserted.WithLabelValues(tb.Name)); got != 0 {
			t.Errorf("restart re-inserted %v rows of %s", got, tb.Name)
		}
	}
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
