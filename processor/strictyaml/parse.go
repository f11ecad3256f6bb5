package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
)

// Bounds on what Parse accepts. Policies and scorecards are a few KiB with
// a nesting depth under 10, so these leave a wide margin while keeping a
// hostile file from costing more than a few milliseconds and megabytes.
const (
	// MaxBytes is the largest document accepted (1 MiB).
	MaxBytes = 1 << 20
	// MaxDepth is the deepest nesting of mappings and sequences accepted,
	// counted through aliases.
	MaxDepth = 64
	// MaxNodes is the most nodes a document may have with every alias
	// expanded where it is used; the walk and any later Decode cost this
	// much, so it is what stops alias bombs.
	MaxNodes = 100_000
)

// Parse decodes data as exactly one YAML document and returns its root
// node (aliases left as yaml.AliasNode; Reader follows them). file names
// the input in errors. On failure the error is a *ConfigError: a syntax
// error, an empty input, more than one document, or input past MaxBytes,
// MaxDepth or MaxNodes. Anchors that refer to themselves are refused.
func Parse(data []byte, file string) (*yaml.Node, error) {
	fail := func(line int, format string, args ...any) error {
		return &ConfigError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxBytes {
		return nil, fail(0, "document is %d bytes, more than the %d allowed", len(data), MaxBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, fail(0, "empty document")
	} else if err != nil {
		return nil, fail(0, "%v", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fail(0, "empty document")
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, fail(next.Line, "more than one document (only one is read; remove the extra ---)")
	}
	root := doc.Content[0]
	m := measure{memo: map[*yaml.Node]size{}}
	if err := m.node(root, 0); err != nil {
		return nil, fail(m.line, "%v", err)
	}
	return root, nil
}

// size is a subtree's node count and height with every alias expanded.
type size struct{ nodes, height int }

// measure computes expanded sizes once per node, so its cost is linear in
// the document whatever the aliases.
type measure struct {
	memo   map[*yaml.Node]size
	onPath []*yaml.Node
	line   int // of the node where a limit was hit
}

var (
	errDepth  = fmt.Errorf("nested deeper than %d levels (counting aliases)", MaxDepth)
	errNodes  = fmt.Errorf("more than %d values with aliases expanded (alias bomb?)", MaxNodes)
	errCyclic = errors.New("an alias refers to its own anchor")
)

func (m *measure) node(n *yaml.Node, depth int) error {
	s, err := m.size(n, depth)
	if err == nil && s.nodes > MaxNodes {
		m.line, err = n.Line, errNodes
	}
	return err
}

func (m *measure) size(n *yaml.Node, depth int) (size, error) {
	if n == nil {
		return size{}, nil
	}
	if s, ok := m.memo[n]; ok {
		if depth+s.height-1 > MaxDepth {
			m.line = n.Line
			return size{}, errDepth
		}
		return s, nil
	}
	if depth > MaxDepth {
		m.line = n.Line
		return size{}, errDepth
	}
	for _, p := range m.onPath {
		if p == n {
			m.line = n.Line
			return size{}, errCyclic
		}
	}
	m.onPath = append(m.onPath, n)
	defer func() { m.onPath = m.onPath[:len(m.onPath)-1] }()
	if n.Kind == yaml.AliasNode {
		// An alias stands for its anchor's value, at the alias's depth.
		s, err := m.size(n.Alias, depth)
		if err == nil {
			m.memo[n] = s
		}
		return s, err
	}
	s := size{nodes: 1, height: 1}
	for _, c := range n.Content {
		cs, err := m.size(c, depth+1)
		if err != nil {
			return size{}, err
		}
		s.nodes += cs.nodes
		s.height = max(s.height, cs.height+1)
		if s.nodes > MaxNodes {
			m.line = n.Line
			return size{}, errNodes
		}
	}
	m.memo[n] = s
	return s, nil
}
