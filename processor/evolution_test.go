package processor_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// writerSchema is our ar.events schema with the envelope's fields edited.
func writerSchema(t *testing.T, edit func(fields []any) []any) string {
	t.Helper()
	text, _ := schemas.Schema(schemas.EventSchema)
	var top map[string]any
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		t.Fatal(err)
	}
	top["fields"] = edit(top["fields"].([]any))
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSchemaEvolution runs a book written by a newer producer, whose
// ar.events schema (v2) adds an optional envelope field trace_id, through
// the real processor and sink: the first half in single-object encoding
// under v2's specification fingerprint to a processor without a registry
// (codec.known_writers holds v2), the second half Confluent-framed under
// v2's registry id to one with a registry. Every record is accepted and the
// states equal a run over the same book written with our schema. A record
// of an incompatible writer (envelope field source removed) is
// dead-lettered once, by the processor, INCOMPATIBLE_SCHEMA naming the
// field; the sink lands that dead letter and adds none of its own.
func TestSchemaEvolution(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	ctx := context.Background()
	h := newHarness(t, 3)
	h.env = policyEnv(t)
	book := h.workload(41, 400, 30, 0) // single-object, our schema

	// the reference: the book as we write it, on its own topics
	ref := *h
	ref.kcfg.Topics = kafkax.PrefixedTopics("e" + testkit.ID())
	createTopics(t, ref.kcfg)
	ref.group, ref.pref = h.group+"-ref", h.pref+"ref"
	t.Cleanup(func() { testkit.DeletePrefix(h.rdb, ref.pref) })
	ref.produceAll(fresh(book))
	stopRef := ref.start("ref")
	ref.waitCaughtUp(ref.group, 120*time.Second)
	stopRef()
	want := dump(t, h.rdb, ref.pref, h.kcfg.Partitions)

	v2 := writerSchema(t, func(f []any) []any {
		return append(f, map[string]any{"name": "trace_id", "type": []any{"null", "string"}, "default": nil})
	})
	bad := writerSchema(t, func(f []any) []any {
		var keep []any
		for _, x := range f {
			if x.(map[string]any)["name"] != "source" {
				keep = append(keep, x)
			}
		}
		return keep
	})
	fake := srfake.New()
	defer fake.Close()
	admin, err := sr.NewClient(sr.URLs(fake.URL()))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for name, text := range map[string]string{"v2": v2, "bad": bad} {
		ss, err := admin.CreateSchema(ctx, name+"-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = ss.ID
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ar_event.v2.avsc"), []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	codec := func(cfg schemas.Config) *schemas.Codec {
		cfg.KnownWriters = dir
		c, err := schemas.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// v2's binary is ours followed by trace_id: union branch 1, "tr"
	fp, err := schemas.SpecFingerprint(v2)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := schemas.Fingerprint(schemas.EventSchema)
	single := binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, fp)
	confluent := binary.BigEndian.AppendUint32([]byte{0}, uint32(ids["v2"]))
	half := len(book) / 2
	var first, second []*kgo.Record
	for i, r := range fresh(book) {
		if binary.LittleEndian.Uint64(r.Value[2:10]) != own {
			t.Fatalf("record %d is not single-object with our fingerprint", i)
		}
		hdr := single
		if i >= half {
			hdr = confluent
		}
		if len(r.Key) > 0 { // ticks stay as we write them
			r.Value = append(append(append([]byte(nil), hdr...), r.Value[10:]...), 0x02, 0x04, 't', 'r')
		}
		if i < half {
			first = append(first, r)
		} else {
			second = append(second, r)
		}
	}
	badRec := &kgo.Record{Key: []byte("EVO-BAD"),
		Value: append(binary.BigEndian.AppendUint32([]byte{0}, uint32(ids["bad"])), book[len(book)-1].Value[10:]...)}
	second = append(second, badRec)

	h.codecFor = func() processor.Codec { return codec(schemas.Config{}) } // no registry
	stop := h.start("a")
	h.produceAll(first)
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()
	if dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 2*time.Second); len(dlq) != 0 {
		t.Fatalf("%d single-object v2 records dead-lettered without a registry", len(dlq))
	}
	h.codecFor = func() processor.Codec { return codec(schemas.Config{RegistryURL: fake.URL()}) }
	stop = h.start("b")
	h.produceAll(second)
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()

	got := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	compareStates(t, got, want)

	h.codec = codec(schemas.Config{RegistryURL: fake.URL()}) // the sink's, as `arrears sink` shares codec:
	dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 2*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("%d dead letters, want the incompatible record's only", len(dlq))
	}
	d, err := h.codec.DecodeDeadLetter(ctx, dlq[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if d.Partition != badRec.Partition || d.Offset != badRec.Offset || d.Code != schemas.CodeIncompatible ||
		!strings.Contains(d.Reason, "field source") {
		t.Fatalf("dead letter %d@%d code %s reason %q; want %d@%d %s naming field source",
			d.Partition, d.Offset, d.Code, d.Reason, badRec.Partition, badRec.Offset, schemas.CodeIncompatible)
	}

	sink, stopSink := startSink(t, h)
	waitSink(t, sink, h)
	if err := stopSink(); err != nil {
		t.Errorf("sink: %v", err)
	}
	var n, match uint64
	q := fmt.Sprintf("SELECT count(), countIf(source_partition = %d AND source_offset = %d AND code = '%s') FROM %s FINAL",
		badRec.Partition, badRec.Offset, schemas.CodeIncompatible, sink.conn.Table("dead_letters"))
	if err := sink.conn.QueryRow(ctx, q).Scan(&n, &match); err != nil {
		t.Fatal(err)
	}
	if n != 1 || match != 1 {
		t.Errorf("dead_letters holds %d rows (%d of the incompatible record), want exactly its one", n, match)
	}
	var events uint64
	keyed := 0
	for _, r := range book {
		if len(r.Key) > 0 {
			keyed++
		}
	}
	if err := sink.conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+sink.conn.Table("events")+" WHERE account_id != ''").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if int(events) != keyed {
		t.Errorf("events holds %d account events, want the book's %d", events, keyed)
	}
}
