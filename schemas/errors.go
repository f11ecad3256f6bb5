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
	// ErrIncompatibleSchema: the writer's schema is known but cannot be
	// read as ours by the Avro resolution rules (a field we need is
	// missing and has no default, a type cannot be promoted). Permanent for
	// every record of that writer schema.
	ErrIncompatibleSchema = errors.New("incompatible writer schema")
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
	Err    error // ErrMissingField, ErrWrongType, ErrInvalidField or ErrIncompatibleSchema
	Detail string
	// Code refines Err for dead letters (CodeInvalidAmount, ...); empty
	// means Code(err) derives it from Err.
	Code string
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

// Dead-letter codes returned by Code: stable, upper case, bounded (safe as
// metric labels). The specific INVALID_* codes all refine ErrInvalidField.
const (
	CodeMalformed       = "MALFORMED"            // ErrMalformed
	CodeUnknownSchema   = "UNKNOWN_SCHEMA"       // ErrUnknownSchema
	CodeWrongSchema     = "WRONG_SCHEMA"         // ErrWrongSchema
	CodeIncompatible    = "INCOMPATIBLE_SCHEMA"  // ErrIncompatibleSchema
	CodeMissingField    = "MISSING_FIELD"        // ErrMissingField
	CodeWrongType       = "WRONG_TYPE"           // ErrWrongType
	CodeInvalidField    = "INVALID_FIELD"        // ErrInvalidField, no finer code
	CodeInvalidAmount   = "INVALID_AMOUNT"       // not a decimal, too many decimals for the currency, beyond max_amount
	CodeUnknownCurrency = "UNKNOWN_CURRENCY"     // not an active ISO 4217 code
	CodeInvalidTime     = "INVALID_TIME"         // instant or date unparsable or outside min_time..max_time
	CodeInvalidID       = "INVALID_ID"           // id empty, not UTF-8 or longer than max_id_bytes
	CodeInvalidText     = "INVALID_TEXT"         // free text or code not UTF-8 or longer than max_text_bytes
	CodeInvalidTimezone = "INVALID_TIMEZONE"     // not an IANA zone time.LoadLocation knows
	CodeTooManyItems    = "TOO_MANY_ITEMS"       // an array longer than max_items
	CodeTickAccount     = "TICK_WITH_ACCOUNT"    // a ClockTick carrying an account_id
	CodeRegistry        = "REGISTRY_UNAVAILABLE" // ErrRegistry (transient: never dead-lettered)
	CodeEncode          = "ENCODE"               // ErrEncode
)

// Code maps an error of this package to its dead-letter code (the Code*
// constants): the FieldError's own Code when set, else the code of the
// sentinel it wraps. It returns "" for nil and for errors that wrap no
// sentinel of this package, so a caller can choose its own code for them.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe.Code != "" {
		return fe.Code
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	return ""
}

var sentinelCodes = []struct {
	err  error
	code string
}{
	{ErrMalformed, CodeMalformed}, {ErrUnknownSchema, CodeUnknownSchema}, {ErrWrongSchema, CodeWrongSchema},
	{ErrIncompatibleSchema, CodeIncompatible},
	{ErrMissingField, CodeMissingField}, {ErrWrongType, CodeWrongType}, {ErrInvalidField, CodeInvalidField},
	{ErrRegistry, CodeRegistry}, {ErrEncode, CodeEncode},
}

// invalid is a FieldError of ErrInvalidField with a dead-letter code.
func invalid(path, field, code, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Field: field, Err: ErrInvalidField, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// malformed wraps ErrMalformed with a reason.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
