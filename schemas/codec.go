package schemas

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

// Wire format markers.
const (
	confluentMagic  = 0x00
	confluentHeader = 5 // magic + 4-byte big-endian schema id
	soeHeader       = 10
)

// Codec encodes and decodes arrears records. It is safe for concurrent use;
// parsed schemas, registry ids and subject ids are cached for its lifetime.
type Codec struct {
	cfg   Config
	lim   limits
	zones zoneCache
	reg   *sr.Client // nil without a registry

	// byFingerprint resolves single-object encoding; immutable after New.
	byFingerprint map[uint64]*schema

	mu       sync.RWMutex
	byID     map[int]*schema       // Confluent ids: KnownIDs, fetched, registered
	fetched  []int                 // ids of byID fetched from the registry, oldest first (bounded)
	unknown  map[int]time.Time     // ids the registry did not know, and when (bounded)
	subjects map[subjectKey]int    // "<topic>-value" + record -> id
	fetching map[int]chan struct{} // in-flight registry fetches

	// slowOutputs makes the output decoders use goavro for our own schema
	// too (fastoutput.go; the tests compare the two paths).
	slowOutputs bool
}

type subjectKey struct{ subject, record string }

// New builds a Codec. It does no network IO: the registry is contacted on
// the first record that needs it.
func New(cfg Config) (*Codec, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	lim, err := cfg.limits()
	if err != nil {
		return nil, err
	}
	c := &Codec{
		cfg:           cfg,
		lim:           lim,
		byFingerprint: make(map[uint64]*schema),
		byID:          make(map[int]*schema),
		unknown:       make(map[int]time.Time),
		subjects:      make(map[subjectKey]int),
		fetching:      make(map[int]chan struct{}),
	}
	for _, s := range builtins() {
		c.byFingerprint[s.fp] = s
	}
	for _, s := range builtins() {
		c.addFingerprint(s.legacy, s) // transition: what arrears wrote before
	}
	for _, s := range historicSchemas { // history.go
		c.addFingerprint(s.fp, s)
		c.addFingerprint(s.legacy, s)
	}
	for id, text := range cfg.KnownIDs {
		s, err := resolveKnown(text)
		if err != nil {
			return nil, fmt.Errorf("schemas: KnownIDs[%d]: %w", id, err)
		}
		if s.incompatible != nil {
			return nil, fmt.Errorf("schemas: known_ids[%d]: %w", id, s.incompatible)
		}
		c.byID[id] = s
		c.addFingerprint(s.fp, s)
		c.addFingerprint(s.legacy, s)
	}
	if cfg.KnownWriters != "" {
		writers, err := readKnownWriters(cfg.KnownWriters)
		if err != nil {
			return nil, err
		}
		for _, s := range writers {
			c.addFingerprint(s.fp, s)
			c.addFingerprint(s.legacy, s) // goavro writers put goavro's fingerprint
		}
	}
	if cfg.RegistryURL != "" {
		urls, auth, err := cfg.registry()
		if err != nil {
			return nil, err
		}
		opts := []sr.ClientOpt{sr.URLs(urls...), sr.UserAgent("arrears")}
		if auth != nil {
			pw, _ := auth.Password()
			opts = append(opts, sr.BasicAuth(auth.Username(), pw))
		}
		reg, err := sr.NewClient(opts...)
		if err != nil {
			return nil, fmt.Errorf("schemas: registry client: %w", err)
		}
		c.reg = reg
	}
	return c, nil
}

// addFingerprint makes single-object records with fingerprint fp decode
// with s, unless fp is taken already (the owned schemas come first).
func (c *Codec) addFingerprint(fp uint64, s *schema) {
	if _, ok := c.byFingerprint[fp]; !ok {
		c.byFingerprint[fp] = s
	}
}

// Format is an accepted wire format.
type Format uint8

// The wire formats DetectFormat recognizes.
const (
	FormatUnknown   Format = iota
	FormatConfluent        // 0x00, 4-byte big-endian schema id, Avro binary
	FormatSingle           // 0xC3 0x01, 8-byte little-endian fingerprint, Avro binary
	FormatJSON             // Avro JSON: first non-space byte '{'
)

func (f Format) String() string {
	switch f {
	case FormatConfluent:
		return "confluent"
	case FormatSingle:
		return "single-object"
	case FormatJSON:
		return "json"
	}
	return "unknown"
}

// DetectFormat tells the wire format from the first bytes of a record.
func DetectFormat(b []byte) Format {
	switch {
	case len(b) == 0:
		return FormatUnknown
	case b[0] == confluentMagic:
		return FormatConfluent
	case len(b) >= 2 && b[0] == 0xC3 && b[1] == 0x01:
		return FormatSingle
	}
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return FormatJSON
		}
		return FormatUnknown
	}
	return FormatUnknown
}

