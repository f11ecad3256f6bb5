package schemas

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// avroVector is one case of Apache Avro's share/test/data/schema-tests.txt.
type avroVector struct {
	n                int
	input, canonical string
	fingerprint      string // signed decimal as the file gives it, "" when absent
}

// readAvroVectors parses the schema-tests.txt format: "<<key value" lines,
// or "<<key" followed by lines up to one that is the key alone; // and #
// lines are comments.
func readAvroVectors(t *testing.T, path string) []avroVector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []avroVector
		cur *avroVector
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "<<") {
			continue
		}
		key, val, _ := strings.Cut(line[2:], " ")
		if val == "" { // heredoc
			var body []string
			for sc.Scan() && sc.Text() != key {
				body = append(body, sc.Text())
			}
			val = strings.Join(body, "\n")
		}
		switch key {
		case "INPUT":
			out = append(out, avroVector{n: len(out), input: val})
			cur = &out[len(out)-1]
		case "canonical":
			cur.canonical = val
		case "fingerprint":
			cur.fingerprint = val
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCanonicalFormAvroVectors checks CanonicalForm and SpecFingerprint
// against the Avro project's own canonical forms and fingerprints.
func TestCanonicalFormAvroVectors(t *testing.T) {
	vs := readAvroVectors(t, "testdata/avro/schema-tests.txt")
	if len(vs) < 30 {
		t.Fatalf("read %d vectors, want the file's 34", len(vs))
	}
	fps := 0
	for _, v := range vs {
		got, err := CanonicalForm(v.input)
		if err != nil {
			t.Errorf("%03d: %v", v.n, err)
			continue
		}
		if got != v.canonical {
			t.Errorf("%03d: canonical form\n got %s\nwant %s", v.n, got, v.canonical)
		}
		if v.fingerprint == "" {
			continue
		}
		want, err := strconv.ParseInt(v.fingerprint, 10, 64)
		if err != nil {
			t.Fatalf("%03d: %v", v.n, err)
		}
		fp, err := SpecFingerprint(v.input)
		if err != nil || fp != uint64(want) {
			t.Errorf("%03d: fingerprint %#016x, %v; want %#016x", v.n, fp, err, uint64(want))
		}
		fps++
	}
	if fps < 25 {
		t.Fatalf("checked %d fingerprints", fps)
	}
}

// TestFingerprintAvroPythonVectors checks SpecFingerprint against the
// FINGERPRINT_EXAMPLES of Avro's Python tests (the header bytes
// single-object encoding writes, in hex).
func TestFingerprintAvroPythonVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/avro/fingerprints.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		want, text, _ := strings.Cut(line, "\t")
		fp, err := SpecFingerprint(text)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		var le [8]byte
		binary.LittleEndian.PutUint64(le[:], fp)
		if got := hex.EncodeToString(le[:]); got != want {
			t.Errorf("%s: fingerprint bytes %s, want %s", text, got, want)
		}
		n++
	}
	if n < 30 {
		t.Fatalf("checked %d vectors", n)
	}
}

// TestOwnedFingerprints: the owned schemas carry the specification's
// fingerprint, and the one issue 17 measured with avsc, fastavro and
// Apache Avro 1.12 for arrears.DunningAction; goavro's stays their legacy.
func TestOwnedFingerprints(t *testing.T) {
	for _, name := range Names() {
		text, _ := Schema(name)
		want, err := SpecFingerprint(text)
		if err != nil {
			t.Fatal(err)
		}
		s := builtins()[name]
		if got, _ := Fingerprint(name); got != want || s.fp != want {
			t.Errorf("%s: Fingerprint %#016x, want %#016x", name, got, want)
		}
		if s.legacy != s.codec.Rabin || s.legacy == s.fp {
			t.Errorf("%s: legacy %#016x, goavro %#016x, spec %#016x", name, s.legacy, s.codec.Rabin, s.fp)
		}
		if got, _ := LegacyFingerprint(name); got != s.codec.Rabin {
			t.Errorf("%s: LegacyFingerprint %#016x, want goavro's %#016x", name, got, s.codec.Rabin)
		}
	}
	// The vectors were computed on DunningAction before experiment_id and
	// arm were appended: history/dunning_action.1.avsc.
	var first *schema
	for _, h := range historicSchemas {
		if h.name == ActionSchema && first == nil {
			first = h
		}
	}
	if first == nil || first.fp != 0x9d28bff4abd2d9ee || first.legacy != 0x6817291adcc34d09 {
		t.Errorf("DunningAction (history 1) fingerprints %+v, want spec 0x9d28bff4abd2d9ee, goavro 0x6817291adcc34d09", first)
	}
}

