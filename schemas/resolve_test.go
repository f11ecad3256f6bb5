package schemas

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arrears/arrears/processor/event"
)

// evolve returns the .avsc of an owned schema changed by edit, which gets
// the decoded JSON and the records by short name.
func evolve(t testing.TB, name string, edit func(top map[string]any, rec func(string) map[string]any)) string {
	t.Helper()
	text, _ := Schema(name)
	var top map[string]any
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		t.Fatal(err)
	}
	recs := map[string]map[string]any{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "record" {
				recs[x["name"].(string)] = x
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(top)
	edit(top, func(n string) map[string]any {
		r := recs[n]
		if r == nil {
			t.Fatalf("no record %s", n)
		}
		return r
	})
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func addField(rec map[string]any, f map[string]any) {
	rec["fields"] = append(rec["fields"].([]any), f)
}

func dropField(rec map[string]any, name string) {
	var keep []any
	for _, f := range rec["fields"].([]any) {
		if f.(map[string]any)["name"] != name {
			keep = append(keep, f)
		}
	}
	rec["fields"] = keep
}

func setFieldType(rec map[string]any, name string, typ any) {
	for _, f := range rec["fields"].([]any) {
		if fm := f.(map[string]any); fm["name"] == name {
			fm["type"] = typ
		}
	}
}

// eventV2 adds an optional envelope field, an optional InvoiceIssued
// field, a new event kind (a union branch) and drops Hold.reason (which
// has a default in ours).
func eventV2(t testing.TB) string {
	return evolve(t, EventSchema, func(top map[string]any, rec func(string) map[string]any) {
		addField(top, map[string]any{"name": "trace_id", "type": []any{"null", "string"}, "default": nil})
		addField(rec("InvoiceIssued"), map[string]any{"name": "po_number", "type": []any{"null", "string"}, "default": nil})
		dropField(rec("Hold"), "reason")
		for _, f := range top["fields"].([]any) {
			if fm := f.(map[string]any); fm["name"] == "payload" {
				fm["type"] = append(fm["type"].([]any), map[string]any{"type": "record", "name": "InvoiceVoided",
					"fields": []any{map[string]any{"name": "invoice_id", "type": "string"}}})
			}
		}
	})
}

// writeWith encodes ev with writer schema text (goavro), adding extra
// native fields to the envelope and body; header is the framing.
func writeWith(t testing.TB, text string, header []byte, ev event.Event, extra, bodyExtra map[string]any) []byte {
	t.Helper()
	codec, err := goavro.NewCodec(text)
	if err != nil {
		t.Fatal(err)
	}
	native, err := eventToNative(ev)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range extra {
		native[k] = v
	}
	for _, body := range native["payload"].(map[string]any) {
		for k, v := range bodyExtra {
			body.(map[string]any)[k] = v
		}
	}
	b, err := codec.BinaryFromNative(header, native)
	if err != nil {
		t.Fatalf("goavro: %v", err)
	}
	return b
}

func singleHeader(t testing.TB, text string) []byte {
	fp, err := SpecFingerprint(text)
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, fp)
}

func knownWritersDir(t testing.TB, files map[string]string) string {
	dir := t.TempDir()
	for n, text := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestKnownWriterEvolution: single-object records of a newer writer schema
// (known_writers) decode to what ours would give; without the directory
// they are unknown; a record of the writer's new event kind is refused
// alone, naming the field.
func TestKnownWriterEvolution(t *testing.T) {
	ctx := context.Background()
	v2 := eventV2(t)
	c := newCodec(t, Config{KnownWriters: knownWritersDir(t, map[string]string{"ar_event.v2.avsc": v2})})
	plain := newCodec(t, Config{})
	hdr := singleHeader(t, v2)
	for name, ev := range sampleEvents() {
		var bodyExtra map[string]any
		want := ev
		switch b := ev.Body.(type) {
		case *event.InvoiceIssued:
			bodyExtra = map[string]any{"po_number": goavro.Union("string", "PO-7")}
		case *event.Hold:
			h := *b
			h.Reason = "" // the writer has no reason: ours defaults to null
			want.Body = &h
		}
		rec := writeWith(t, v2, hdr, ev, map[string]any{"trace_id": goavro.Union("string", "tr-1")}, bodyExtra)
		got, err := c.DecodeEvent(ctx, rec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %+v, %v; want %+v", name, got, err, want)
		}
		if _, err := plain.DecodeEvent(ctx, rec); !errors.Is(err, ErrUnknownSchema) {
			t.Errorf("%s without known_writers: %v, want unknown schema", name, err)
		}
	}
	codec, _ := goavro.NewCodec(v2)
	voided, err := codec.BinaryFromNative(hdr, map[string]any{"event_id": "e", "event_time": t0, "source": "s",
		"account_id": "A", "trace_id": nil, "payload": goavro.Union("arrears.InvoiceVoided", map[string]any{"invoice_id": "I"})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DecodeEvent(ctx, voided)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "payload" || !errors.Is(err, ErrInvalidField) || !strings.Contains(err.Error(), "InvoiceVoided") {
		t.Fatalf("new kind: %v", err)
	}
}

// incompatibleV2 are writer schemas arrears cannot read, with the field
// the refusal must name.
func incompatibleV2(t testing.TB) map[string]struct{ text, field string } {
	return map[string]struct{ text, field string }{
		"required field removed": {evolve(t, EventSchema, func(_ map[string]any, rec func(string) map[string]any) {
			dropField(rec("InvoiceIssued"), "due_date")
		}), "payload.InvoiceIssued: field due_date"},
		"type changed": {evolve(t, EventSchema, func(_ map[string]any, rec func(string) map[string]any) {
			setFieldType(rec("PaymentReceived"), "payment_id", "long")
		}), "payload.PaymentReceived: field payment_id"},
		"optional type changed": {evolve(t, EventSchema, func(_ map[string]any, rec func(string) map[string]any) {
			setFieldType(rec("Refund"), "payment_id", []any{"null", "int"})
		}), "payload.Refund: field payment_id"},
		"envelope field removed": {evolve(t, EventSchema, func(top map[string]any, _ func(string) map[string]any) {
			dropField(top, "source")
		}), "field source"},
	}
}

// TestIncompatibleWriter: an incompatible writer schema is refused at
// start in known_writers, and for every record when a registry serves it,
// with ErrIncompatibleSchema, INCOMPATIBLE_SCHEMA and the field named.
func TestIncompatibleWriter(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	c := newCodec(t, Config{RegistryURL: reg.URL()})
	admin, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range incompatibleV2(t) {
		_, err := New(Config{KnownWriters: knownWritersDir(t, map[string]string{"bad.avsc": tc.text})})
		if err == nil || !errors.Is(err, ErrIncompatibleSchema) || !strings.Contains(err.Error(), "bad.avsc") ||
			!strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: known_writers: %v", name, err)
		}
		ss, err := admin.CreateSchema(ctx, "ar.events-value-"+strings.ReplaceAll(name, " ", "-"), sr.Schema{Schema: tc.text, Type: sr.TypeAvro})
		if err != nil {
			t.Fatal(err)
		}
		rec := binary.BigEndian.AppendUint32([]byte{0}, uint32(ss.ID))
		rec = append(rec, 0, 0, 0) // the body is not even read
		for range 2 {
			_, err = c.DecodeEvent(ctx, rec)
			if !errors.Is(err, ErrIncompatibleSchema) || Code(err) != CodeIncompatible || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("%s: registry: %v (code %s)", name, err, Code(err))
			}
		}
	}
}

// TestRegistryWriterEvolution: Confluent-framed records whose id resolves
// to a newer compatible writer decode as ours would; the writer is parsed
// and resolved once for all its records (and ids naming the same text).
func TestRegistryWriterEvolution(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	admin, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	v2 := eventV2(t)
	ss, err := admin.CreateSchema(ctx, "ar.events-value", sr.Schema{Schema: v2, Type: sr.TypeAvro})
	if err != nil {
		t.Fatal(err)
	}
	c := newCodec(t, Config{RegistryURL: reg.URL()})
	hdr := binary.BigEndian.AppendUint32([]byte{0}, uint32(ss.ID))
	ev := sampleEvents()["invoice_issued"]
	var first *schema
	for i := range 3 {
		rec := writeWith(t, v2, hdr, ev, map[string]any{"trace_id": nil}, map[string]any{"po_number": nil})
		got, err := c.DecodeEvent(ctx, rec)
		if err != nil || !reflect.DeepEqual(got, ev) {
			t.Fatalf("decoded %+v, %v", got, err)
		}
		s, _ := c.schemaByID(ctx, ss.ID)
		if i == 0 {
			first = s
		}
		if s != first || s.resolve == nil {
			t.Fatalf("writer schema not cached with its resolution")
		}
	}
}

// TestResolutionRules: defaults of every kind fill reader fields the
// writer lacks; promotions and plain-to-logical reads convert; enum and
// union branches the reader lacks fail only the records using them.
func TestResolutionRules(t *testing.T) {
	ctx := context.Background()
	// A status writer without most defaulted fields, with the clock as a
	// plain long and the open count as int (ours: int).
	old := evolve(t, StatusSchema, func(top map[string]any, rec func(string) map[string]any) {
		for _, f := range []string{"unknown_invoice_refs", "closed", "segment", "balances", "days_past_due", "oldest_due_date"} {
			dropField(top, f)
		}
		setFieldType(top, "event_time", "long")
		setFieldType(top, "pd", "float")
		setFieldType(top, "state", "string")
	})
	c := newCodec(t, Config{KnownWriters: knownWritersDir(t, map[string]string{"status.avsc": old})})
	st := sampleStatus()
	st.PD = 0.5 // exact as a float
	native := statusNative(st)
	codec, err := goavro.NewCodec(old)
	if err != nil {
		t.Fatal(err)
	}
	native["event_time"] = st.Time.UnixMilli()
	native["pd"] = float32(st.PD)
	native["state"] = string(st.State)
	b, err := codec.BinaryFromNative(singleHeader(t, old), native)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeStatus(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	want := *st
	want.UnknownInvoiceRefs, want.Closed, want.Segment, want.Balances, want.DaysPastDue = 0, false, "", nil, 0
	want.OldestDueDate = d("1970-01-01")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n %+v\nwant\n %+v", got, want)
	}

	// Every default of every owned schema converts to a native value.
	for _, name := range Names() {
		text, _ := Schema(name)
		r, err := parseAvro(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := defaultsOf(r); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// defaultsOf converts the default of every field of record r (and of the
// records it contains).
func defaultsOf(r *avroType) (int, error) {
	n := 0
	seen := map[*avroType]bool{}
	var walk func(t *avroType) error
	walk = func(t *avroType) error {
		if seen[t] {
			return nil
		}
		seen[t] = true
		for _, f := range t.fields {
			if f.hasDef {
				if _, err := defaultNative(f.typ, f.def); err != nil {
					return errors.New(f.name + ": " + err.Error())
				}
				n++
			}
			if err := walk(f.typ); err != nil {
				return err
			}
		}
		for _, b := range t.union {
			if err := walk(b); err != nil {
				return err
			}
		}
		if t.items != nil {
			return walk(t.items)
		}
		return nil
	}
	return n, walk(r)
}

// TestSchemaCacheBounded: a registry serving many writer schemas (and many
// unknown ids) does not grow the codec beyond max_schema_ids; forgotten
// ids are fetched again and still decode.
func TestSchemaCacheBounded(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	admin, err := sr.NewClient(sr.URLs(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	const max = 5
	c := newCodec(t, Config{RegistryURL: reg.URL(), MaxSchemaIDs: max})
	ev := sampleEvents()["release"]
	var recs [][]byte
	for i := range 3 * max {
		text := evolve(t, EventSchema, func(top map[string]any, _ func(string) map[string]any) {
			addField(top, map[string]any{"name": "x" + strings.Repeat("x", i), "type": "int", "default": i})
		})
		ss, err := admin.CreateSchema(ctx, "ar.events-value", sr.Schema{Schema: text, Type: sr.TypeAvro})
		if err != nil {
			t.Fatal(err)
		}
		hdr := binary.BigEndian.AppendUint32([]byte{0}, uint32(ss.ID))
		recs = append(recs, writeWith(t, text, hdr, ev, map[string]any{"x" + strings.Repeat("x", i): int32(i)}, nil))
	}
	for round := range 2 {
		for i, rec := range recs {
			if got, err := c.DecodeEvent(ctx, rec); err != nil || !reflect.DeepEqual(got, ev) {
				t.Fatalf("round %d, writer %d: %+v, %v", round, i, got, err)
			}
			if n := len(c.byID); n > max {
				t.Fatalf("%d schema ids cached, max %d", n, max)
			}
		}
	}
	for id := 1000; id < 1000+3*max; id++ {
		rec := binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
		if _, err := c.DecodeEvent(ctx, append(rec, 0)); !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("id %d: %v", id, err)
		}
		if n := len(c.unknown); n > max {
			t.Fatalf("%d unknown ids remembered, max %d", n, max)
		}
	}
}

// TestKnownWriterGoavroFingerprint: a Go producer using goavro's
// SingleFromNative writes goavro's fingerprint of its schema; a known
// writer is accepted under that one too.
func TestKnownWriterGoavroFingerprint(t *testing.T) {
	v2 := eventV2(t)
	c := newCodec(t, Config{KnownWriters: knownWritersDir(t, map[string]string{"v2.avsc": v2, "README": "not a schema"})})
	codec, err := goavro.NewCodec(v2)
	if err != nil {
		t.Fatal(err)
	}
	ev := sampleEvents()["release"]
	native, _ := eventToNative(ev)
	native["trace_id"] = nil
	rec, err := codec.SingleFromNative(nil, native)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.DecodeEvent(context.Background(), rec); err != nil || !reflect.DeepEqual(got, ev) {
		t.Fatalf("%+v, %v", got, err)
	}
	for _, bad := range []map[string]string{{"x.avsc": `{"type":"record","name":"other.R","fields":[]}`}, {"y.avsc": `{`}} {
		if _, err := New(Config{KnownWriters: knownWritersDir(t, bad)}); err == nil || !strings.Contains(err.Error(), "known_writers") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := New(Config{KnownWriters: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing known_writers directory was accepted")
	}
}

// FuzzDecodeEvolved: any record under a known writer's fingerprint (a v2
// with an added field, a new union branch and a dropped defaulted field)
// decodes through the resolution or fails with a typed error, never
// panics; what decodes re-encodes with our schema and decodes the same.
func FuzzDecodeEvolved(f *testing.F) {
	v2 := eventV2(f)
	hdr := singleHeader(f, v2)
	for _, ev := range sampleEvents() {
		f.Add(writeWith(f, v2, hdr, ev, map[string]any{"trace_id": goavro.Union("string", "t")}, nil))
	}
	c, err := New(Config{KnownWriters: knownWritersDir(f, map[string]string{"v2.avsc": v2})})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := c.DecodeEvent(ctx, b)
		if err != nil {
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		ours, err := c.EncodeEvent(ctx, "t", ev)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", ev, err)
		}
		if back, err := c.DecodeEvent(ctx, ours); err != nil || !reflect.DeepEqual(back, ev) {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", ev, back, err)
		}
	})
}

// TestWriterNullable: a writer that made a required field of ours
// optional (with a logical type in the union) is read: records with a
// value decode, records with null fail alone with MISSING_FIELD naming it.
func TestWriterNullable(t *testing.T) {
	ctx := context.Background()
	w := evolve(t, EventSchema, func(_ map[string]any, rec func(string) map[string]any) {
		setFieldType(rec("Hold"), "until", []any{"null", map[string]any{"type": "long", "logicalType": "timestamp-millis"}})
	})
	c := newCodec(t, Config{KnownWriters: knownWritersDir(t, map[string]string{"w.avsc": w})})
	ev := sampleEvents()["hold"]
	until := ev.Body.(*event.Hold).Until
	for _, tc := range []struct {
		v    any
		code string
	}{{goavro.Union("long.timestamp-millis", until), ""}, {nil, CodeMissingField}} {
		rec := writeWith(t, w, singleHeader(t, w), ev, nil, map[string]any{"until": tc.v})
		got, err := c.DecodeEvent(ctx, rec)
		if Code(err) != tc.code || tc.code == "" && !reflect.DeepEqual(got, ev) {
			t.Errorf("until %v: %+v, %v; want code %q", tc.v, got, err, tc.code)
		}
		var fe *FieldError
		if tc.code != "" && (!errors.As(err, &fe) || fe.Field != "until" || fe.Path != "payload.Hold") {
			t.Errorf("until null: %v does not name payload.Hold until", err)
		}
	}
}
