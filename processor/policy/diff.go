package policy

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/strictyaml"
)

// Change is one field-level difference between two policy versions: the
// dotted path of the field ("stages[1].actions[0].channel"), its value in
// the old version and in the new, rendered as flow YAML ("" when absent).
type Change struct {
	Path     string
	Old, New string
}

// String renders the change on one line: "~ path: old -> new", "+ path:
// new" or "- path: old".
func (c Change) String() string {
	switch {
	case c.Old == "":
		return "+ " + c.Path + ": " + c.New
	case c.New == "":
		return "- " + c.Path + ": " + c.Old
	}
	return "~ " + c.Path + ": " + c.Old + " -> " + c.New
}

// Diff compares two policies' YAML field by field, on their decoded form
// (comments, layout and key order do not count, as for the version).
// Mappings are compared key by key; sequences item by item, except that
// stages are matched by name, so that inserting a stage shows as one
// added stage rather than a change of every later one. Both must be valid
// YAML; validation is Load's.
func Diff(oldYAML, newYAML []byte) ([]Change, error) {
	var a, b yaml.Node
	if err := yaml.Unmarshal(oldYAML, &a); err != nil {
		return nil, fmt.Errorf("old: %w", err)
	}
	if err := yaml.Unmarshal(newYAML, &b); err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	var out []Change
	diffValue("", tree(&a), tree(&b), &out)
	return out, nil
}

// scalar is a YAML scalar as written (a date stays its text, "5.00" a
// string).
type scalar struct{ tag, value string }

// tree turns a YAML node into map[string]any, []any and scalar values.
func tree(n *yaml.Node) any {
	n = strictyaml.Deref(n)
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return tree(n.Content[0])
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = tree(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			s = append(s, tree(c))
		}
		return s
	}
	if n.ShortTag() == "!!null" {
		return nil
	}
	return scalar{tag: n.ShortTag(), value: n.Value}
}

// node turns a tree back into a YAML node, keys sorted, in flow style.
func node(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, node(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, c := range x {
			n.Content = append(n.Content, node(c))
		}
		return n
	case scalar:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: x.tag, Value: x.value}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

func diffValue(path string, a, b any, out *[]Change) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			diffMap(path, x, y, out)
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			if path == "stages" {
				diffStages(x, y, out)
				return
			}
			n := max(len(x), len(y))
			for i := 0; i < n; i++ {
				diffValue(fmt.Sprintf("%s[%d]", path, i), at(x, i), at(y, i), out)
			}
			return
		}
	}
	*out = append(*out, Change{Path: path, Old: render(a), New: render(b)})
}

func diffMap(path string, a, b map[string]any, out *[]Change) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		p := k
		if path != "" {
			p = path + "." + k
		}
		diffValue(p, a[k], b[k], out)
	}
}

// diffStages matches stages by name: a stage in both is compared field by
// field under its new index, one only in old is removed, one only in new
// added.
func diffStages(a, b []any, out *[]Change) {
	name := func(s any) string {
		if m, ok := s.(map[string]any); ok {
			if n, ok := m["name"].(scalar); ok {
				return n.value
			}
		}
		return ""
	}
	old := map[string]int{}
	for i, s := range a {
		if n := name(s); n != "" {
			old[n] = i
		}
	}
	seen := map[string]bool{}
	for j, s := range b {
		n := name(s)
		p := fmt.Sprintf("stages[%d]", j)
		if i, ok := old[n]; ok && n != "" {
			seen[n] = true
			p = fmt.Sprintf("stages[%d](%s)", j, n)
			if i != j {
				p = fmt.Sprintf("stages[%d](%s, was [%d])", j, n, i)
			}
			diffValue(p, a[i], s, out)
			continue
		}
		*out = append(*out, Change{Path: p, New: render(s)})
	}
	for i, s := range a {
		if n := name(s); n == "" || !seen[n] {
			*out = append(*out, Change{Path: fmt.Sprintf("stages[%d]", i), Old: render(s)})
		}
	}
}

func at(s []any, i int) any {
	if i < len(s) {
		return s[i]
	}
	return nil
}

// render is v as one line of flow YAML ("" for absent).
func render(v any) string {
	if v == nil {
		return ""
	}
	b, err := yaml.Marshal(node(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}
