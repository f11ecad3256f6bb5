package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// laughs is a billion-laughs document: ten levels of ten aliases each,
// 10^10 values once expanded, in under 1 KiB.
func laughs() string {
	var b strings.Builder
	b.WriteString("l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestParseRefuses(t *testing.T) {
	cases := []struct {
		name, doc, msg string
		line           int
	}{
		{"empty", "", "empty document", 0},
		{"comment only", "# nothing\n", "empty document", 0},
		{"syntax", "name: [", "yaml:", 0},
		{"two documents", "a: 1\n---\nb: 2\n", "more than one document", 0},
		{"too large", "a: '" + strings.Repeat("x", MaxBytes) + "'\n", "more than the", 0},
		{"billion laughs", laughs(), "aliases expanded", 0},
		{"deep flow", "a: " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + "\n", "deeper than", 1},
		{"deep through aliases", deepAliases(), "deeper than", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), "f.yaml")
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ConfigError", err)
			}
			if ce.File != "f.yaml" || !strings.Contains(ce.Msg, c.msg) || (c.line > 0 && ce.Line != c.line) {
				t.Fatalf("got %+v, want file f.yaml, line %d, msg containing %q", ce, c.line, c.msg)
			}
		})
	}
}

// deepAliases nests each anchor one level inside the next, so no single
// flow is deep but the expanded document is.
func deepAliases() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x]\n")
	for i := 1; i <= MaxDepth; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d]\n", i, i, i-1)
	}
	return b.String()
}

func TestParseAccepts(t *testing.T) {
	// Aliases within the bounds are fine, and a shared anchor costs its
	// expanded size at each use, not more.
	doc := "base: &b {weight: 1, max: 3}\nx: *b\ny: *b\nlist: [*b, *b]\n"
	root, err := Parse([]byte(doc), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	es, err := r.Mapping(root, "", nil)
	if err != nil || len(es) != 4 {
		t.Fatalf("entries %d, err %v", len(es), err)
	}
	inner, err := r.Mapping(es[1].Value, "x", []string{"weight", "max"})
	if err != nil || len(inner) != 2 || inner[1].Key != "max" {
		t.Fatalf("alias not followed: %+v %v", inner, err)
	}
	// Just under the node budget.
	n := MaxNodes/2 - 10
	big := "l: [" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]\n"
	if _, err := Parse([]byte(big), "big.yaml"); err != nil {
		t.Fatalf("%d values: %v", n, err)
	}
}

func TestParseSelfAlias(t *testing.T) {
	// yaml.v3 builds the node graph with the anchor visible inside its own
	// value; the walk must not loop.
	_, err := Parse([]byte("a: &a [1, *a]\n"), "cyc.yaml")
	if err == nil || !strings.Contains(err.Error(), "cyc.yaml:1: an alias refers to its own anchor") {
		t.Fatalf("err = %v, want the self-reference refused", err)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	cases := []struct {
		e    ConfigError
		want string
	}{
		{ConfigError{File: "p.yaml", Line: 3, Field: "stages[0].name", Msg: "is required"}, "p.yaml:3: stages[0].name: is required"},
		{ConfigError{File: "p.yaml", Msg: "empty document"}, "p.yaml: empty document"},
		{ConfigError{File: "p.yaml", Field: "name", Msg: "is required"}, "p.yaml: name: is required"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	es := Errors{&cases[0].e, &cases[1].e}
	if got := es.Error(); got != cases[0].want+"\n"+cases[1].want {
		t.Errorf("Errors.Error() = %q", got)
	}
	var ce *ConfigError
	if !errors.As(error(es), &ce) || ce != &cases[0].e {
		t.Error("errors.As does not reach the first ConfigError")
	}
}
