package chsink

import (
	"errors"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/arrears/arrears/analytics"
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

// retryable decides retry vs dead-letter for an insert error: only a row the
// client cannot encode, or a server exception about the data, is permanent.
// Everything else (network, server down, timeouts, memory, too many parts,
// a missing table or column) is the infrastructure's fault: retrying, with
// the pipeline paused, is right, and dead-lettering would lose good data.
func retryable(err error) bool {
	var re *analytics.RowError
	if errors.As(err, &re) {
		return false
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		return !dataErrorCodes[ex.Code]
	}
	return true
}
