package schemas

import (
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
	typed := []error{ErrMalformed, ErrUnknownSchema, ErrWrongSchema, ErrMissingField, ErrWrongType, ErrInvalidField}
	isTyped := func(err error) bool {
		for _, s := range typed {
			if errors.Is(err, s) {
				return true
			}
		}
		return false
	}
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
	m, err := c.decodeNative(ctx, b, EventSchema)
	if err != nil {
		return event.Event{}, err
	}
	return eventFromNative(m)
}
