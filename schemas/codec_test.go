package schemas

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func newCodec(t testing.TB, cfg Config) *Codec {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestSamplesCoverEveryKind(t *testing.T) {
	seen := map[event.Kind]bool{}
	for _, ev := range sampleEvents() {
		seen[ev.Body.Kind()] = true
	}
	for _, k := range event.Kinds() {
		if !seen[k] {
			t.Errorf("no sample for %s", k)
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	formats := map[string]*Codec{
		"single-object": newCodec(t, Config{}),
		"confluent":     newCodec(t, Config{RegistryURL: reg.URL()}),
	}
	// A fresh codec on the same registry must fetch the schema by id.
	reader := newCodec(t, Config{RegistryURL: reg.URL()})
	for _, name := range sortedNames(sampleEvents()) {
		want := sampleEvents()[name]
		for fname, c := range formats {
			b, err := c.EncodeEvent(ctx, "ar.events", want)
			if err != nil {
				t.Fatalf("%s %s: encode: %v", name, fname, err)
			}
			wantFormat := FormatSingle
			if fname == "confluent" {
				wantFormat = FormatConfluent
			}
			if f := DetectFormat(b); f != wantFormat {
				t.Errorf("%s %s: format %s", name, fname, f)
			}
			for _, dc := range []*Codec{c, reader} {
				got, err := dc.DecodeEvent(ctx, b)
				if err != nil {
					t.Fatalf("%s %s: decode: %v", name, fname, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s %s:\n got %+v %+v\nwant %+v %+v", name, fname, got, got.Body, want, want.Body)
				}
			}
		}
		j, err := EncodeEventJSON(want)
		if err != nil {
			t.Fatalf("%s: json: %v", name, err)
		}
		got, err := formats["single-object"].DecodeEvent(ctx, j)
		if err != nil {
			t.Fatalf("%s: decode json %s: %v", name, j, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s json:\n got %+v %+v\nwant %+v %+v", name, got, got.Body, want, want.Body)
		}
	}
}

func TestEventZeroValuesRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	for _, k := range event.Kinds() {
		var body event.Body
		switch k {
		case event.KindInvoiceAdjusted:
			body = &event.InvoiceAdjusted{Type: event.Debit}
		case event.KindDisputeResolved:
			body = &event.DisputeResolved{Outcome: event.Upheld}
		case event.KindArrangementCreated:
			body = &event.ArrangementCreated{Type: event.Promise}
		case event.KindAccountUpserted:
			body = &event.AccountUpserted{Segment: event.Prepaid}
		case event.KindCallLogged:
			body = &event.CallLogged{Outcome: event.CallReached}
		case event.KindAgencyReturned:
			body = &event.AgencyReturned{Outcome: event.AgencyRecovered}
		case event.KindLegalCaseUpdated:
			body = &event.LegalCaseUpdated{Status: event.LegalOpened}
		default:
			for _, ev := range sampleEvents() {
				if ev.Body.Kind() == k {
					body = reflect.New(reflect.TypeOf(ev.Body).Elem()).Interface().(event.Body)
				}
			}
		}
		want := event.Event{Time: t0, Body: body}
		b, err := c.EncodeEvent(ctx, "ar.events", want)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		// The wire round trip holds; the decoder's checks then refuse
		// the empty ids (and currencies) as a producer's mistake.
		got, err := decodeEventFast(b[soeHeader:], 0)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", k, got.Body, want.Body)
		}
		if _, err := c.DecodeEvent(ctx, b); Code(err) != CodeInvalidID {
			t.Errorf("%s with empty ids: %v (code %q), want %s", k, err, Code(err), CodeInvalidID)
		}
	}
}

// TestGolden pins the wire bytes: testdata/<kind>.json is EncodeEventJSON's
// output and <kind>.bin the single-object encoding. Run with -update to
// regenerate after a deliberate schema change.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	for _, name := range sortedNames(sampleEvents()) {
		ev := sampleEvents()[name]
		j, err := EncodeEventJSON(ev)
		if err != nil {
			t.Fatal(err)
		}
		j = append(j, '\n')
		bin, err := c.EncodeEvent(ctx, "ar.events", ev)
		if err != nil {
			t.Fatal(err)
		}
		for ext, data := range map[string][]byte{".json": j, ".bin": bin} {
			path := filepath.Join("testdata", name+ext)
			if *update {
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./schemas -run TestGolden -update)", err)
			}
			if !bytes.Equal(golden, data) {
				t.Errorf("%s: encoding changed; if intended, run with -update\n got %q\nwant %q", path, data, golden)
			}
			got, err := c.DecodeEvent(ctx, golden)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !reflect.DeepEqual(got, ev) {
				t.Errorf("%s decodes to %+v %+v", path, got, got.Body)
			}
		}
	}
}

