package schemas

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// FuzzDecodeEvent: any input decodes or fails with a typed error, never
// panics; whatever decodes re-encodes and decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && (filepath.Ext(p) == ".bin" || filepath.Ext(p) == ".json") {
			f.Add(b)
			if filepath.Ext(p) == ".bin" {
				f.Add(confluentFrame(1, b[soeHeader:]))
			}
		}
	}
	c, err := New(Config{KnownIDs: map[int]string{1: EventSchema}})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := c.DecodeEvent(ctx, b)
		slow, slowErr := c.decodeEventSlow(ctx, b)
		if slowErr != nil && !isTyped(slowErr) {
			t.Fatalf("untyped error (goavro path): %v", slowErr)
		}
		if err != nil {
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			// The fast path is stricter than goavro about varints; what
			// goavro accepts must still decode the same once re-encoded.
			if slowErr == nil {
				again, encErr := c.EncodeEvent(ctx, "ar.events", slow)
				if encErr != nil {
					t.Fatalf("re-encode %+v: %v", slow, encErr)
				}
				fast, fastErr := c.DecodeEvent(ctx, again)
				if fastErr != nil || !reflect.DeepEqual(fast, slow) {
					t.Fatalf("paths disagree on re-encoded record: %v\n%+v\n%+v", fastErr, fast, slow)
				}
			}
			return
		}
		if slowErr != nil || !reflect.DeepEqual(ev, slow) {
			t.Fatalf("fast path accepted what goavro did not or decoded differently: %v\nfast %+v %+v\nslow %+v", slowErr, ev, ev.Body, slow)
		}
		again, err := c.EncodeEvent(ctx, "ar.events", ev)
		if err != nil {
			// Decoding is lenient about values encoding refuses (a zero
			// enum never decodes, so this means a bug).
			t.Fatalf("re-encode %+v: %v", ev, err)
		}
		ev2, err := c.DecodeEvent(ctx, again)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		if !reflect.DeepEqual(ev.Body, ev2.Body) || ev.ID != ev2.ID || !ev.Time.Equal(ev2.Time) {
			t.Fatalf("round trip changed\n%+v %+v\n%+v %+v", ev, ev.Body, ev2, ev2.Body)
		}
	})
}

// decodeEventSlow is DecodeEvent through goavro only, for tests comparing
// it with the fast path.
func (c *Codec) decodeEventSlow(ctx context.Context, b []byte) (event.Event, error) {
	return c.decodeEvent(ctx, b, false)
}

// isTyped: err wraps exactly one of the sentinels a decoder may return and
// has a dead-letter code.
func isTyped(err error) bool {
	n := 0
	for _, s := range []error{ErrMalformed, ErrUnknownSchema, ErrWrongSchema, ErrMissingField, ErrWrongType, ErrInvalidField, ErrIncompatibleSchema} {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1 && Code(err) != ""
}

// The output decoders' fuzz targets: any input decodes or fails with a
// typed error, never panics or allocates without bound (goavro reads them);
// whatever decodes re-encodes to bytes that decode and re-encode to the
// same bytes (bytes, not values: a NaN pd is not DeepEqual to itself).

func FuzzDecodeStatus(f *testing.F)     { fuzzOutput(f, "status", (*Codec).EncodeStatus) }
func FuzzDecodeAction(f *testing.F)     { fuzzOutput(f, "action", (*Codec).EncodeAction) }
func FuzzDecodeRisk(f *testing.F)       { fuzzOutput(f, "risk", (*Codec).EncodeRisk) }
func FuzzDecodeGL(f *testing.F)         { fuzzOutput(f, "gl", (*Codec).EncodeGL) }
func FuzzDecodeDeadLetter(f *testing.F) { fuzzOutput(f, "dead-letter", (*Codec).EncodeDeadLetter) }

// fuzzOutput runs the output-decoder property for outCases()'s name,
// seeded with its sample in every wire format (and testdata/fuzz/<Target>).
func fuzzOutput[T any](f *testing.F, name string, encode func(*Codec, context.Context, string, *T) ([]byte, error)) {
	ctx := context.Background()
	c, err := New(Config{KnownIDs: map[int]string{1: DeadLetterSchema, 2: StatusSchema, 3: ActionSchema, 4: RiskSchema, 5: GLSchema}})
	if err != nil {
		f.Fatal(err)
	}
	slow, _ := New(c.cfg)
	slow.slowOutputs = true
	var tc outCase
	for _, oc := range outCases() {
		if oc.name == name {
			tc = oc
		}
	}
	single, err := tc.enc(c, ctx, "t")
	if err != nil {
		f.Fatal(err)
	}
	js, err := encodeJSON(tc.schema, tc.native())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(single)
	f.Add(js)
	for id, known := range c.cfg.KnownIDs {
		if known == tc.schema {
			f.Add(confluentFrame(id, single[soeHeader:]))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := tc.dec(c, ctx, b)
		// The hand-written decoders (fastoutput.go) take what goavro takes,
		// to the same value, but for varints and ints goavro is lenient
		// about: what goavro alone accepts must decode the same once
		// re-encoded.
		same := func(a, b any) bool { // by bytes: a NaN pd is not DeepEqual to itself
			x, y := a.(T), b.(T)
			bx, _ := encode(c, ctx, "t", &x)
			by, _ := encode(c, ctx, "t", &y)
			return bytes.Equal(bx, by)
		}
		sv, serr := tc.dec(slow, ctx, b)
		switch {
		case err == nil && serr != nil:
			t.Fatalf("the hand-written decoder accepted what goavro refuses (%v): %+v", serr, v)
		case err == nil:
			if !same(v, sv) {
				t.Fatalf("hand-written and goavro decoders differ:\n%+v\n%+v", v, sv)
			}
		case serr == nil:
			y := sv.(T)
			again, encErr := encode(c, ctx, "t", &y)
			if encErr != nil {
				break // goavro took a value our encoders refuse (an unknown enum symbol cannot be one)
			}
			v2, err2 := tc.dec(c, ctx, again)
			y2, _ := tc.dec(slow, ctx, again)
			if err2 != nil || !same(v2, y2) {
				t.Fatalf("paths disagree on the re-encoded record: %v\n%+v\n%+v", err2, v2, y2)
			}
		}
		if err != nil {
			if !isTyped(err) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		x := v.(T)
		again, err := encode(c, ctx, "t", &x)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", v, err)
		}
		v2, err := tc.dec(c, ctx, again)
		if err != nil {
			t.Fatalf("decode re-encoded: %v", err)
		}
		y := v2.(T)
		third, err := encode(c, ctx, "t", &y)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("round trip changed: %v\n%+v\n%+v", err, v, v2)
		}
	})
}
