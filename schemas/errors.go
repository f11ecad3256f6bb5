package schemas

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by a Codec wraps exactly one of them,
// so callers can classify with errors.Is; the messages are readable reasons
// fit for a dead-letter record.
var (
	// ErrUnknownSchema: the record names a schema id or fingerprint this codec
	// does not know and cannot fetch. Permanent for that record.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrWrongSchema: the schema is known but describes another record type
	// (for example a GLEntry written to ar.events) or is not Avro.
	ErrWrongSchema = errors.New("wrong schema")
	// ErrMalformed: the bytes are not a well-formed record of any accepted
	// wire format (bad framing, truncated Avro, invalid JSON, trailing bytes).
	ErrMalformed = errors.New("malformed record")
	// ErrMissingField: a required field is absent.
	ErrMissingField = errors.New("missing required field")
	// ErrWrongType: a field is present with a type that cannot hold it.
	ErrWrongType = errors.New("wrong field type")
	// ErrInvalidField: a field has the right type but an unusable value
	// (unparsable decimal or date, unknown enum symbol or union branch,
	// out of range).
	ErrInvalidField = errors.New("invalid field value")
	// ErrRegistry: the Schema Registry could not be reached or refused the
	// request. Transient: retry the record, do not dead-letter it.
	ErrRegistry = errors.New("schema registry unavailable")
	// ErrEncode: a value cannot be encoded with its schema (a bug upstream:
	// unknown enum value, nil body...).
	ErrEncode = errors.New("cannot encode")
)

// Transient reports whether err may succeed on retry (registry trouble)
// rather than being a property of the record that belongs in the DLQ.
func Transient(err error) bool { return errors.Is(err, ErrRegistry) }

// UnknownSchemaError names the schema id (Confluent wire format) or the
// fingerprint (single-object encoding) that could not be resolved.
type UnknownSchemaError struct {
	// ID is the Confluent schema id, or 0 for single-object encoding.
	ID int
	// Fingerprint is the CRC-64-AVRO fingerprint, or 0 for Confluent.
	Fingerprint uint64
	// Subject is set when encoding looked a subject up and found nothing.
	Subject string
}

func (e *UnknownSchemaError) Error() string {
	switch {
	case e.Subject != "":
		return fmt.Sprintf("schema not registered under subject %q", e.Subject)
	case e.ID != 0:
		return fmt.Sprintf("unknown schema id %d", e.ID)
	default:
		return fmt.Sprintf("unknown schema fingerprint %#016x", e.Fingerprint)
	}
}

// Is makes errors.Is(err, ErrUnknownSchema) true.
func (e *UnknownSchemaError) Is(target error) bool { return target == ErrUnknownSchema }

// FieldError is a structural problem with one field of a decoded record.
// Path locates the enclosing record ("" for the envelope,
// "payload.InvoiceIssued", "payload.ArrangementCreated.installments[1]").
type FieldError struct {
	Path   string
	Field  string
	Err    error // ErrMissingField, ErrWrongType or ErrInvalidField
	Detail string
}

func (e *FieldError) Error() string {
	prefix := ""
	if e.Path != "" {
		prefix = e.Path + ": "
	}
	switch e.Err {
	case ErrMissingField:
		return prefix + "missing required field " + e.Field
	case ErrWrongType:
		return prefix + "field " + e.Field + " has wrong type: " + e.Detail
	default:
		return prefix + "field " + e.Field + ": " + e.Detail
	}
}

func (e *FieldError) Unwrap() error { return e.Err }

// malformed wraps ErrMalformed with a reason.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
