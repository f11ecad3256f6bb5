package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The Avro specification's Parsing Canonical Form and its CRC-64-AVRO
// fingerprint, the one single-object encoding carries. goavro's
// codec.Rabin is computed over goavro's own canonical form, which keeps
// {"type":"long"} wrappers and logical types, so it differs from what
// every other Avro library writes and expects; it survives only as the
// legacy fingerprint readers still accept (see schema.legacy).

// avroEmpty is the CRC-64-AVRO initial value (the specification's EMPTY).
const avroEmpty uint64 = 0xc15d213aa4d7a795

var avroTable = func() (t [256]uint64) {
	for i := range t {
		fp := uint64(i)
		for range 8 {
			fp = (fp >> 1) ^ (avroEmpty & -(fp & 1))
		}
		t[i] = fp
	}
	return t
}()

// crc64Avro is the specification's 64-bit Rabin fingerprint of b.
func crc64Avro(b []byte) uint64 {
	fp := avroEmpty
	for _, c := range b {
		fp = (fp >> 8) ^ avroTable[byte(fp)^c]
	}
	return fp
}

// SpecFingerprint returns the CRC-64-AVRO fingerprint of the Parsing
// Canonical Form of any Avro schema text, as single-object encoding
// carries it.
func SpecFingerprint(schemaText string) (uint64, error) {
	pcf, err := CanonicalForm(schemaText)
	if err != nil {
		return 0, err
	}
	return crc64Avro([]byte(pcf)), nil
}

// CanonicalForm returns the Parsing Canonical Form of an Avro schema text
// as the specification defines it: primitives in their simple form, full
// names, only the attributes name, type, fields, symbols, items, values
// and size, in that order, integers unquoted, no whitespace.
func CanonicalForm(schemaText string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(schemaText))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("canonical form: %w", err)
	}
	var b bytes.Buffer
	if err := writePCF(&b, v, ""); err != nil {
		return "", fmt.Errorf("canonical form: %w", err)
	}
	return b.String(), nil
}

var primitiveTypes = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true,
	"float": true, "double": true, "bytes": true, "string": true,
}

// fullName qualifies name with the namespace ns unless it is a primitive
// or already dotted.
func fullName(name, ns string) string {
	if primitiveTypes[name] || strings.Contains(name, ".") || ns == "" {
		return name
	}
	return ns + "." + name
}

// writePCF appends the canonical form of schema v (a decoded JSON value)
// with enclosing namespace ns.
func writePCF(b *bytes.Buffer, v any, ns string) error {
	switch t := v.(type) {
	case string:
		writeJSONString(b, fullName(t, ns))
		return nil
	case []any:
		b.WriteByte('[')
		for i, branch := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writePCF(b, branch, ns); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case map[string]any:
		return writePCFObject(b, t, ns)
	}
	return fmt.Errorf("schema is a JSON %T, want a string, array or object", v)
}

func writePCFObject(b *bytes.Buffer, m map[string]any, ns string) error {
	typ, ok := m["type"].(string)
	if !ok {
		if inner, nested := m["type"]; nested && inner != nil {
			return writePCF(b, inner, ns) // {"type": {...}} or {"type": [...]}
		}
		return fmt.Errorf("schema object without a type")
	}
	switch typ {
	case "record", "error", "enum", "fixed":
		name, _ := m["name"].(string)
		if name == "" {
			return fmt.Errorf("%s without a name", typ)
		}
		if !strings.Contains(name, ".") {
			if space, ok := m["namespace"].(string); ok {
				ns = space
			}
		}
		name = fullName(name, ns)
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			ns = name[:i]
		} else {
			ns = ""
		}
		b.WriteString(`{"name":`)
		writeJSONString(b, name)
		b.WriteString(`,"type":`)
		writeJSONString(b, typ)
		switch typ {
		case "enum":
			b.WriteString(`,"symbols":`)
			if err := writeSymbols(b, m["symbols"]); err != nil {
				return fmt.Errorf("enum %s: %w", name, err)
			}
		case "fixed":
			size, err := pcfInt(m["size"])
			if err != nil {
				return fmt.Errorf("fixed %s: size: %w", name, err)
			}
			b.WriteString(`,"size":`)
			b.WriteString(strconv.FormatInt(size, 10))
		default:
			b.WriteString(`,"fields":[`)
			fields, _ := m["fields"].([]any)
			for i, f := range fields {
				fm, ok := f.(map[string]any)
				if !ok {
					return fmt.Errorf("record %s: field %d is not an object", name, i)
				}
				if i > 0 {
					b.WriteByte(',')
				}
				fname, _ := fm["name"].(string)
				b.WriteString(`{"name":`)
				writeJSONString(b, fname)
				b.WriteString(`,"type":`)
				if err := writePCF(b, fm["type"], ns); err != nil {
					return fmt.Errorf("record %s: field %s: %w", name, fname, err)
				}
				b.WriteByte('}')
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
		return nil
	case "array", "map":
		key := "items"
		if typ == "map" {
			key = "values"
		}
		fmt.Fprintf(b, `{"type":%q,%q:`, typ, key)
		if err := writePCF(b, m[key], ns); err != nil {
			return fmt.Errorf("%s %s: %w", typ, key, err)
		}
		b.WriteByte('}')
		return nil
	}
	// A primitive (possibly with a logical type, which the canonical form
	// drops) or a reference to a named type.
	writeJSONString(b, fullName(typ, ns))
	return nil
}

func writeSymbols(b *bytes.Buffer, v any) error {
	syms, _ := v.([]any)
	b.WriteByte('[')
	for i, s := range syms {
		str, ok := s.(string)
		if !ok {
			return fmt.Errorf("enum symbol %d is not a string", i)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, str)
	}
	b.WriteByte(']')
	return nil
}

// pcfInt reads a JSON integer, quoted or not ([INTEGERS]).
func pcfInt(v any) (int64, error) {
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = t
	default:
		return 0, fmt.Errorf("want an integer, got %T", v)
	}
	return strconv.ParseInt(s, 10, 64)
}

// writeJSONString writes s as a JSON string with its characters as UTF-8,
// escaping only what JSON requires ([STRINGS]).
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}
