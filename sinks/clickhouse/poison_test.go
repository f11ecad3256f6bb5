package chsink

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// TestSinkPoisonAndOversized: an accepted record the sink cannot decode,
// 300 KB of noise, goes to a DLQ topic that takes at most 100 KB per
// record. The sink sends one bounded dead letter (the first
// dlq.max_payload_bytes of the value, its size and SHA-256) and lands the
// records behind it; it never retries. With a payload bound above what
// the DLQ takes, the broker refuses the dead letter: the sink sends it once
// without payload and moves on. Before, it retried the oversized dead
// letter every 10 s for good, nothing more landed and /readyz stayed 200.
func TestSinkPoisonAndOversized(t *testing.T) {
	h := newHarness(t)
	tp := h.kcfg.Topics
	h.cfg.StallTimeout = 2 * time.Second
	limitDLQ(t, h, 100_000)
	ctx := context.Background()

	phase := func(tag string, maxPayload int) (poison []byte, dl event.DeadLetter) {
		t.Helper()
		h.cfg.DLQMaxPayload = maxPayload
		poison = make([]byte, 300_000)
		_, _ = rand.Read(poison)
		w := h.buildWorkload(tag, 20)
		recs := append([]*kgo.Record{{Topic: tp.Accepted, Key: []byte(tag + "-A0000"), Value: poison, Headers: []kgo.RecordHeader{
			{Key: "src_topic", Value: []byte(tp.Events)}, {Key: "src_partition", Value: []byte("1")},
			{Key: "src_offset", Value: []byte(fmt.Sprint(h.nextSrc()))}}}}, w.records...)
		h.produceTx(recs, false)
		stop := h.start()
		want := map[string]uint64{}
		for tb, n := range w.want {
			want[tb] += n
		}
		final, _ := h.counts()
		for tb, n := range final {
			want[tb] += n
		}
		want["dead_letters"]++ // the poison's
		h.waitFor(want, 60*time.Second)
		time.Sleep(3 * time.Second) // a retry of the dead letter would show now
		if h.s.Stalled() {
			t.Errorf("%s: sink stalled after landing everything", tag)
		}
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := value(h.m.Retries.WithLabelValues("dlq")); got != 0 {
			t.Errorf("%s: %v DLQ produce retries, want 0", tag, got)
		}
		sum := sha256.Sum256(poison)
		var found []event.DeadLetter
		for _, r := range testkit.Consume(t, h.kcfg.Brokers, tp.DLQ, 1<<30, 3*time.Second) {
			d, err := h.codec.DecodeDeadLetter(ctx, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			if d.ErrorClass == "sink" && bytes.Equal(d.ValueSHA256, sum[:]) {
				found = append(found, d)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%s: %d dead letters of the poison record, want exactly 1", tag, len(found))
		}
		d := found[0]
		if d.Code != CodeSinkDecode || d.Topic != tp.Events || d.Partition != 1 || d.ValueSize != int64(len(poison)) || !d.Truncated {
			t.Errorf("%s: dead letter %s %s/%d@%d size %d truncated %v", tag, d.Code, d.Topic, d.Partition, d.Offset, d.ValueSize, d.Truncated)
		}
		return poison, d
	}

	// the default bound: the first 64 KiB of the value
	poison, d := phase("p1", Defaults().DLQMaxPayload)
	if !bytes.Equal(d.Value, poison[:event.DefaultMaxDeadLetterPayload]) {
		t.Errorf("dead letter carries %d bytes, want the first %d of the value", len(d.Value), event.DefaultMaxDeadLetterPayload)
	}
	// a bound the DLQ topic refuses: sent once, bare
	_, d = phase("p2", 200_000)
	if len(d.Value) != 0 {
		t.Errorf("refused dead letter resent with %d bytes of payload, want none", len(d.Value))
	}
	if got := value(h.m.DeadLettered.WithLabelValues(tp.Accepted, "dropped")); got != 0 {
		t.Errorf("%v dead letters dropped, want 0", got)
	}
}

// limitDLQ sets the test DLQ topic's max.message.bytes.
func limitDLQ(t *testing.T, h *harness, n int) {
	t.Helper()
	cl, err := kgo.NewClient(h.kcfg.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	v := fmt.Sprint(n)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := kadm.NewClient(cl).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: &v}}, h.kcfg.Topics.DLQ)
	if err == nil {
		err = rs[0].Err
	}
	if err != nil {
		t.Fatalf("limit %s: %v", h.kcfg.Topics.DLQ, err)
	}
}
