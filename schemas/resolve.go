package schemas

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// Schema resolution (Avro specification, "Schema Resolution"): a record
// written with another schema for one of our records (a newer or older
// writer) is decoded with the writer's goavro codec and its native value
// projected onto our schema, the reader: fields matched by name (or the
// reader field's aliases), writer-only fields dropped, reader-only fields
// filled from their defaults, numbers promoted (int to long, float,
// double; long to float, double; float to double), string and bytes
// interchanged, union branches matched by name. The projection is
// compiled once per writer schema (resolveWriter, cached with the schema)
// and then hands our normal decoding a value shaped like our own codec's.
//
// What cannot be resolved is refused once, for the writer schema as a
// whole, with a FieldError naming the field (ErrIncompatibleSchema,
// CodeIncompatible): a reader field missing in the writer without a
// default, a type that cannot be promoted, a renamed record. What can only
// fail for some records fails only for them: a writer union branch or
// enum symbol the reader does not have (a new event kind, a new segment)
// is refused when a record uses it (ErrInvalidField naming the field), as
// the specification says.

// conv turns a writer's native value into the reader's.
type conv func(v any) (any, error)

func identity(v any) (any, error) { return v, nil }

// resolveWriter compiles the projection of writer onto reader (the owned
// schema of the same name). A nil conv with a nil error means the two are
// identical for decoding.
func resolveWriter(writerText, readerText string) (conv, error) {
	return compile(writerText, readerText, false)
}

// compatible reports why a reader on readerText could not read every
// record written with writerText: what resolveWriter refuses, and also a
// writer union branch or enum symbol the reader lacks (which resolution
// leaves to the records that use it). Our outputs must pass it against
// each previous version (FORWARD), so consumers on that version read them.
func compatible(writerText, readerText string) error {
	_, err := compile(writerText, readerText, true)
	return err
}

func compile(writerText, readerText string, strict bool) (conv, error) {
	w, err := parseAvro(writerText)
	if err != nil {
		return nil, fmt.Errorf("writer schema: %w", err)
	}
	r, err := parseAvro(readerText)
	if err != nil {
		return nil, fmt.Errorf("reader schema: %w", err)
	}
	rs := resolver{memo: map[[2]*avroType]*conv{}, strict: strict}
	return rs.resolve(w, r, "", "")
}

type resolver struct {
	memo   map[[2]*avroType]*conv // records in progress or done (recursive schemas)
	strict bool                   // refuse what only some records could fail on (compatible)
}

// incompatible is the schema-level refusal of field (in record path).
func incompatible(path, field, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Field: field, Err: ErrIncompatibleSchema, Code: CodeIncompatible,
		Detail: fmt.Sprintf(format, args...)}
}

// describe names a type for a reason.
func describe(t *avroType) string {
	switch {
	case t.kind == "union":
		return describeUnion(t)
	case t.name != "":
		return t.kind + " " + t.name
	case t.logical != "":
		return t.kind + " (" + t.logical + ")"
	case t.kind == "array" || t.kind == "map":
		return t.kind + " of " + describe(t.items)
	}
	return t.kind
}

// resolve compiles the conversion of values of w into values of r, for
// field of the record at path.
func (rs *resolver) resolve(w, r *avroType, path, field string) (conv, error) {
	if w.kind == "union" {
		return rs.fromUnion(w, r, path, field)
	}
	if r.kind == "union" {
		// The first branch of the same type, else the first w promotes to.
		for _, exact := range []bool{true, false} {
			for _, b := range r.union {
				if matches(w, b) && (!exact || w.kind == b.kind) {
					c, err := rs.resolve(w, b, path, branchField(field, b))
					if err != nil {
						return nil, err
					}
					return wrapUnion(b, c), nil
				}
			}
		}
		return nil, incompatible(path, field, "writer type %s is not a branch of the reader's union", describe(w))
	}
	if !matches(w, r) {
		return nil, incompatible(path, field, "writer type %s cannot be read as %s", describe(w), describe(r))
	}
	switch r.kind {
	case "record":
		return rs.record(w, r, joinPath(path, field))
	case "enum":
		if rs.strict && r.enumDef == "" {
			for _, sym := range w.symbols {
				if !slices.Contains(r.symbols, sym) {
					return nil, incompatible(path, field, "writer symbol %s of enum %s is not the reader's", sym, w.name)
				}
			}
		}
		return enumConv(w, r), nil
	case "array", "map":
		c, err := rs.resolve(w.items, r.items, path, field+"[]")
		if err != nil || c == nil {
			return c, err
		}
		if r.kind == "array" {
			return arrayConv(c), nil
		}
		return mapConv(c), nil
	case "fixed":
		if w.size != r.size {
			return nil, incompatible(path, field, "fixed %s has size %d, the reader's %d", w.name, w.size, r.size)
		}
	}
	return primitiveConv(w, r, path, field)
}

