package schemas

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
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

	// A status as each previous schema wrote it: the current encoding
	// without the fields appended since (unknown_invoice_refs 0,
	// collections_status "", policy_version "", experiment_id and arm null,
	// blacklisted false are one byte each), under that schema's
	// fingerprint; the missing fields take their defaults.
	var prev []*schema
	for _, s := range historicSchemas {
		if s.name == StatusSchema {
			prev = append(prev, s)
		}
	}
	// history/account_status.1 lacks the last 6 fields, .2 the last 5, .3 the last 4.
	missing := []int{6, 5, 4}
	if len(prev) != len(missing) {
		t.Fatalf("%d previous status schemas, want %d", len(prev), len(missing))
	}
	st := sampleStatus()
	st.UnknownInvoiceRefs, st.CollectionsStatus = 0, ""
	st.PolicyVersion, st.ExperimentID, st.Arm, st.Blacklisted = "", "", "", false
	cur, err := c.EncodeStatus(ctx, "ar.account.status", st)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prev {
		st.CollectionsStatus = "" // written as "" by the versions that have it
		if missing[i] > 4 {
			st.CollectionsStatus = "NONE" // its default
		}
		b := append([]byte(nil), cur[:len(cur)-missing[i]]...)
		for _, fp := range []uint64{p.fp, p.legacy} { // the spec's, and goavro's (before the transition)
			binary.LittleEndian.PutUint64(b[2:10], fp)
			s, err := c.DecodeStatus(ctx, b)
			if err != nil {
				t.Fatalf("status of previous schema %d, fingerprint %#016x: %v", i+1, fp, err)
			}
			if !reflect.DeepEqual(&s, st) {
				t.Fatalf("previous schema %d: decoded %+v, want %+v", i+1, s, *st)
			}
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

// TestSchemaEvolutionRules enforces how an owned schema may change
// (docs/schemas.md, "Evolving a schema"): a changed .avsc needs its
// previous text in history/ (testdata/schema-fingerprints.txt lists the
// current fingerprints; -update rewrites it once history/ is done); every
// previous version still resolves onto the current one (BACKWARD: we read
// what was written before), and for the outputs the current version
// resolves onto every previous one without relying on per-record luck
// (FORWARD: a consumer on the previous schema reads what we write now).
func TestSchemaEvolutionRules(t *testing.T) {
	var lines []string
	for _, name := range Names() {
		fp, _ := Fingerprint(name)
		lines = append(lines, fmt.Sprintf("%s %#016x", schemaFiles[name], fp))
	}
	sort.Strings(lines)
	current := strings.Join(lines, "\n") + "\n"
	const listed = "testdata/schema-fingerprints.txt"
	b, err := os.ReadFile(listed)
	if err != nil {
		t.Fatal(err)
	}
	if *update && string(b) != current {
		// A listed fingerprint that is no longer current must be kept by a
		// previous version in history/.
		kept := map[string]bool{}
		for _, h := range historicSchemas {
			kept[fmt.Sprintf("%#016x", h.fp)] = true
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			file, fp, _ := strings.Cut(line, " ")
			if !strings.Contains(current, line) && !kept[fp] {
				t.Fatalf("%s changed and its previous version (%s) is not in history/: copy it there first", file, fp)
			}
		}
		if err := os.WriteFile(listed, []byte(current), 0o644); err != nil {
			t.Fatal(err)
		}
		b = []byte(current)
	}
	if string(b) != current {
		t.Errorf("an .avsc changed:\n got %s\nwant %s\ncopy the previous text to history/<file>.<n>.avsc, check the rules below, "+
			"then go test ./schemas -run TestSchemaEvolutionRules -update", current, b)
	}
	versions := map[string]int{}
	for _, h := range historicSchemas {
		own := builtins()[h.name]
		if own == nil {
			t.Errorf("history holds %s, not an owned schema", orUnnamed(h.name))
			continue
		}
		versions[h.name]++
		if h.incompatible != nil {
			t.Errorf("BACKWARD: %v", h.incompatible)
		}
		if h.name != EventSchema {
			if err := compatible(own.text, h.text); err != nil {
				t.Errorf("FORWARD: a reader on the previous %s cannot read ours: %v", h.name, err)
			}
		}
	}
	if versions[EventSchema] == 0 || versions[StatusSchema] == 0 {
		t.Errorf("history lost a version: %v", versions)
	}
}

// TestCompatibleStrict: the FORWARD check refuses what resolution leaves
// to the records (a new union branch, enum symbol or null), and accepts an
// added field and a removed one with a default.
func TestCompatibleStrict(t *testing.T) {
	cur, _ := Schema(StatusSchema)
	for name, tc := range map[string]struct {
		edit func(top map[string]any)
		ok   bool
	}{
		"added field": {func(top map[string]any) {
			addField(top, map[string]any{"name": "note", "type": "string", "default": ""})
		}, true},
		"removed defaulted field": {func(top map[string]any) { dropField(top, "pd") }, true},
		"new enum symbol": {func(top map[string]any) {
			setFieldType(top, "segment", []any{"null", map[string]any{"type": "enum", "name": "Segment",
				"symbols": []any{"prepaid", "postpaid", "corporate", "wholesale", "public"}}})
		}, false},
		"new union branch": {func(top map[string]any) { setFieldType(top, "stage", []any{"null", "string", "int"}) }, false},
		"now nullable":     {func(top map[string]any) { setFieldType(top, "account_id", []any{"null", "string"}) }, false},
	} {
		next := evolve(t, StatusSchema, func(top map[string]any, _ func(string) map[string]any) { tc.edit(top) })
		if err := compatible(next, cur); (err == nil) != tc.ok {
			t.Errorf("%s: compatible = %v, want ok %v", name, err, tc.ok)
		}
	}
}
