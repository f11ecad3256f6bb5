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
	var prev *schema
	for _, h := range historicSchemas {
		if h.name == ActionSchema {
			prev = h
		}
	}
	if prev == nil {
		t.Fatal("no previous DunningAction in history/")
	}
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
	b := append([]byte(nil), cur[:len(cur)-2]...) // two nulls, one byte each
	for _, fp := range []uint64{prev.fp, prev.legacy} {
		binary.LittleEndian.PutUint64(b[2:10], fp)
		got, err := c.DecodeAction(ctx, b)
		if err != nil {
			t.Fatalf("fingerprint %#016x: %v", fp, err)
		}
		if !reflect.DeepEqual(&got, a) {
			t.Fatalf("decoded %+v, want %+v", got, *a)
		}
	}
}
