package core

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/arrears/arrears/schemas"
)

// TestHostileLedgerRecords replays the ledger's part of the hostile corpus
// (testdata/hostile, by "ledger") through the pure core: each record after
// its prelude gets its expected dead-letter code, or, with no code, is
// taken without one (an event id re-used: a duplicate that changes
// nothing; a payment naming an unknown invoice: counted on the status).
func TestHostileLedgerRecords(t *testing.T) {
	dir := "../../testdata/hostile"
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		File, Code, By, What string
		Prelude              []string
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	type result struct {
		st  *State
		out Output
	}
	final := map[string]result{}
	n := 0
	for _, rec := range manifest {
		if rec.By != "ledger" {
			continue
		}
		n++
		st := &State{}
		var last error
		var out Output
		for i, f := range append(rec.Prelude, rec.File) {
			raw, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			e, err := codec.DecodeEvent(context.Background(), raw)
			if err != nil {
				t.Fatalf("%s: decode %s: %v", rec.File, f, err)
			}
			before, _ := st.MarshalBinary()
			out, last = Apply(st, e, e.Time, env)
			if i < len(rec.Prelude) && last != nil {
				t.Fatalf("%s: prelude %s: %v", rec.File, f, last)
			}
			if i == len(rec.Prelude) && (last != nil || out.Duplicate) {
				if after, _ := st.MarshalBinary(); string(after) != string(before) {
					t.Errorf("%s: the refused or repeated record changed the state", rec.File)
				}
			}
		}
		final[rec.File] = result{st, out}
		var rej *RejectError
		switch {
		case rec.Code != "" && (!errors.As(last, &rej) || rej.Code() != rec.Code):
			t.Errorf("%s (%s): %v, want %s", rec.File, rec.What, last, rec.Code)
		case rec.Code == "" && last != nil:
			t.Errorf("%s (%s): %v, want no dead letter", rec.File, rec.What, last)
		}
	}
	if n < 8 {
		t.Fatalf("only %d ledger records in the corpus", n)
	}
	if !final["63-event-id-reused.json"].out.Duplicate {
		t.Error("63: the re-used event id was not a duplicate")
	}
	if s := final["64-payment-unknown-invoice.json"].st.Status(day0); s.UnknownInvoiceRefs != 1 {
		t.Errorf("64: unknown_invoice_refs %d, want 1", s.UnknownInvoiceRefs)
	}
}
