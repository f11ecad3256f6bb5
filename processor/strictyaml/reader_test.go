package strictyaml

import (
	"errors"
	"testing"
)

func TestReaderScalars(t *testing.T) {
	root, err := Parse([]byte("s: text\nn: 1200\nf: 2.5\nb: true\nz: null\ninf: .inf\nbig: 99\nl: [a, b]\n"), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{File: "r.yaml"}
	es, _ := r.Mapping(root, "", nil)
	v := map[string]Entry{}
	for _, e := range es {
		v[e.Key] = e
	}
	if s, err := r.Str(v["s"].Value, "s"); s != "text" || err != nil {
		t.Errorf("Str(s) = %q, %v", s, err)
	}
	if _, err := r.Str(v["n"].Value, "n"); err == nil {
		t.Error("Str accepted a number")
	}
	if s, err := r.Text(v["n"].Value, "n"); s != "1200" || err != nil {
		t.Errorf("Text(n) = %q, %v", s, err)
	}
	for _, k := range []string{"b", "z"} {
		if _, err := r.Text(v[k].Value, k); err == nil {
			t.Errorf("Text accepted %s", k)
		}
	}
	if f, err := r.Float(v["f"].Value, "f"); f != 2.5 || err != nil {
		t.Errorf("Float(f) = %g, %v", f, err)
	}
	if _, err := r.Float(v["inf"].Value, "inf"); err == nil {
		t.Error("Float accepted .inf")
	}
	if b, err := r.Bool(v["b"].Value, "b"); !b || err != nil {
		t.Errorf("Bool(b) = %v, %v", b, err)
	}
	if _, err := r.Int(v["big"].Value, "big", 0, 10); err == nil {
		t.Error("Int accepted 99 in [0, 10]")
	}
	if items, err := r.Sequence(v["l"].Value, "l"); len(items) != 2 || err != nil {
		t.Errorf("Sequence(l) = %d items, %v", len(items), err)
	}
	if items, err := r.Sequence(v["z"].Value, "z"); items != nil || err != nil {
		t.Errorf("Sequence(null) = %v, %v", items, err)
	}
	if n := len(r.Errs); n != 5 {
		t.Fatalf("recorded %d problems, want 5: %v", n, r.Err())
	}
}

func TestReaderMappingAndErr(t *testing.T) {
	root, err := Parse([]byte("a: 1\nb: 2\na: 3\nc: 4\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{File: "m.yaml"}
	r.ErrorfAt(9, "late", "found last")
	es, first := r.Mapping(root, "top", []string{"a", "b"})
	if len(es) != 2 || es[0].Key != "a" || es[1].Key != "b" {
		t.Fatalf("entries %+v", es)
	}
	var ce *ConfigError
	if !errors.As(first, &ce) || ce.Line != 3 || ce.Field != "top.a" || ce.Msg != "defined twice" {
		t.Fatalf("first problem = %v", first)
	}
	var all Errors
	if !errors.As(r.Err(), &all) || len(all) != 3 {
		t.Fatalf("Err() = %v", r.Err())
	}
	want := []string{"m.yaml:3: top.a: defined twice", "m.yaml:4: top.c: unknown field (want one of a, b)", "m.yaml:9: late: found last"}
	for i, e := range all {
		if e.Error() != want[i] {
			t.Errorf("problem %d = %q, want %q", i, e.Error(), want[i])
		}
	}
	if _, err := r.Mapping(es[0].Value, "top.a", nil); err == nil {
		t.Error("a scalar passed as a mapping")
	}
}
