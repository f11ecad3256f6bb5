package processor_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// TestOversizedDeadLetter: a bad value of 1,000,000 bytes is dead-lettered
// with its first dlq.max_payload_bytes, its size and its SHA-256, and its
// offset is committed with that dead letter (before, the dead letter copied
// the whole value, the broker refused it and the offset was committed anyway).
func TestOversizedDeadLetter(t *testing.T) {
	h := newHarness(t, 1)
	stop := h.start("a")
	defer stop()
	big := bytes.Repeat([]byte{0xfe}, 1_000_000)
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.kcfg.Brokers...), kgo.DefaultProduceTopic(h.kcfg.Topics.Events),
		kgo.ProducerBatchMaxBytes(2<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	good := h.json(invoice("ACC-1", "INV-1", "10.00", event.DateOf(t0)+14))
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Key: []byte("ACC-1"), Value: big}, good).FirstErr(); err != nil {
		t.Fatal(err)
	}
	h.waitCaughtUp(h.group, 60*time.Second)
	dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1, 10*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("DLQ has %d records after the offset was committed, want 1", len(dlq))
	}
	d, err := h.codec.DecodeDeadLetter(context.Background(), dlq[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(big)
	switch {
	case len(dlq[0].Value) > event.DefaultMaxDeadLetterPayload+4096:
		t.Errorf("dead letter is %d bytes, want about %d", len(dlq[0].Value), event.DefaultMaxDeadLetterPayload)
	case !d.Truncated || len(d.Value) != event.DefaultMaxDeadLetterPayload || d.ValueSize != int64(len(big)):
		t.Errorf("dead letter: truncated %v, %d bytes of %d; want truncated, %d of %d", d.Truncated, len(d.Value), d.ValueSize, event.DefaultMaxDeadLetterPayload, len(big))
	case !bytes.Equal(d.ValueSHA256, sum[:]):
		t.Error("dead letter's SHA-256 is not the whole value's")
	case d.Offset != 0 || d.Code == "":
		t.Errorf("dead letter names offset %d code %q, want offset 0 and a code", d.Offset, d.Code)
	}
}

// TestStatusBound: an account that keeps growing is refused the event that
// would make its status record exceed processor.max_status_bytes
// (STATUS_TOO_LARGE), keeps its state from before, and no status record on
// the topic is larger than the bound, even when the whole growth comes in
// one batch.
func TestStatusBound(t *testing.T) {
	h := newHarness(t, 1)
	const bound = 8192
	h.tune = func(c *processor.Config) { c.MaxStatusBytes = bound }
	stop := h.start("a")
	defer stop()
	recs := []*kgo.Record{h.binary(event.Event{ID: "up", Time: t0, Source: "crm", Account: "ACC-B", Body: &event.AccountUpserted{
		Segment: event.Postpaid, Currency: "EUR"}})}
	const n = 1000 // about 20 bytes of state each: over the bound at about 400
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("INV-%04d-%s", i, strings.Repeat("x", 100))
		recs = append(recs, h.binary(invoice("ACC-B", id, "10.00", event.DateOf(t0)+60)))
	}
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 60*time.Second)

	refused := 0
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 5*time.Second) {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Code != "STATUS_TOO_LARGE" {
			t.Fatalf("dead letter %q (%s), want STATUS_TOO_LARGE", d.Code, d.Reason)
		}
		refused++
	}
	if refused == 0 || refused == n {
		t.Fatalf("%d of %d invoices refused; want some accepted, then the rest refused", refused, n)
	}
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 3*time.Second) {
		if len(r.Value) > bound {
			t.Errorf("status record of %d bytes, bound %d", len(r.Value), bound)
		}
	}
	st := h.state("ACC-B")
	if st == nil {
		t.Fatal("ACC-B has no state")
	}
	if got, want := st.Status(t0).Balances[0].Open, event.MustAmount("10")*event.Amount(n-refused); got != want {
		t.Errorf("ACC-B owes %s, want %s (the accepted invoices only)", got, want)
	}
}

// TestFailedProduceAborts: the broker refuses the records of the first
// transactional produce request (MESSAGE_TOO_LARGE). The transaction must
// abort and be retried: before, franz-go reported the failure after the
// loop had decided to commit, and the records were lost with their input
// offsets committed.
func TestFailedProduceAborts(t *testing.T) {
	h := newHarness(t, 2)
	c := fakeKafka(t, h)
	h.env = policyEnv(t)
	h.produceAll(h.workload(7, 600, 40, 0))
	ref := h.referenceRun()

	injected := 0
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.ProduceRequest)
		if injected > 0 || r.TransactionID == nil || *r.TransactionID != h.group+"-a" {
			c.KeepControl()
			return nil, nil, false
		}
		injected++
		resp := r.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range r.Topics {
			rt := kmsg.ProduceResponseTopic{Topic: tp.Topic, TopicID: tp.TopicID}
			for _, p := range tp.Partitions {
				rt.Partitions = append(rt.Partitions, kmsg.ProduceResponseTopicPartition{Partition: p.Partition, ErrorCode: kerr.MessageTooLarge.Code})
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	reg := prometheus.NewRegistry()
	h.reg = reg
	stop := h.start("a")
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	if injected != 1 {
		t.Fatalf("produce failure injected %d times, want 1", injected)
	}
	if n := counter(t, reg, "arrears_processor_transactions_aborted_total"); n < 1 {
		t.Errorf("aborted transactions counted %v, want >= 1", n)
	}
	compareActions(t, h.actionIDs(), ref.actions)
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
}
