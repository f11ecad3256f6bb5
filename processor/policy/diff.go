package policy

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
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
	var a, b any
	if err := yaml.Unmarshal(oldYAML, &a); err != nil {
		return nil, fmt.Errorf("old: %w", err)
	}
	if err := yaml.Unmarshal(newYAML, &b); err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	var out []Change
	diffValue("", a, b, &out)
	return out, nil
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
			if n, ok := m["name"].(string); ok {
				return n
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
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	setFlow(n)
	b, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSpace(string(b))
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}
