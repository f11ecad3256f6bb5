package processor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
)

// hostileRecord is one line of testdata/hostile/manifest.json.
type hostileRecord struct {
	File    string   `json:"file"`
	Topic   string   `json:"topic"`
	Key     *string  `json:"key"`
	Code    string   `json:"code"`
	By      string   `json:"by"`
	What    string   `json:"what"`
	Prelude []string `json:"prelude"`
}

const hostileDir = "../testdata/hostile"

func loadHostile(t *testing.T) []hostileRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(hostileDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hostileRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSuffix(strings.TrimSpace(sc.Text()), ",")
		if line == "[" || line == "]" || line == "" {
			continue
		}
		var r hostileRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("manifest line %q: %v", line, err)
		}
		out = append(out, r)
	}
	if len(out) < 45 {
		t.Fatalf("hostile corpus has %d records, want >= 45", len(out))
	}
	return out
}

func hostileValue(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(hostileDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileCorpus replays every record of testdata/hostile among good
// traffic through the processor (live time) and the ClickHouse sink on the
// real stack: each refused record is in ar.dlq once with its code, the
// accepted ones are not, the forged changelog records are skipped, the
// processor and the sink keep running, and the good accounts' states,
// actions and ClickHouse rows equal a run without the hostile records.
func TestHostileCorpus(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	corpus := loadHostile(t)
	h := newHarness(t, 3)
	h.env = fullEnv(t)
	h.tune = func(c *processor.Config) { c.Time, c.TickSource = processor.TimeLive, "test" }
	good := h.workload(21, 1500, 60, 0)

	// the reference: the good traffic alone, on its own input topic
	ref := *h
	ref.kcfg.Topics = kafkax.PrefixedTopics("g" + testkit.ID())
	createTopics(t, ref.kcfg)
	ref.group, ref.pref = h.group+"-good", h.pref+"good"
	t.Cleanup(func() { testkit.DeletePrefix(h.rdb, ref.pref) })
	// the corpus's good preludes are dated up to 2026-11-20: both runs end
	// with ticks after that, so the good accounts' clocks agree
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ref.produceAll(append(fresh(good), ref.ticks(end)...))
	stopRef := ref.start("good")
	ref.waitCaughtUp(ref.group, 120*time.Second)
	stopRef()
	wantStates := dump(t, h.rdb, ref.pref, h.kcfg.Partitions)
	wantActions := ref.goodActions()

	// forged changelog records go on the status topic before any owner starts
	var status []*kgo.Record
	for _, r := range corpus {
		if r.Topic == "status" {
			status = append(status, &kgo.Record{Topic: h.kcfg.Topics.Status, Key: []byte("H-status"), Value: hostileValue(t, r.File)})
		}
	}
	produceTo(t, h, status)

	// the hostile records (each after its prelude) spread among the good traffic
	var events []*kgo.Record
	hostileAt := map[*kgo.Record]hostileRecord{}
	good = fresh(good)
	events = append(events, good...)
	for _, r := range corpus {
		if r.Topic != "events" {
			continue
		}
		key := []byte(nil)
		if r.Key != nil {
			key = []byte(*r.Key)
		}
		for _, p := range r.Prelude {
			events = append(events, &kgo.Record{Key: key, Value: hostileValue(t, p)})
		}
		rec := &kgo.Record{Key: key, Value: hostileValue(t, r.File)}
		hostileAt[rec] = r
		events = append(events, rec)
	}
	events = append(events, h.ticks(end)...)

	sink, stopSink := startSink(t, h)
	h.warnings = &syncBuffer{}
	stop := h.start("a")
	h.produceAll(events)
	h.waitCaughtUp(h.group, 180*time.Second)
	stop()

	// every refused record once, with its code; the others not at all
	byOffset := map[string]string{}
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 5*time.Second) {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%d@%d", d.Partition, d.Offset)
		if _, dup := byOffset[k]; dup {
			t.Errorf("input %s dead-lettered twice", k)
		}
		byOffset[k] = d.Code
	}
	for rec, r := range hostileAt {
		got, dead := byOffset[fmt.Sprintf("%d@%d", rec.Partition, rec.Offset)]
		switch {
		case r.Code == "" && dead:
			t.Errorf("%s (%s): dead-lettered with %s, want accepted or ignored", r.File, r.What, got)
		case r.Code != "" && got != r.Code:
			t.Errorf("%s (%s): dead-letter code %q, want %q", r.File, r.What, got, r.Code)
		}
	}
	if n := len(byOffset); n > len(hostileAt) {
		t.Errorf("%d dead letters for %d hostile records: good traffic was refused", n, len(hostileAt))
	}

	// no account id, amount or input value at Warn or above
	for _, leak := range []string{"H-", "ACC-", "12,50", "529"} {
		if strings.Contains(h.warnings.String(), leak) {
			t.Errorf("a Warn/Error line carries %q:\n%s", leak, h.warnings.String())
		}
	}

	// the good accounts are exactly as without the hostile records
	got := map[string]string{}
	for a, v := range dump(t, h.rdb, h.pref, h.kcfg.Partitions) {
		if strings.HasPrefix(a, "ACC-") {
			got[a] = v
		}
	}
	compareStates(t, got, wantStates)
	compareActions(t, h.goodActions(), wantActions)

	// ClickHouse: nothing a refused record carried landed; reports answer
	waitSink(t, sink, h)
	if err := stopSink(); err != nil {
		t.Errorf("sink: %v", err)
	}
	checkNoHostileFacts(t, sink, corpus)
}

// goodActions counts the committed actions of the good (ACC-) accounts by id.
func (h *harness) goodActions() map[string]int {
	ids := h.outputIDs(h.kcfg.Topics.Actions, func(v []byte) (string, error) {
		a, err := h.codec.DecodeAction(context.Background(), v)
		if !strings.HasPrefix(a.Account, "ACC-") {
			return "other", err
		}
		return a.ActionID, err
	})
	delete(ids, "other")
	return ids
}

// fresh copies records for another produce (franz-go keeps the topic,
// partition and context of a produced record).
func fresh(recs []*kgo.Record) []*kgo.Record {
	out := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		out[i] = &kgo.Record{Key: r.Key, Value: r.Value, Partition: r.Partition}
	}
	return out
}