type outCase struct {
	name   string
	schema string
	want   any
	native func() map[string]any
	enc    func(c *Codec, ctx context.Context, topic string) ([]byte, error)
	dec    func(c *Codec, ctx context.Context, b []byte) (any, error)
}

func outCases() []outCase {
	return []outCase{
		{"action", ActionSchema, *sampleAction(), func() map[string]any { return actionNative(sampleAction()) },
			func(c *Codec, ctx context.Context, topic string) ([]byte, error) {
				return c.EncodeAction(ctx, topic, sampleAction())
			},
			func(c *Codec, ctx context.Context, b []byte) (any, error) { return c.DecodeAction(ctx, b) }},
		{"risk", RiskSchema, *sampleRisk(), func() map[string]any { return riskNative(sampleRisk()) },
			func(c *Codec, ctx context.Context, topic string) ([]byte, error) {
				return c.EncodeRisk(ctx, topic, sampleRisk())
			},
			func(c *Codec, ctx context.Context, b []byte) (any, error) { return c.DecodeRisk(ctx, b) }},
		{"status", StatusSchema, *sampleStatus(), func() map[string]any { return statusNative(sampleStatus()) },
			func(c *Codec, ctx context.Context, topic string) ([]byte, error) {
				return c.EncodeStatus(ctx, topic, sampleStatus())
			},
			func(c *Codec, ctx context.Context, b []byte) (any, error) { return c.DecodeStatus(ctx, b) }},
		{"gl", GLSchema, *sampleGL(), func() map[string]any { return glNative(sampleGL()) },
			func(c *Codec, ctx context.Context, topic string) ([]byte, error) {
				return c.EncodeGL(ctx, topic, sampleGL())
			},
			func(c *Codec, ctx context.Context, b []byte) (any, error) { return c.DecodeGL(ctx, b) }},
		{"dead-letter", DeadLetterSchema, *sampleDeadLetter(), func() map[string]any { return deadLetterNative(sampleDeadLetter()) },
			func(c *Codec, ctx context.Context, topic string) ([]byte, error) {
				return c.EncodeDeadLetter(ctx, topic, sampleDeadLetter())
			},
			func(c *Codec, ctx context.Context, b []byte) (any, error) { return c.DecodeDeadLetter(ctx, b) }},
	}
}