// TestCanonicalFormLogicalTypes: logical types, defaults, docs and
// aliases are not part of the canonical form; names are qualified with the
// namespace in scope.
func TestCanonicalFormLogicalTypes(t *testing.T) {
	in := `{"type":"record","name":"R","namespace":"a.b","doc":"d","aliases":["Q"],"fields":[
	  {"name":"t","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
	  {"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":4}},
	  {"name":"e","type":{"type":"enum","name":"E","symbols":["X"],"default":"X"}},
	  {"name":"o","type":["null",{"type":"record","name":"c.Inner","fields":[{"name":"x","type":"E2"}]}],"default":null},
	  {"name":"f","type":{"type":"fixed","name":"F","size":"016"}},
	  {"name":"r","type":"E"}]}`
	want := `{"name":"a.b.R","type":"record","fields":[{"name":"t","type":"long"},{"name":"m","type":"bytes"},` +
		`{"name":"e","type":{"name":"a.b.E","type":"enum","symbols":["X"]}},` +
		`{"name":"o","type":["null",{"name":"c.Inner","type":"record","fields":[{"name":"x","type":"c.E2"}]}]},` +
		`{"name":"f","type":{"name":"a.b.F","type":"fixed","size":16}},{"name":"r","type":"a.b.E"}]}`
	got, err := CanonicalForm(in)
	if err != nil || got != want {
		t.Fatalf("got %s, %v\nwant %s", got, err, want)
	}
	for _, bad := range []string{`{`, `42`, `{"type":"record"}`, `{"type":"fixed","name":"F","size":"x"}`, `{"name":"n"}`} {
		if _, err := CanonicalForm(bad); err == nil {
			t.Errorf("CanonicalForm(%s) accepted", bad)
		}
	}
}

// TestLegacyFingerprintsDecode: the transition. Records the previous build
// wrote (goavro's fingerprint) still decode: the ar.events fixtures as it
// wrote them (testdata/legacy), and every output under its legacy
// fingerprint; the current encoding carries the specification's.
func TestLegacyFingerprintsDecode(t *testing.T) {
	ctx := context.Background()
	c := newCodec(t, Config{})
	// The fixtures predate the operator events (ar_event.avsc change 3):
	// they carry goavro's fingerprint of history/ar_event.2.avsc.
	prev := map[uint64]bool{}
	for _, h := range historicSchemas {
		if h.name == EventSchema {
			prev[h.legacy] = true
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "legacy", "*.bin"))
	if len(files) != 16 {
		t.Fatalf("%d legacy fixtures, want 16", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".bin")
		want := sampleEvents()[name]
		old, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !prev[binary.LittleEndian.Uint64(old[2:10])] {
			t.Fatalf("%s: fixture does not carry a previous schema's legacy fingerprint", name)
		}
		got, err := c.DecodeEvent(ctx, old)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: legacy record decoded to %+v, %v", name, got, err)
		}
	}
	for _, tc := range outCases() {
		cur, err := tc.enc(c, ctx, "out")
		if err != nil {
			t.Fatal(err)
		}
		if fp, _ := Fingerprint(tc.schema); binary.LittleEndian.Uint64(cur[2:10]) != fp {
			t.Fatalf("%s: written with fingerprint %x, want the spec's %#016x", tc.name, cur[2:10], fp)
		}
		old := append([]byte(nil), cur...)
		legacy, _ := LegacyFingerprint(tc.schema)
		binary.LittleEndian.PutUint64(old[2:10], legacy)
		got, err := tc.dec(c, ctx, old)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: legacy record decoded to %+v, %v", tc.name, got, err)
		}
	}
}
