package strictyaml

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Reader walks a document from Parse. Each method checks one value, records
// a *ConfigError (file, line, field path) in Errs when it is wrong and
// returns that error, so a loader may either stop at the first problem or
// carry on and report them all with Err.
type Reader struct {
	File string
	Errs Errors
}

// Entry is one key: value pair of a mapping, aliases resolved.
type Entry struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Errorf records a problem at n's line (0 when n is nil) and returns it.
func (r *Reader) Errorf(n *yaml.Node, field, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return r.ErrorfAt(line, field, format, args...)
}

// ErrorfAt records a problem at a known line and returns it.
func (r *Reader) ErrorfAt(line int, field, format string, args ...any) error {
	e := &ConfigError{File: r.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
	r.Errs = append(r.Errs, e)
	return e
}

// Err returns nil when nothing was recorded, else every problem as Errors
// sorted by line (stable, so problems on one line keep their order).
func (r *Reader) Err() error {
	if len(r.Errs) == 0 {
		return nil
	}
	sort.SliceStable(r.Errs, func(i, j int) bool { return r.Errs[i].Line < r.Errs[j].Line })
	return r.Errs
}

// Deref follows aliases to the value they stand for.
func Deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// Join appends a key to a field path ("" is the document root).
func Join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// Index appends a list index to a field path.
func Index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// Mapping returns the entries of a mapping node, in document order. A key
// that is not a scalar, appears twice or, when allowed is not nil, is not in
// allowed is reported and left out; the returned error is the first such
// problem (the entries are still returned).
func (r *Reader) Mapping(n *yaml.Node, field string, allowed []string) ([]Entry, error) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, r.Errorf(n, field, "must be a mapping")
	}
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]Entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := Deref(n.Content[i]), Deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			keep(r.Errorf(k, field, "keys must be scalars"))
			continue
		}
		sub := Join(field, k.Value)
		if seen[k.Value] {
			keep(r.Errorf(k, sub, "defined twice"))
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			keep(r.Errorf(k, sub, "unknown field (want one of %s)", strings.Join(allowed, ", ")))
			continue
		}
		out = append(out, Entry{Key: k.Value, KeyNode: k, Value: v})
	}
	return out, first
}

// Sequence returns the items of a sequence node, aliases resolved; an empty
// or null value is an empty sequence.
func (r *Reader) Sequence(n *yaml.Node, field string) ([]*yaml.Node, error) {
	n = Deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, r.Errorf(n, field, "must be a list")
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = Deref(c)
	}
	return out, nil
}

func scalar(n *yaml.Node, tags ...string) bool {
	n = Deref(n)
	return n != nil && n.Kind == yaml.ScalarNode && slices.Contains(tags, n.Tag)
}

// Str reads a value YAML types as a string (quoted, or plain text that is
// not a number, boolean or null).
func (r *Reader) Str(n *yaml.Node, field string) (string, error) {
	if !scalar(n, "!!str") {
		return "", r.Errorf(n, field, "must be a string")
	}
	return Deref(n).Value, nil
}

// Text reads any scalar but null and booleans as its text, so an unquoted
// number ("1200") is read as written.
func (r *Reader) Text(n *yaml.Node, field string) (string, error) {
	n = Deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		return "", r.Errorf(n, field, "must be a string")
	}
	return n.Value, nil
}

// Int reads an integer in [min, max].
func (r *Reader) Int(n *yaml.Node, field string, min, max int) (int, error) {
	if !scalar(n, "!!int") {
		return 0, r.Errorf(n, field, "must be an integer")
	}
	v, err := strconv.ParseInt(Deref(n).Value, 0, 64)
	if err != nil {
		return 0, r.Errorf(n, field, "must be an integer: %v", err)
	}
	if v < int64(min) || v > int64(max) {
		return 0, r.Errorf(n, field, "%d out of range [%d, %d]", v, min, max)
	}
	return int(v), nil
}

// Float reads a finite number (an integer or a float).
func (r *Reader) Float(n *yaml.Node, field string) (float64, error) {
	if !scalar(n, "!!int", "!!float") {
		return 0, r.Errorf(n, field, "must be a number")
	}
	var v float64
	if err := Deref(n).Decode(&v); err != nil {
		return 0, r.Errorf(n, field, "must be a number: %v", err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, r.Errorf(n, field, "must be finite")
	}
	return v, nil
}

// Bool reads true or false.
func (r *Reader) Bool(n *yaml.Node, field string) (bool, error) {
	if !scalar(n, "!!bool") {
		return false, r.Errorf(n, field, "must be true or false")
	}
	var b bool
	if err := Deref(n).Decode(&b); err != nil {
		return false, r.Errorf(n, field, "must be true or false: %v", err)
	}
	return b, nil
}
