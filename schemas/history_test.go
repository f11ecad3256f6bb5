package schemas

import (
	"context"
	"encoding/binary"
	"os"
	"reflect"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

// TestPreviousSchemasDecode: records written with a previous version of an
// owned schema (single-object encoding: only the fingerprint names it)
// still decode after the schema grew: an event written before
// AccountReopened was appended to the payload union, and a status written
// before unknown_invoice_refs was appended.
func TestPreviousSchemasDecode(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	old, err := os.ReadFile("testdata/payment_received.v1.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DecodeEvent(ctx, old)
	if err != nil {
		t.Fatalf("event of the previous schema: %v", err)
	}
	if want := sampleEvents()["payment_received"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}

	// A status as the previous schema wrote it: the current encoding
	// without the appended field, under the previous fingerprint.
	var prev *schema
	for _, s := range historicSchemas {
		if s.name == StatusSchema {
			prev = s
		}
	}
	if prev == nil {
		t.Fatal("no previous status schema")
	}
	st := sampleStatus()
	st.UnknownInvoiceRefs = 0
	cur, err := c.EncodeStatus(ctx, "ar.account.status", st)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), cur[:len(cur)-1]...)       // int 0 is one byte
	for _, fp := range []uint64{prev.fp, prev.legacy} { // the spec's, and goavro's (before the transition)
		binary.LittleEndian.PutUint64(b[2:10], fp)
		s, err := c.DecodeStatus(ctx, b)
		if err != nil {
			t.Fatalf("status of the previous schema, fingerprint %#016x: %v", fp, err)
		}
		if !reflect.DeepEqual(&s, st) {
			t.Fatalf("decoded %+v, want %+v", s, *st)
		}
	}
	// And the new kind round-trips with the current one.
	ev := sampleEvents()["account_reopened"]
	enc, err := c.EncodeEvent(ctx, "ar.events", ev)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := c.DecodeEvent(ctx, enc); err != nil || back.Body.(*event.AccountReopened).Reason != "won back" {
		t.Fatalf("AccountReopened: %+v %v", back, err)
	}
}