func TestOutputRoundTrip(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	plain := newCodec(t, Config{})
	withReg := newCodec(t, Config{RegistryURL: reg.URL()})
	reader := newCodec(t, Config{RegistryURL: reg.URL()})
	for _, tc := range outCases() {
		single, err := tc.enc(plain, ctx, "out")
		if err != nil {
			t.Fatalf("%s single: %v", tc.name, err)
		}
		confluent, err := tc.enc(withReg, ctx, "out."+tc.name)
		if err != nil {
			t.Fatalf("%s confluent: %v", tc.name, err)
		}
		if _, ok := reg.GetSchema("out."+tc.name+"-value", 1); !ok {
			t.Errorf("%s: subject out.%s-value not registered", tc.name, tc.name)
		}
		js, err := encodeJSON(tc.schema, tc.native())
		if err != nil {
			t.Fatalf("%s json: %v", tc.name, err)
		}
		for format, b := range map[string][]byte{"single": single, "confluent": confluent, "json": js} {
			got, err := tc.dec(reader, ctx, b)
			if err != nil {
				t.Fatalf("%s %s: decode: %v", tc.name, format, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s %s:\n got %+v\nwant %+v", tc.name, format, got, tc.want)
			}
		}
		// A record of one type is never silently read as another.
		if _, err := reader.DecodeEvent(ctx, single); !errors.Is(err, ErrWrongSchema) {
			t.Errorf("%s read as event: %v, want ErrWrongSchema", tc.name, err)
		}
	}
}

func TestEncodeNil(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	var nilInvoice *event.InvoiceIssued
	for name, fn := range map[string]func() error{
		"event":    func() error { _, err := c.EncodeEvent(ctx, "t", event.Event{}); return err },
		"nil body": func() error { _, err := c.EncodeEvent(ctx, "t", event.Event{Body: nilInvoice}); return err },
		"bad enum": func() error {
			_, err := c.EncodeEvent(ctx, "t", event.Event{Body: &event.InvoiceAdjusted{}})
			return err
		},
		"action":      func() error { _, err := c.EncodeAction(ctx, "t", nil); return err },
		"risk":        func() error { _, err := c.EncodeRisk(ctx, "t", nil); return err },
		"status":      func() error { _, err := c.EncodeStatus(ctx, "t", nil); return err },
		"gl":          func() error { _, err := c.EncodeGL(ctx, "t", nil); return err },
		"dead letter": func() error { _, err := c.EncodeDeadLetter(ctx, "t", nil); return err },
		"action type": func() error {
			_, err := c.EncodeAction(ctx, "t", &event.DunningAction{Type: "EXPLODE"})
			return err
		},
	} {
		if err := fn(); !errors.Is(err, ErrEncode) {
			t.Errorf("%s: %v, want ErrEncode", name, err)
		}
	}
}

func TestSchemasExported(t *testing.T) {
	for _, name := range Names() {
		text, ok := Schema(name)
		if !ok || recordName(text) != name {
			t.Errorf("Schema(%s): %v %q", name, ok, recordName(text))
		}
		if fp, ok := Fingerprint(name); !ok || fp == 0 {
			t.Errorf("Fingerprint(%s) = %#x, %v", name, fp, ok)
		}
	}
	if _, ok := Schema("arrears.Nope"); ok {
		t.Error("unknown schema name found")
	}
}

// TestFastEncodersMatchGoavro: the hand-written encoders write exactly the
// bytes goavro writes, for full and for zero values.
func TestFastEncodersMatchGoavro(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	type pair struct {
		name   string
		schema string
		native map[string]any
		fast   func() ([]byte, error)
	}
	zeroAction := &event.DunningAction{Type: event.ActionFee}
	pairs := []pair{
		{"zero action", ActionSchema, actionNative(zeroAction), func() ([]byte, error) { return c.EncodeAction(ctx, "t", zeroAction) }},
		{"zero risk", RiskSchema, riskNative(&event.RiskEvent{}), func() ([]byte, error) { return c.EncodeRisk(ctx, "t", &event.RiskEvent{}) }},
		{"zero status", StatusSchema, statusNative(&event.AccountStatus{}), func() ([]byte, error) { return c.EncodeStatus(ctx, "t", &event.AccountStatus{}) }},
		{"zero gl", GLSchema, glNative(&event.GLEntry{}), func() ([]byte, error) { return c.EncodeGL(ctx, "t", &event.GLEntry{}) }},
		{"zero dead letter", DeadLetterSchema, deadLetterNative(&event.DeadLetter{}), func() ([]byte, error) {
			return c.EncodeDeadLetter(ctx, "t", &event.DeadLetter{})
		}},
	}
	for _, tc := range outCases() {
		pairs = append(pairs, pair{tc.name, tc.schema, tc.native(), func() ([]byte, error) { return tc.enc(c, ctx, "t") }})
	}
	for _, amt := range []event.Amount{0, -1, 127, 128, -128, -129, 255, 256, -256, math.MaxInt64, math.MinInt64} {
		ev := event.Event{Time: t0, Body: &event.Refund{Amount: amt}}
		native, _ := eventToNative(ev)
		pairs = append(pairs, pair{"refund " + amt.String(), EventSchema, native, func() ([]byte, error) { return c.EncodeEvent(ctx, "t", ev) }})
	}
	for _, p := range pairs {
		fp, _ := Fingerprint(p.schema)
		want := binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, fp) // goavro's header has its own fingerprint
		want, err := builtins()[p.schema].codec.BinaryFromNative(want, p.native)
		if err != nil {
			t.Fatalf("%s: goavro: %v", p.name, err)
		}
		got, err := p.fast()
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", p.name, got, want)
		}
	}
}