// branchField locates a record in a union by its name: the body of an
// event is "payload.InvoiceIssued", as our decoding names it.
func branchField(field string, b *avroType) string {
	if b.kind == "record" {
		return joinPath(field, shortName(b.name))
	}
	return field
}

// matches reports whether a writer type w may be read as the reader type r
// (same kind or a promotion; named types by unqualified name or alias).
func matches(w, r *avroType) bool {
	if r.name != "" {
		return w.kind == r.kind && (shortName(w.name) == shortName(r.name) || slices.Contains(r.aliases, w.name))
	}
	if w.kind == r.kind {
		return true
	}
	switch w.kind {
	case "int":
		return r.kind == "long" || r.kind == "float" || r.kind == "double"
	case "long":
		return r.kind == "float" || r.kind == "double"
	case "float":
		return r.kind == "double"
	case "string":
		return r.kind == "bytes"
	case "bytes":
		return r.kind == "string"
	}
	return false
}

// fromUnion resolves each branch of a writer union; a branch the reader
// has no match for fails for the records that use it.
func (rs *resolver) fromUnion(w, r *avroType, path, field string) (conv, error) {
	byKey := make(map[string]conv, len(w.union))
	var (
		nullOK   bool
		branches int
	)
	for _, b := range w.union {
		if b.kind == "null" {
			nullOK = r.kind == "null" || r.kind == "union" && slices.ContainsFunc(r.union, isNull)
			if rs.strict && !nullOK {
				return nil, incompatible(path, field, "the writer allows null, the reader's %s does not", describe(r))
			}
			continue
		}
		branches++
		if !matchesAny(b, r) {
			if rs.strict {
				return nil, incompatible(path, field, "writer union branch %s is not the reader's", describe(b))
			}
			continue // a new branch: only records using it fail
		}
		c, err := rs.resolve(b, r, path, field)
		if err != nil {
			return nil, err // a branch we have, changed incompatibly
		}
		if c == nil {
			c = identity
		}
		byKey[b.unionKey()] = c
	}
	if branches > 0 && len(byKey) == 0 {
		return nil, incompatible(path, field, "no type of the writer's %s can be read as %s", describeUnion(w), describe(r))
	}
	return func(v any) (any, error) {
		if v == nil {
			if nullOK {
				return nil, nil
			}
			return nil, &FieldError{Path: path, Field: field, Err: ErrMissingField}
		}
		m, ok := v.(map[string]any)
		if ok && len(m) == 1 {
			for k, inner := range m {
				if c := byKey[k]; c != nil {
					return c(inner)
				}
				return nil, &FieldError{Path: path, Field: field, Err: ErrInvalidField,
					Detail: fmt.Sprintf("writer union branch %s has no match in arrears' schema", k)}
			}
		}
		return nil, malformed("%s: union value %T", field, v)
	}, nil
}

func isNull(t *avroType) bool { return t.kind == "null" }

// matchesAny: w matches r or one of its branches.
func matchesAny(w, r *avroType) bool {
	if r.kind != "union" {
		return matches(w, r)
	}
	return slices.ContainsFunc(r.union, func(b *avroType) bool { return matches(w, b) })
}

