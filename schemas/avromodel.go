package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
)

// avroType is one node of a parsed Avro schema, as schema resolution
// (resolve.go) needs it. Named types are shared by pointer, so recursive
// schemas are cyclic graphs.
type avroType struct {
	kind    string // a primitive, or record, enum, array, map, fixed, union
	name    string // full name of a record, enum or fixed
	aliases []string
	logical string // a logical type goavro implements (goavroLogical), else ""
	scale   int    // decimal scale
	fields  []avroField
	symbols []string
	enumDef string    // enum default symbol, "" when none
	items   *avroType // array items, map values
	union   []*avroType
	size    int
}

type avroField struct {
	name    string
	aliases []string
	typ     *avroType
	def     any // the JSON default (json.Number for numbers)
	hasDef  bool
}

// goavroLogical lists the logical types whose goavro native value differs
// from the underlying type's; goavro ignores any other logical type.
var goavroLogical = map[string]bool{
	"timestamp-millis": true, "timestamp-micros": true, "time-millis": true, "time-micros": true,
	"date": true, "decimal": true,
}

// unionKey is the key of a non-null union value in goavro's native form.
func (t *avroType) unionKey() string {
	switch {
	case t.name != "":
		return t.name
	case t.logical != "" && t.logical != "decimal":
		return t.kind + "." + t.logical
	case t.logical == "decimal":
		return t.kind + ".decimal"
	}
	return t.kind
}

// shortName is a named type's name without its namespace.
func shortName(full string) string {
	return full[strings.LastIndexByte(full, '.')+1:]
}

// parseAvro parses a schema text that goavro accepted.
func parseAvro(text string) (*avroType, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	p := avroParser{names: map[string]*avroType{}}
	return p.parse(v, "")
}

type avroParser struct{ names map[string]*avroType }

func (p *avroParser) parse(v any, ns string) (*avroType, error) {
	switch t := v.(type) {
	case string:
		if primitiveTypes[t] {
			return &avroType{kind: t}, nil
		}
		if n, ok := p.names[fullName(t, ns)]; ok {
			return n, nil
		}
		if n, ok := p.names[t]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("unknown type %q", t)
	case []any:
		u := &avroType{kind: "union"}
		for _, b := range t {
			bt, err := p.parse(b, ns)
			if err != nil {
				return nil, err
			}
			u.union = append(u.union, bt)
		}
		return u, nil
	case map[string]any:
		return p.parseObject(t, ns)
	}
	return nil, fmt.Errorf("schema is a JSON %T", v)
}

func (p *avroParser) parseObject(m map[string]any, ns string) (*avroType, error) {
	typ, ok := m["type"].(string)
	if !ok {
		return p.parse(m["type"], ns)
	}
	switch typ {
	case "record", "error", "enum", "fixed":
	case "array", "map":
		key := map[string]string{"array": "items", "map": "values"}[typ]
		items, err := p.parse(m[key], ns)
		if err != nil {
			return nil, err
		}
		return &avroType{kind: typ, items: items}, nil
	default:
		t, err := p.parse(typ, ns)
		if err != nil || t.name != "" {
			return t, err
		}
		if lt, _ := m["logicalType"].(string); goavroLogical[lt] {
			t.logical = lt
			if s, err := pcfInt(m["scale"]); err == nil {
				t.scale = int(s)
			}
		}
		return t, nil
	}
	name, _ := m["name"].(string)
	if !strings.Contains(name, ".") {
		if space, ok := m["namespace"].(string); ok {
			ns = space
		}
	}
	t := &avroType{kind: typ, name: fullName(name, ns)}
	if typ == "error" {
		t.kind = "record"
	}
	ns = strings.TrimSuffix(t.name, shortName(t.name))
	ns = strings.TrimSuffix(ns, ".")
	t.aliases = qualify(m["aliases"], ns)
	p.names[t.name] = t
	switch typ {
	case "enum":
		syms, _ := m["symbols"].([]any)
		for _, s := range syms {
			if str, ok := s.(string); ok {
				t.symbols = append(t.symbols, str)
			}
		}
		t.enumDef, _ = m["default"].(string)
	case "fixed":
		n, err := pcfInt(m["size"])
		if err != nil {
			return nil, fmt.Errorf("fixed %s: size: %w", t.name, err)
		}
		t.size = int(n)
		if lt, _ := m["logicalType"].(string); lt == "decimal" {
			t.logical = lt
			if s, err := pcfInt(m["scale"]); err == nil {
				t.scale = int(s)
			}
		}
	default:
		fields, _ := m["fields"].([]any)
		for _, f := range fields {
			fm, _ := f.(map[string]any)
			ft, err := p.parse(fm["type"], ns)
			if err != nil {
				return nil, fmt.Errorf("record %s: field %v: %w", t.name, fm["name"], err)
			}
			name, _ := fm["name"].(string)
			def, has := fm["default"]
			t.fields = append(t.fields, avroField{name: name, aliases: qualify(fm["aliases"], ""), typ: ft, def: def, hasDef: has})
		}
	}
	return t, nil
}

// qualify reads an aliases list; ns != "" qualifies the names.
func qualify(v any, ns string) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, a := range list {
		if s, ok := a.(string); ok {
			if ns != "" {
				s = fullName(s, ns)
			}
			out = append(out, s)
		}
	}
	return out
}
