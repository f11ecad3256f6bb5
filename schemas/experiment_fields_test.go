package schemas

import (
	"context"
	"encoding/binary"
	"reflect"
	"testing"
)

// TestPreviousActionSchemaDecodes: an action written before experiment_id
// and arm were appended (history/dunning_action.1.avsc) decodes with both
// empty, under either fingerprint; a current one carries them.
func TestPreviousActionSchemaDecodes(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	a := sampleAction()
	cur, err := c.EncodeAction(ctx, "ar.dunning.actions", a)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := c.DecodeAction(ctx, cur); err != nil || back.ExperimentID != "EXP-2026-12" || back.Arm != "challenger" {
		t.Fatalf("current: %+v %v", back, err)
	}
	a.ExperimentID, a.Arm = "", ""
	cur, err = c.EncodeAction(ctx, "ar.dunning.actions", a)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range underPrevious(t, ActionSchema, cur, 2) { // two nulls, one byte each
		got, err := c.DecodeAction(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, a) {
			t.Fatalf("decoded %+v, want %+v", got, *a)
		}
	}
}

// TestPreviousGLSchemaDecodes: a GL entry written before invoice_id was
// appended (history/gl_entry.1.avsc) decodes with it empty, under either
// fingerprint; a current one carries it.
func TestPreviousGLSchemaDecodes(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	g := sampleGL()
	g.InvoiceID = "INV-7"
	cur, err := c.EncodeGL(ctx, "ar.gl", g)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := c.DecodeGL(ctx, cur); err != nil || back.InvoiceID != "INV-7" {
		t.Fatalf("current: %+v %v", back, err)
	}
	g.InvoiceID = ""
	if cur, err = c.EncodeGL(ctx, "ar.gl", g); err != nil {
		t.Fatal(err)
	}
	for _, b := range underPrevious(t, GLSchema, cur, 1) { // a null: one byte
		got, err := c.DecodeGL(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, g) {
			t.Fatalf("decoded %+v, want %+v", got, *g)
		}
	}
}

// underPrevious returns the single-object record cur as the previous
// version of its schema (history/, exactly one) wrote it: without its last
// drop bytes (the fields appended since), once under each of that
// version's fingerprints (CRC-64-AVRO and goavro's).
func underPrevious(t *testing.T, name string, cur []byte, drop int) [][]byte {
	t.Helper()
	var prev []*schema
	for _, h := range historicSchemas {
		if h.name == name {
			prev = append(prev, h)
		}
	}
	if len(prev) != 1 {
		t.Fatalf("%d previous %s schemas in history/, want 1", len(prev), name)
	}
	var out [][]byte
	for _, fp := range []uint64{prev[0].fp, prev[0].legacy} {
		b := append([]byte(nil), cur[:len(cur)-drop]...)
		binary.LittleEndian.PutUint64(b[2:10], fp)
		out = append(out, b)
	}
	return out
}