// produceTo writes records to their topics (partition 0 when keyless).
func produceTo(t *testing.T, h *harness, recs []*kgo.Record) {
	t.Helper()
	if len(recs) == 0 {
		return
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.kcfg.Brokers...), kgo.RecordPartitioner(kafkax.KeyOrExplicit()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// sinkRun is an in-process ClickHouse sink on the harness's topics.
type sinkRun struct {
	cfg  chsink.Config
	conn *analytics.Conn
}

func startSink(t *testing.T, h *harness) (*sinkRun, func() error) {
	t.Helper()
	cfg := chsink.Defaults()
	var conn *analytics.Conn
	conn, cfg.ClickHouse = testkit.ClickHouse(t, "arrears_hostile")
	cfg.GroupID = h.group + "-sink"
	cfg.FlushInterval = 200 * time.Millisecond
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := chsink.New(ctx, cfg, h.kcfg, h.codec, prometheus.NewRegistry(), log)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(rctx) }()
	return &sinkRun{cfg: cfg, conn: conn}, func() error {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	}
}

// waitSink waits until the sink's group committed everything it reads.
func waitSink(t *testing.T, s *sinkRun, h *harness) {
	t.Helper()
	adm := h.admin()
	var behind []string
	waitFor(t, "the sink to commit the accepted events", 120*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(ctx, h.kcfg.Topics.Accepted)
		if err != nil {
			return false
		}
		offs, err := adm.FetchOffsets(ctx, s.cfg.GroupID)
		if err != nil {
			return false
		}
		behind = behind[:0]
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := offs.Lookup(o.Topic, o.Partition)
			if o.Offset > 0 && (!ok || c.At < o.Offset-1) { // a commit marker may end the partition
				behind = append(behind, fmt.Sprintf("%d: committed %d of %d", o.Partition, c.At, o.Offset))
			}
		})
		return len(behind) == 0
	})
}

// checkNoHostileFacts: no fact table holds a row of an account whose only
// records were refused, and the reports answer over the book.
func checkNoHostileFacts(t *testing.T, s *sinkRun, corpus []hostileRecord) {
	t.Helper()
	ctx := context.Background()
	accepted := map[string]bool{}
	for _, r := range corpus {
		if r.Key != nil && (len(r.Prelude) > 0 || r.Code == "") {
			accepted[*r.Key] = true // its prelude (or itself) was good
		}
	}
	for _, table := range []string{"invoices", "payments", "events"} {
		rows, err := s.conn.Query(ctx, "SELECT DISTINCT account_id FROM "+s.conn.Table(table)+" WHERE account_id LIKE 'H-%'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			if !accepted[a] {
				t.Errorf("%s holds a row of %s, whose records were all refused", table, a)
			}
		}
		_ = rows.Close()
	}
	for _, report := range []string{"aging", "dso", "cei", "roll_rates"} {
		if _, err := analytics.Report(ctx, s.conn, report, analytics.ReportOptions{AsOf: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Errorf("report %s over the book: %v", report, err)
		}
	}
}
