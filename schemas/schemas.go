package schemas

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/linkedin/goavro/v2"
)

// Full names of the record schemas this package owns, one per topic value.
const (
	EventSchema      = "arrears.ArEvent"       // ar.events
	ActionSchema     = "arrears.DunningAction" // ar.dunning.actions
	RiskSchema       = "arrears.RiskEvent"     // ar.risk.events
	StatusSchema     = "arrears.AccountStatus" // ar.account.status
	GLSchema         = "arrears.GLEntry"       // ar.gl
	DeadLetterSchema = "arrears.DeadLetter"    // ar.dlq
)

//go:embed *.avsc
var avscFS embed.FS

// schemaFiles maps each owned record to its .avsc file.
var schemaFiles = map[string]string{
	EventSchema:      "ar_event.avsc",
	ActionSchema:     "dunning_action.avsc",
	RiskSchema:       "risk_event.avsc",
	StatusSchema:     "account_status.avsc",
	GLSchema:         "gl_entry.avsc",
	DeadLetterSchema: "dead_letter.avsc",
}

// Names lists the owned record schemas.
func Names() []string {
	return []string{EventSchema, ActionSchema, RiskSchema, StatusSchema, GLSchema, DeadLetterSchema}
}

// Schema returns the .avsc text of an owned record schema, as registered
// with a Schema Registry.
func Schema(name string) (string, bool) {
	file, ok := schemaFiles[name]
	if !ok {
		return "", false
	}
	b, err := avscFS.ReadFile(file)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Fingerprint returns the CRC-64-AVRO (Rabin) fingerprint of an owned
// schema's Parsing Canonical Form as the Avro specification defines it
// (pcf.go), as written in single-object encoding.
func Fingerprint(name string) (uint64, bool) {
	s, ok := builtins()[name]
	if !ok {
		return 0, false
	}
	return s.fp, true
}

// LegacyFingerprint returns the fingerprint arrears wrote for an owned
// schema before it followed the specification: goavro's Rabin over
// goavro's canonical form. Readers still accept it (docs/schemas.md,
// "Transition"); nothing writes it.
func LegacyFingerprint(name string) (uint64, bool) {
	s, ok := builtins()[name]
	if !ok {
		return 0, false
	}
	return s.legacy, true
}

// schema is one parsed writer schema: its goavro codec (built once, shared by
// all goroutines) and the full name of its top-level record.
type schema struct {
	name  string
	text  string
	codec *goavro.Codec
	// fp is the specification's fingerprint (CRC-64-AVRO of the Parsing
	// Canonical Form); legacy is goavro's codec.Rabin, which arrears
	// wrote before (see LegacyFingerprint).
	fp, legacy uint64
	// For a writer schema of an owned record other than ours (a previous
	// version, a registry's, a known writer): resolve projects its native
	// values onto ours, or incompatible says why it cannot (resolve.go).
	resolve      conv
	incompatible error
	// textCodec renders Avro JSON with decimals as strings; built lazily
	// only for owned schemas.
	textCodec *goavro.Codec
}

// parseSchema builds a codec for an Avro schema text.
func parseSchema(text string) (*schema, error) {
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	fp, err := SpecFingerprint(text)
	if err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	return &schema{name: recordName(text), text: text, codec: codec, fp: fp, legacy: codec.Rabin}, nil
}

// asWriter prepares s, a writer schema other than ours, for reading: when
// it is one of our records, its resolution against ours is compiled once
// here, or the reason it is incompatible is kept for every record.
func (s *schema) asWriter() *schema {
	own := builtins()[s.name]
	if own == nil || own == s {
		return s
	}
	c, err := resolveWriter(s.text, own.text)
	if err == nil {
		s.resolve = c
		return s
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		s.incompatible = fmt.Errorf("writer schema %#016x of %s is incompatible with ours: %w", s.fp, s.name, err)
	} else {
		s.incompatible = fmt.Errorf("%w: writer schema %#016x of %s: %v", ErrIncompatibleSchema, s.fp, s.name, err)
	}
	return s
}

// recordName is the full name of the schema's top-level record, "" when the
// schema is not a named record.
func recordName(text string) string {
	var head struct {
		Type      any    `json:"type"`
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal([]byte(text), &head); err != nil || head.Type != "record" {
		return ""
	}
	if strings.Contains(head.Name, ".") || head.Namespace == "" {
		return head.Name
	}
	return head.Namespace + "." + head.Name
}

var builtinSchemas = func() map[string]*schema {
	m := make(map[string]*schema, len(schemaFiles))
	for name := range schemaFiles {
		text, _ := Schema(name)
		s, err := parseSchema(text)
		if err == nil && s.name != name {
			err = fmt.Errorf("record is named %q", s.name)
		}
		if err != nil {
			// The .avsc files are embedded at build time and covered by
			// tests; a failure here is a programming error, not input.
			panic(fmt.Sprintf("schemas: embedded %s: %v", name, err))
		}
		s.textCodec, err = goavro.NewCodecWithOptions(text, &goavro.CodecOption{
			EnableStringNull:                         true,
			EnableDecimalBinarySpecCompliantEncoding: true,
		})
		if err != nil {
			panic(fmt.Sprintf("schemas: embedded %s: %v", name, err))
		}
		m[name] = s
	}
	return m
}()

func builtins() map[string]*schema { return builtinSchemas }