// frame splits a record into its writer schema and Avro binary body; for
// Avro JSON it returns a nil schema and the whole input.
func (c *Codec) frame(ctx context.Context, b []byte) (*schema, []byte, error) {
	switch DetectFormat(b) {
	case FormatConfluent:
		if len(b) < confluentHeader {
			return nil, nil, malformed("confluent header truncated (%d bytes)", len(b))
		}
		id := int(binary.BigEndian.Uint32(b[1:confluentHeader]))
		s, err := c.schemaByID(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		return s, b[confluentHeader:], nil
	case FormatSingle:
		if len(b) < soeHeader {
			return nil, nil, malformed("single-object header truncated (%d bytes)", len(b))
		}
		fp := binary.LittleEndian.Uint64(b[2:soeHeader])
		s := c.byFingerprint[fp]
		if s == nil {
			return nil, nil, &UnknownSchemaError{Fingerprint: fp}
		}
		return s, b[soeHeader:], nil
	case FormatJSON:
		return nil, b, nil
	}
	if len(b) == 0 {
		return nil, nil, malformed("empty record")
	}
	return nil, nil, malformed("unrecognized wire format (first byte %#02x)", b[0])
}

// nativeOf decodes a framed body of writer schema s (nil: JSON) to goavro's
// native form.
func nativeOf(s *schema, body []byte, want string) (map[string]any, error) {
	if s == nil {
		return decodeJSON(body)
	}
	return s.native(body, want)
}

// native decodes an Avro binary body with goavro.
func (s *schema) native(body []byte, want string) (map[string]any, error) {
	if s.name != want {
		return nil, fmt.Errorf("%w: record is %s, want %s", ErrWrongSchema, orUnnamed(s.name), want)
	}
	if s.incompatible != nil {
		return nil, s.incompatible
	}
	native, rest, err := s.codec.NativeFromBinary(body)
	if err != nil {
		return nil, malformed("avro binary: %v", err)
	}
	if len(rest) != 0 {
		return nil, malformed("%d trailing bytes after %s", len(rest), want)
	}
	if s.resolve != nil {
		if native, err = s.resolve(native); err != nil {
			return nil, err
		}
	}
	m, ok := native.(map[string]any)
	if !ok {
		return nil, malformed("%s decoded to %T", want, native)
	}
	return m, nil
}

func orUnnamed(name string) string {
	if name == "" {
		return "not a named record"
	}
	return name
}

// decodeJSON parses one Avro JSON object; numbers stay json.Number so
// decimals and longs are exact.
func decodeJSON(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, malformed("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("trailing data after JSON object")
	}
	return m, nil
}

// encode writes a record of the owned schema name with the hand-written
// encoder write into a buffer of size bytes (0: 256): Confluent wire format under "<topic>-value" with a
// registry, single-object encoding otherwise.
func (c *Codec) encode(ctx context.Context, topic, name string, size int, write func(w *avroWriter)) ([]byte, error) {
	s := builtins()[name]
	if size <= 0 {
		size = 256
	}
	w := &avroWriter{b: make([]byte, 0, size)}
	if c.reg == nil {
		w.b = append(w.b, 0xC3, 0x01)
		w.b = binary.LittleEndian.AppendUint64(w.b, s.fp)
	} else {
		id, err := c.subjectID(ctx, topic, s)
		if err != nil {
			return nil, err
		}
		w.b = append(w.b, confluentMagic)
		w.b = binary.BigEndian.AppendUint32(w.b, uint32(id))
	}
	write(w)
	if w.err != nil {
		return nil, fmt.Errorf("%s: %w", name, w.err)
	}
	return w.b, nil
}

// encodeJSON renders native as Avro JSON with decimals as decimal strings.
// goavro's field order varies between calls, so the text is re-marshalled
// with sorted keys to make the output stable (fixtures, diffs).
func encodeJSON(name string, native map[string]any) ([]byte, error) {
	text, err := builtins()[name].textCodec.TextualFromNative(nil, native)
	if err != nil {
		return nil, fmt.Errorf("%w %s as JSON: %v", ErrEncode, name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w %s as JSON: %v", ErrEncode, name, err)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(specUnions(v)); err != nil {
		return nil, fmt.Errorf("%w %s as JSON: %v", ErrEncode, name, err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// specUnions renames goavro's union branch of a logical type
// ({"long.timestamp-millis": 1}) to the specification's, the underlying
// type's name ({"long": 1}), throughout v. Named branches ("arrears.X")
// and plain primitives are kept.
func specUnions(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, inner := range x {
			x[k] = specUnions(inner)
		}
		if len(x) == 1 {
			for k, inner := range x {
				if prim, _, ok := strings.Cut(k, "."); ok && primitiveTypes[prim] {
					return map[string]any{prim: inner}
				}
			}
		}
	case []any:
		for i := range x {
			x[i] = specUnions(x[i])
		}
	}
	return v
}