func describeUnion(u *avroType) string {
	parts := make([]string, len(u.union))
	for i, b := range u.union {
		parts[i] = describe(b)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// wrapUnion makes a value of branch b a value of the reader's union.
func wrapUnion(b *avroType, c conv) conv {
	if b.kind == "null" {
		return func(any) (any, error) { return nil, nil }
	}
	key := b.unionKey()
	return func(v any) (any, error) {
		if c != nil {
			var err error
			if v, err = c(v); err != nil {
				return nil, err
			}
		}
		return map[string]any{key: v}, nil
	}
}

func (rs *resolver) record(w, r *avroType, path string) (conv, error) {
	key := [2]*avroType{w, r}
	if c, ok := rs.memo[key]; ok {
		return func(v any) (any, error) { return (*c)(v) }, nil
	}
	holder := new(conv)
	rs.memo[key] = holder
	type plan struct {
		name, from string
		c          conv
		def        any
	}
	plans := make([]plan, 0, len(r.fields))
	same := len(w.fields) == len(r.fields)
	for i, rf := range r.fields {
		wf := writerField(w, rf)
		if wf == nil {
			if !rf.hasDef {
				return nil, incompatible(path, rf.name, "missing in the writer schema %s and has no default", w.name)
			}
			def, err := defaultNative(rf.typ, rf.def)
			if err != nil {
				return nil, incompatible(path, rf.name, "default: %v", err)
			}
			plans = append(plans, plan{name: rf.name, def: def})
			same = false
			continue
		}
		c, err := rs.resolve(wf.typ, rf.typ, path, rf.name)
		if err != nil {
			return nil, err
		}
		same = same && c == nil && wf.name == rf.name && w.fields[i].name == rf.name
		plans = append(plans, plan{name: rf.name, from: wf.name, c: c})
	}
	*holder = func(v any) (any, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, malformed("%s: record value %T", path, v)
		}
		out := make(map[string]any, len(plans))
		for _, p := range plans {
			if p.from == "" {
				out[p.name] = p.def
				continue
			}
			fv := m[p.from]
			if p.c != nil {
				var err error
				if fv, err = p.c(fv); err != nil {
					return nil, err
				}
			}
			out[p.name] = fv
		}
		return out, nil
	}
	if same {
		*holder = identity
	}
	return *holder, nil
}

// writerField is the writer's field the reader field rf reads.
func writerField(w *avroType, rf avroField) *avroField {
	for i, wf := range w.fields {
		if wf.name == rf.name || slices.Contains(rf.aliases, wf.name) {
			return &w.fields[i]
		}
	}
	return nil
}

// enumConv maps symbols the reader lacks to its default when it has one;
// otherwise the symbol passes and our decoding refuses it for the record,
// naming the field.
func enumConv(w, r *avroType) conv {
	if r.enumDef == "" {
		return nil
	}
	return func(v any) (any, error) {
		if s, ok := v.(string); ok && !slices.Contains(r.symbols, s) {
			return r.enumDef, nil
		}
		return v, nil
	}
}

func arrayConv(c conv) conv {
	return func(v any) (any, error) {
		in, ok := v.([]any)
		if !ok {
			return nil, malformed("array value %T", v)
		}
		out := make([]any, len(in))
		for i, x := range in {
			var err error
			if out[i], err = c(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func mapConv(c conv) conv {
	return func(v any) (any, error) {
		in, ok := v.(map[string]any)
		if !ok {
			return nil, malformed("map value %T", v)
		}
		out := make(map[string]any, len(in))
		for k, x := range in {
			var err error
			if out[k], err = c(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// primitiveConv promotes numbers, interchanges string and bytes, and
// turns a plain writer value into the reader's logical type (long to
// timestamp, int to date, bytes to decimal with the reader's scale).
func primitiveConv(w, r *avroType, path, field string) (conv, error) {
	wl, rl := timeFamily(w.logical), timeFamily(r.logical)
	switch {
	case wl == rl && w.kind == r.kind:
		return nil, nil
	case wl == rl && wl == "":
		return promote(r.kind), nil
	case wl == "" && w.kind == r.kind:
		return toLogical(r), nil
	}
	return nil, incompatible(path, field, "writer type %s cannot be read as %s", describe(w), describe(r))
}

// timeFamily treats the timestamp precisions as one: goavro decodes both
// to time.Time.
func timeFamily(l string) string {
	if l == "timestamp-micros" {
		return "timestamp-millis"
	}
	return l
}

func promote(to string) conv {
	return func(v any) (any, error) {
		switch x := v.(type) {
		case int32:
			switch to {
			case "long":
				return int64(x), nil
			case "float":
				return float32(x), nil
			}
			return float64(x), nil
		case int64:
			if to == "float" {
				return float32(x), nil
			}
			return float64(x), nil
		case float32:
			return float64(x), nil
		case string:
			return []byte(x), nil
		case []byte:
			return string(x), nil
		}
		return nil, malformed("cannot promote %T to %s", v, to)
	}
}

func toLogical(r *avroType) conv {
	return func(v any) (any, error) {
		switch x := v.(type) {
		case int64:
			switch r.logical {
			case "timestamp-millis":
				return time.UnixMilli(x).UTC(), nil
			case "timestamp-micros":
				return time.UnixMicro(x).UTC(), nil
			}
		case int32:
			if r.logical == "date" {
				return time.Unix(int64(x)*86400, 0).UTC(), nil
			}
		case []byte:
			if r.logical == "decimal" {
				return decimalFromBytes(x, r.scale), nil
			}
		}
		return v, nil // no logical type, or one goavro leaves alone
	}
}

// decimalFromBytes reads a big-endian two's-complement unscaled value.
func decimalFromBytes(b []byte, scale int) *big.Rat {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
}
