package processor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// harness runs processor instances against the real Kafka and Redis.
type harness struct {
	t     testing.TB
	kcfg  kafkax.Config
	rdb   redis.UniversalClient
	pref  string
	codec *schemas.Codec
	group string
	env   *core.Env
	poll  int // max records per poll (default 2000)
	// tune adjusts each instance's config (default: simulated time, as the
	// workloads are).
	tune func(*processor.Config)
	// codecFor builds each instance's codec (default: h.codec).
	codecFor func() processor.Codec
	// reg, when set, receives the instances' metrics.
	reg prometheus.Registerer
	// warnings, when set, receives the instances' Warn and Error lines.
	warnings *syncBuffer
	// kafkaFor, when set, gives the instances their own Kafka client
	// config (credentials) from kcfg, the test's own.
	kafkaFor func(kafkax.Config) kafkax.Config
	// storeRdb, when set, is the instances' Redis client (an ACL user);
	// rdb stays the test's own for inspection.
	storeRdb redis.UniversalClient
	// policies makes the instances read the published policy versions
	// (kcfg.Topics.Policies) over h.env.Policies (policyfeed.go).
	policies bool
	// groupConds are the group stage's processor.groups.conditions.
	groupConds []group.Condition
	// storeFor, when set, wraps each instance's store; stop cancels that
	// instance's run.
	storeFor func(s processor.Store, stop context.CancelFunc) processor.Store
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t testing.TB, partitions int) *harness {
	return newHarnessOn(t, testkit.KafkaConfig(t, partitions))
}

// newHarnessOn is newHarness on the topics and broker of kcfg.
func newHarnessOn(t testing.TB, kcfg kafkax.Config) *harness {
	rdb, prefix := testkit.Redis(t)
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, kcfg: kcfg, rdb: rdb, pref: prefix, codec: codec, group: "g" + testkit.ID(), env: &core.Env{}}
}

// start runs one processor instance until the returned stop is called.
func (h *harness) start(name string) (stop func()) {
	h.t.Helper()
	_, stop = h.run(name)
	return stop
}

