package chsink

import (
	"context"
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/schemas"
)

// errClass is what the sink does about an error: the same three answers as
// the processor's classify (processor/errors.go), so the two can merge.
//   - retry: transient (ClickHouse or Kafka unavailable, network, timeouts,
//     the schema registry). Retried with backoff and a metric while the
//     sink holds its position; never dead-lettered.
//   - deadLetter: the record itself is bad (it does not decode, ClickHouse
//     or the client refuses its row, the broker refuses the dead letter
//     built from it). It goes to the DLQ once and the sink moves on.
//   - fatal: configuration or credentials. Retrying cannot help: Run
//     returns the error and the process exits.
type errClass string

const (
	retry      errClass = "retry"
	deadLetter errClass = "dead_letter"
	fatal      errClass = "fatal"
)

// Dead-letter codes of the sink's own dead letters (event.DeadLetter.Code).
const (
	// CodeSinkDecode: a record of a consumed topic does not decode.
	CodeSinkDecode = "SINK_DECODE"
	// CodeSinkRejected: ClickHouse or its client refused the record's row.
	CodeSinkRejected = "SINK_REJECTED"
)

// dataErrorCodes are ClickHouse exception codes that mean "this data is
// wrong", not "the server is unwell": a batch failing with one is bisected
// and the offending rows dead-lettered.
var dataErrorCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	72:  true, // CANNOT_PARSE_NUMBER
	117: true, // INCORRECT_DATA
	131: true, // TOO_LARGE_STRING_SIZE
	321: true, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
	407: true, // DECIMAL_OVERFLOW
}

// authErrorCodes are ClickHouse exception codes of a credentials or
// permission problem: configuration, fatal.
var authErrorCodes = map[int32]bool{
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	194: true, // REQUIRED_PASSWORD
	195: true, // IP_ADDRESS_NOT_ALLOWED
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

// kafkaFatal are broker errors retrying cannot fix: authentication and
// authorisation, a bad topic name.
var kafkaFatal = []error{
	kerr.SaslAuthenticationFailed, kerr.IllegalSaslState, kerr.UnsupportedSaslMechanism,
	kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed, kerr.ClusterAuthorizationFailed,
	kerr.InvalidTopicException,
}

// kafkaRecordErrors are broker errors about the produced record itself:
// the sink cannot send that dead letter as it is.
var kafkaRecordErrors = []error{
	kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.InvalidRecord, kerr.CorruptMessage,
}

// classify is the sink's one decision of retry, dead-letter or fatal, for
// decode, insert and DLQ produce errors ("" for nil). Whatever it does not recognise is
// retried: a wrong guess then costs a stall (visible in Stalled, the
// retries metric and /readyz), never a good record.
func classify(err error) errClass {
	var re *analytics.RowError
	var ex *clickhouse.Exception
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return retry // an attempt's timeout, or shutdown (the caller checks its ctx)
	case schemas.Transient(err):
		return retry // registry down: never dead-letter a good record
	case errors.Is(err, schemas.ErrMalformed), errors.Is(err, schemas.ErrUnknownSchema),
		errors.Is(err, schemas.ErrWrongSchema), errors.Is(err, schemas.ErrMissingField),
		errors.Is(err, schemas.ErrWrongType), errors.Is(err, schemas.ErrInvalidField),
		errors.Is(err, errNoPayload):
		return deadLetter
	case errors.As(err, &re):
		return deadLetter // the client cannot encode the row
	case analytics.Cause(err) != nil:
		return fatal // a refused login, a statement this user may not run, an untrusted certificate
	case errors.As(err, &ex):
		switch {
		case dataErrorCodes[ex.Code]:
			return deadLetter
		case authErrorCodes[ex.Code]:
			return fatal
		}
		// network, server down, memory, too many parts, a table not
		// migrated yet: the infrastructure's fault
		return retry
	case errors.Is(err, kgo.ErrClientClosed):
		return fatal
	}
	for _, e := range kafkaFatal {
		if errors.Is(err, e) {
			return fatal
		}
	}
	for _, e := range kafkaRecordErrors {
		if errors.Is(err, e) {
			return deadLetter
		}
	}
	return retry
}

// errNoPayload: an event record decoded to an envelope without a body.
var errNoPayload = errors.New("event has no payload")