// TestFastOutputsAgree: for every output sample, and the same with every
// optional field and list empty, the hand-written decoders (fastoutput.go)
// give exactly what goavro's path gives, and are the path taken for
// records of our own schema.
func TestFastOutputsAgree(t *testing.T) {
	ctx := context.Background()
	fast := newCodec(t, Config{})
	slow := newCodec(t, Config{})
	slow.slowOutputs = true
	for _, tc := range outCases() {
		b, err := tc.enc(fast, ctx, "out")
		if err != nil {
			t.Fatal(err)
		}
		got, err := tc.dec(fast, ctx, b)
		if err != nil {
			t.Fatalf("%s fast: %v", tc.name, err)
		}
		want, err := tc.dec(slow, ctx, b)
		if err != nil || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: fast %+v\nslow %+v (%v)", tc.name, got, want, err)
		}
		if _, err := tc.dec(fast, ctx, append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%s: a trailing byte decoded", tc.name)
		}
		if tc.name == "dead-letter" {
			continue // no hand-written decoder: the sink lands few
		}
		// The hand-written path is the one taken: it allocates a fraction
		// of what goavro's maps do (counted, not timed).
		fa := testing.AllocsPerRun(20, func() { _, _ = tc.dec(fast, ctx, b) })
		sa := testing.AllocsPerRun(20, func() { _, _ = tc.dec(slow, ctx, b) })
		if fa*3 > sa {
			t.Errorf("%s: %.0f allocations a decode, goavro's path %.0f", tc.name, fa, sa)
		}
		t.Logf("%s: %.0f allocations a decode (goavro's path %.0f)", tc.name, fa, sa)
	}
	sparse := []struct {
		name string
		enc  func() ([]byte, error)
	}{
		{"action", func() ([]byte, error) {
			return fast.EncodeAction(ctx, "o", &event.DunningAction{ActionID: "a", Type: event.ActionRestore, Time: time.UnixMilli(1).UTC()})
		}},
		{"risk", func() ([]byte, error) { return fast.EncodeRisk(ctx, "o", &event.RiskEvent{EventID: "r", Tier: "LOW"}) }},
		{"status", func() ([]byte, error) { return fast.EncodeStatus(ctx, "o", &event.AccountStatus{Account: "A"}) }},
		{"gl", func() ([]byte, error) { return fast.EncodeGL(ctx, "o", &event.GLEntry{EntryID: "g"}) }},
	}
	for _, sp := range sparse {
		b, err := sp.enc()
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range outCases() {
			if tc.name != sp.name {
				continue
			}
			got, err1 := tc.dec(fast, ctx, b)
			want, err2 := tc.dec(slow, ctx, b)
			if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("sparse %s: fast %+v (%v)\nslow %+v (%v)", sp.name, got, err1, want, err2)
			}
		}
	}
}

// TestEncodeStatusState: the state slice EncodeStatusState returns is the
// status record's own copy of s.State, in either wire format, and the
// record is EncodeStatus's.
func TestEncodeStatusState(t *testing.T) {
	ctx := context.Background()
	reg := srfake.New()
	defer reg.Close()
	for fname, c := range map[string]*Codec{"single-object": newCodec(t, Config{}), "confluent": newCodec(t, Config{RegistryURL: reg.URL()})} {
		for _, state := range [][]byte{nil, {7}, bytes.Repeat([]byte{0xab, 0}, 300)} {
			s := sampleStatus()
			s.State = state
			v, got, err := c.EncodeStatusState(ctx, "ar.account.status", s)
			if err != nil {
				t.Fatalf("%s: %v", fname, err)
			}
			if !bytes.Equal(got, state) || len(got) != len(state) {
				t.Fatalf("%s, state of %d bytes: the slice is %x", fname, len(state), got)
			}
			if len(got) > 0 && &got[0] == &state[0] {
				t.Fatalf("%s: the slice is the caller's state, not the record's copy", fname)
			}
			if plain, err := c.EncodeStatus(ctx, "ar.account.status", s); err != nil || !bytes.Equal(plain, v) {
				t.Fatalf("%s: EncodeStatus gave %x (%v), EncodeStatusState %x", fname, plain, err, v)
			}
			back, err := c.DecodeStatus(ctx, v)
			if err != nil || !bytes.Equal(back.State, state) {
				t.Fatalf("%s: decoded state %x (%v), want %x", fname, back.State, err, state)
			}
			if cap(got) != len(got) {
				t.Fatalf("%s: the slice's capacity %d reaches past the state (%d bytes)", fname, cap(got), len(got))
			}
		}
	}
}
