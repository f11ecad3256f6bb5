package schemas

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/linkedin/goavro/v2"
)

// soeFrame frames an Avro body in single-object encoding for schema name.
func soeFrame(name string, body []byte) []byte {
	fp, _ := Fingerprint(name)
	b := binary.LittleEndian.AppendUint64([]byte{0xC3, 0x01}, fp)
	return append(b, body...)
}

// zigzag is the Avro varint of v.
func zigzag(v int64) []byte {
	w := &avroWriter{}
	w.long(v)
	return w.b
}

// TestForgedBlockCounts: a record that claims an array of 2^31-1 items
// (the 26-byte status record) is refused as malformed; before the
// goavro limits were set, goavro preallocated 32 GB for it and the process
// died with "fatal error: out of memory" (arrears run catch-up, state
// restore, and the fuzz target).
func TestForgedBlockCounts(t *testing.T) {
	// Guard first: with goavro's default limit the decodes below would not
	// fail, they would kill the test binary.
	if goavro.MaxBlockCount > maxAvroBlockCount || goavro.MaxBlockSize > maxAvroBlockSize {
		t.Fatalf("goavro limits MaxBlockCount=%d MaxBlockSize=%d, want <= %d, %d",
			goavro.MaxBlockCount, goavro.MaxBlockSize, maxAvroBlockCount, maxAvroBlockSize)
	}
	ctx := context.Background()
	huge := zigzag(1<<31 - 1)
	// account_id "ACC-1", event_time 0, segment null, closed false, balances [huge...
	status := soeFrame(StatusSchema, append([]byte{10, 'A', 'C', 'C', '-', '1', 0, 0, 0}, huge...))
	status = append(status, 2, 'E')
	if len(status) > 26 {
		t.Fatalf("forged status is %d bytes", len(status))
	}
	evolved := evolvedEventSchema(t)
	c := newCodec(t, Config{KnownIDs: map[int]string{3: evolved}})
	if _, err := c.DecodeStatus(ctx, status); !errors.Is(err, ErrMalformed) {
		t.Fatalf("forged status: %v, want %v", err, ErrMalformed)
	}
	// A PaymentReceived whose invoice_ids claims 2^31-1 items, read by the
	// hand-written reader (our schema) and by goavro (another writer schema).
	body := append(eventHead(), 6) // payload branch 3: PaymentReceived
	body = append(body, 2, 'P', 6, 'E', 'U', 'R', 2, 100, 0)
	body = append(body, huge...)
	body = append(body, 2, 'I')
	for name, in := range map[string][]byte{
		"fast path":   soeFrame(EventSchema, body),
		"goavro path": confluentFrame(3, append([]byte{0}, body...)), // trace_id "" first
	} {
		_, err := c.DecodeEvent(ctx, in)
		if !errors.Is(err, ErrMalformed) || Code(err) != "MALFORMED" {
			t.Errorf("%s: %v (code %s), want %v", name, err, Code(err), ErrMalformed)
		}
	}
	// A string or bytes length beyond what is left is refused the same way.
	long := append(zigzag(1<<40), 'x')
	if _, err := c.DecodeEvent(ctx, soeFrame(EventSchema, long)); !errors.Is(err, ErrMalformed) {
		t.Errorf("forged string length: %v", err)
	}
	if _, err := c.DecodeStatus(ctx, soeFrame(StatusSchema, long)); !errors.Is(err, ErrMalformed) {
		t.Errorf("forged status string length: %v", err)
	}
}

// eventHead is a valid envelope (event_id "e", 2025-03-14, source "s",
// account "A") in Avro binary.
func eventHead() []byte {
	w := &avroWriter{}
	w.str("e")
	w.timestamp(t0)
	w.str("s")
	w.str("A")
	return w.b
}

// evolvedEventSchema is ArEvent with an extra leading string field, so that
// records written with it are read by goavro rather than the fast path.
func evolvedEventSchema(t testing.TB) string {
	t.Helper()
	text, _ := Schema(EventSchema)
	return strings.Replace(text, `"fields": [`,
		`"fields": [{"name": "trace_id", "type": "string", "default": "", "doc": "added in v2"},`, 1)
}
