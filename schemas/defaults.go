package schemas

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// defaultNative turns a field's JSON default into the native value our
// codec would have decoded (a union's default is of its first branch).
func defaultNative(t *avroType, v any) (any, error) {
	switch t.kind {
	case "null":
		return nil, nil
	case "union":
		if len(t.union) == 0 {
			return nil, fmt.Errorf("empty union")
		}
		inner, err := defaultNative(t.union[0], v)
		if err != nil || t.union[0].kind == "null" {
			return inner, err
		}
		return map[string]any{t.union[0].unionKey(): inner}, nil
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case "int", "long", "float", "double":
		if n, ok := v.(json.Number); ok {
			return numberDefault(t, n)
		}
	case "string", "enum":
		if s, ok := v.(string); ok {
			return s, nil
		}
	case "bytes", "fixed":
		if s, ok := v.(string); ok {
			b := make([]byte, 0, len(s))
			for _, r := range s {
				b = append(b, byte(r)) // Avro JSON bytes: one code point 0-255 a byte
			}
			return toLogical(t)(b)
		}
	case "array":
		if list, ok := v.([]any); ok {
			out := make([]any, len(list))
			for i, x := range list {
				var err error
				if out[i], err = defaultNative(t.items, x); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
	case "map", "record":
		return objectDefault(t, v)
	}
	return nil, fmt.Errorf("%v is not a %s", v, describe(t))
}

func numberDefault(t *avroType, n json.Number) (any, error) {
	switch t.kind {
	case "int":
		i, err := strconv.ParseInt(n.String(), 10, 32)
		if err != nil {
			return nil, err
		}
		return toLogical(t)(int32(i))
	case "long":
		i, err := n.Int64()
		if err != nil {
			return nil, err
		}
		return toLogical(t)(i)
	case "float":
		f, err := n.Float64()
		return float32(f), err
	}
	return n.Float64()
}

func objectDefault(t *avroType, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a %s", v, describe(t))
	}
	out := make(map[string]any, len(m))
	if t.kind == "map" {
		for k, x := range m {
			var err error
			if out[k], err = defaultNative(t.items, x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for _, f := range t.fields {
		x, ok := m[f.name]
		if !ok {
			if !f.hasDef {
				return nil, fmt.Errorf("field %s has no value", f.name)
			}
			x = f.def
		}
		var err error
		if out[f.name], err = defaultNative(f.typ, x); err != nil {
			return nil, err
		}
	}
	return out, nil
}