// run is start, with the instance.
func (h *harness) run(name string) (_ *processor.Processor, stop func()) {
	h.t.Helper()
	cfg := processor.Defaults()
	cfg.GroupID = h.group
	cfg.TransactionalID = h.group + "-" + name
	cfg.MaxPollRecords = 2000
	if h.poll > 0 {
		cfg.MaxPollRecords = h.poll
	}
	cfg.SessionTimeout = 6 * time.Second
	cfg.Time = processor.TimeSimulated
	if h.tune != nil {
		h.tune(&cfg)
	}
	var codec processor.Codec = h.codec
	if h.codecFor != nil {
		codec = h.codecFor()
	}
	rdb := h.rdb
	if h.storeRdb != nil {
		rdb = h.storeRdb
	}
	var store processor.Store = redisstore.New(rdb, h.pref)
	ctx, cancel := context.WithCancel(context.Background())
	if h.storeFor != nil {
		store = h.storeFor(store, cancel)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t: h.t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if h.warnings != nil {
		log = slog.New(slog.NewTextHandler(h.warnings, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	kcfg := h.kcfg
	if h.kafkaFor != nil {
		kcfg = h.kafkaFor(kcfg)
	}
	p, err := processor.New(cfg, kcfg, store, codec, h.env, processor.NewMetrics(h.reg), log.With("instance", name))
	if err != nil {
		h.t.Fatal(err)
	}
	if h.policies {
		feed, err := processor.NewPolicyFeed(kcfg, h.env.Policies, schemas.DecodePolicy, log)
		if err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(feed.Close)
		p.UsePolicies(feed)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			h.t.Errorf("processor %s: %v", name, err)
		}
	}()
	return p, func() { cancel(); wg.Wait() }
}

// admin is an admin client on the harness's Kafka (its own config, so
// its credentials), closed when the test ends.
func (h *harness) admin() *kadm.Client {
	h.t.Helper()
	cl, err := kgo.NewClient(h.kcfg.ClientOpts()...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// produce writes raw values keyed by account to the events topic.
func (h *harness) produce(recs ...*kgo.Record) {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.kcfg.Brokers...), kgo.DefaultProduceTopic(h.kcfg.Topics.Events))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) json(ev event.Event) *kgo.Record {
	h.t.Helper()
	v, err := schemas.EncodeEventJSON(ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return &kgo.Record{Key: []byte(ev.Account), Value: v}
}

// state reads an account's state from Redis (every partition is searched).
func (h *harness) state(acct string) *core.State {
	h.t.Helper()
	store := redisstore.New(h.rdb, h.pref)
	for p := int32(0); p < int32(h.kcfg.Partitions); p++ {
		m, err := store.Load(context.Background(), p, 0, []string{acct})
		if err != nil {
			h.t.Fatal(err)
		}
		if v, ok := m[acct]; ok {
			st := &core.State{}
			if err := st.UnmarshalBinary(v.State); err != nil {
				h.t.Fatal(err)
			}
			return st
		}
	}
	return nil
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func invoice(acct, id, amount string, due event.Date) event.Event {
	return event.Event{ID: "ev-" + id, Time: t0, Source: "billing", Account: acct, Body: &event.InvoiceIssued{
		InvoiceID: id, Currency: "EUR", Amount: event.MustAmount(amount), IssueDate: event.DateOf(t0), DueDate: due,
	}}
}

func payment(acct, id, amount string) event.Event {
	return event.Event{ID: "ev-" + id, Time: t0.Add(time.Hour), Source: "gateway", Account: acct, Body: &event.PaymentReceived{
		PaymentID: id, Currency: "EUR", Amount: event.MustAmount(amount), Method: "card",
	}}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestThinSlice: an Avro-JSON invoice and a payment change the account's
// balance in Redis and produce status records on the changelog.
func TestThinSlice(t *testing.T) {
	h := newHarness(t, 3)
	stop := h.start("a")
	defer stop()
	due := event.DateOf(t0) + 14
	h.produce(h.json(invoice("ACC-1", "INV-1", "100.00", due)), h.json(payment("ACC-1", "PAY-1", "40.00")))

	var st *core.State
	waitFor(t, "balance 60.00 in Redis", 60*time.Second, func() bool {
		st = h.state("ACC-1")
		return st != nil && st.Status(t0).Balances != nil && st.Status(t0).Balances[0].Open == event.MustAmount("60")
	})
	recs := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1, 30*time.Second)
	if len(recs) == 0 {
		t.Fatal("no status record on the changelog")
	}
	last := recs[len(recs)-1]
	s, err := h.codec.DecodeStatus(context.Background(), last.Value)
	if err != nil {
		t.Fatal(err)
	}
	if s.Account != "ACC-1" || len(s.Balances) != 1 || s.Balances[0].Open != event.MustAmount("60") {
		t.Fatalf("last status = %+v, want ACC-1 with 60.0000 EUR open", s)
	}
}

// TestDeadLetters: garbage bytes, an unknown schema id, a JSON event missing a
// required field and a negative amount each land in the DLQ with a readable
// reason; the valid event around them is processed.
func TestDeadLetters(t *testing.T) {
	h := newHarness(t, 1)
	stop := h.start("a")
	defer stop()

	unknownID := make([]byte, 5, 16)
	binary.BigEndian.PutUint32(unknownID[1:], 987654)
	unknownID = append(unknownID, 2, 4, 6, 8)
	missing := []byte(`{"event_id":"ev-m","event_time":1772355600000,"source":"billing","account_id":"ACC-2","payload":{"arrears.InvoiceIssued":{"invoice_id":"INV-9","currency":"EUR","issue_date":"2026-03-01","due_date":"2026-03-15"}}}`)
	h.produce(
		&kgo.Record{Key: []byte("ACC-2"), Value: []byte("\x07garbage\xff\xfe")},
		&kgo.Record{Key: []byte("ACC-2"), Value: unknownID},
		&kgo.Record{Key: []byte("ACC-2"), Value: missing},
		h.json(invoice("ACC-2", "INV-NEG", "-5.00", event.DateOf(t0)+14)),
		h.json(invoice("ACC-2", "INV-OK", "25.00", event.DateOf(t0)+14)),
	)
	recs := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 4, 60*time.Second)
	if len(recs) != 4 {
		t.Fatalf("DLQ has %d records, want 4", len(recs))
	}
	wants := []struct{ class, reason string }{
		{"decode", ""}, {"decode", "987654"}, {"decode", "amount"}, {"ledger", "negative"},
	}
	for i, r := range recs {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatalf("dlq record %d: %v", i, err)
		}
		if d.ErrorClass != wants[i].class || !strings.Contains(strings.ToLower(d.Reason), wants[i].reason) {
			t.Errorf("dlq %d: class %q reason %q; want class %q reason containing %q", i, d.ErrorClass, d.Reason, wants[i].class, wants[i].reason)
		}
		if d.Topic != h.kcfg.Topics.Events || d.Offset != int64(i) {
			t.Errorf("dlq %d: source %s@%d, want %s offset %d", i, d.Topic, d.Offset, h.kcfg.Topics.Events, i)
		}
		t.Logf("dlq %d: %s: %s", i, d.ErrorClass, d.Reason)
	}
	waitFor(t, "the valid invoice applied", 30*time.Second, func() bool {
		st := h.state("ACC-2")
		return st != nil && len(st.Status(t0).Balances) == 1 && st.Status(t0).Balances[0].Open == event.MustAmount("25")
	})
}
