package schemas

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// fields reads one record in native form. The same reader serves goavro's
// native values (binary input) and parsed JSON (json.Number, strings), which
// is where the JSON friendliness lives:
//
//   - decimal: *big.Rat (binary); in JSON a number (12.5), a decimal string
//     ("12.50"), or the standard Avro-JSON bytes string of the two's
//     complement unscaled value. A string that reads as a plain decimal
//     number is always taken as a decimal string.
//   - date: time.Time (binary); in JSON days since 1970-01-01 or "YYYY-MM-DD".
//   - timestamp-millis: time.Time (binary); in JSON epoch millis or an
//     RFC 3339 string.
//   - optional ["null", T]: nil, the standard {"T": v} wrapper, or in JSON a
//     bare v; an absent optional field is null.
//
// The first problem is kept in err and later reads return zero values, so a
// converter reads every field and checks err once.
type fields struct {
	m    map[string]any
	path string
	err  error
}

func newFields(m map[string]any, path string) *fields { return &fields{m: m, path: path} }

func (f *fields) fail(name string, kind error, format string, args ...any) {
	if f.err == nil {
		f.err = &FieldError{Path: f.path, Field: name, Err: kind, Detail: fmt.Sprintf(format, args...)}
	}
}

// failCode is fail for ErrInvalidField with a finer dead-letter code.
func (f *fields) failCode(name, code, format string, args ...any) {
	if f.err == nil {
		f.err = invalid(f.path, name, code, format, args...)
	}
}

func (f *fields) wrongType(name, want string, v any) {
	f.fail(name, ErrWrongType, "want %s, got %s", want, typeName(v))
}

// required returns a present, non-null field.
func (f *fields) required(name string) (any, bool) {
	if f.err != nil {
		return nil, false
	}
	v, ok := f.m[name]
	if !ok || v == nil {
		f.fail(name, ErrMissingField, "")
		return nil, false
	}
	return v, true
}

// optional returns an optional field's value with any union wrapper removed;
// false when absent or null. The non-null branches of our optional fields
// are never maps themselves, so a one-entry map is always a union wrapper.
func (f *fields) optional(name string) (any, bool) {
	if f.err != nil {
		return nil, false
	}
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil, false
	}
	if w, ok := v.(map[string]any); ok {
		if len(w) != 1 {
			f.fail(name, ErrWrongType, "want a union value {\"type\": value}, got an object with %d keys", len(w))
			return nil, false
		}
		for _, inner := range w {
			v = inner
		}
		if v == nil {
			return nil, false
		}
	}
	return v, true
}

func (f *fields) str(name string) string {
	v, ok := f.required(name)
	return f.asString(name, v, ok)
}

// strOr reads a string field with a schema default.
func (f *fields) strOr(name, def string) string {
	v, ok := f.optional(name)
	if !ok {
		return def
	}
	return f.asString(name, v, ok)
}

func (f *fields) optStr(name string) string {
	v, ok := f.optional(name)
	return f.asString(name, v, ok)
}

func (f *fields) asString(name string, v any, ok bool) string {
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		f.wrongType(name, "string", v)
	}
	return s
}

// symbol reads an enum symbol and checks it is one of symbols.
func (f *fields) symbol(name string, v any, ok bool, symbols ...string) string {
	s := f.asString(name, v, ok)
	if !ok || f.err != nil {
		return ""
	}
	for _, sym := range symbols {
		if s == sym {
			return s
		}
	}
	f.fail(name, ErrInvalidField, "unknown symbol %s (want one of %s)", quoteInput(s), strings.Join(symbols, ", "))
	return ""
}

func (f *fields) enum(name string, symbols ...string) string {
	v, ok := f.required(name)
	return f.symbol(name, v, ok, symbols...)
}

func (f *fields) optEnum(name string, symbols ...string) string {
	v, ok := f.optional(name)
	return f.symbol(name, v, ok, symbols...)
}

func (f *fields) amount(name string) event.Amount {
	v, ok := f.required(name)
	return f.asAmount(name, v, ok)
}

// amountOr reads a decimal field that has a schema default of 0.
func (f *fields) amountOr(name string) event.Amount {
	v, ok := f.optional(name)
	return f.asAmount(name, v, ok)
}

func (f *fields) asAmount(name string, v any, ok bool) event.Amount {
	if !ok {
		return 0
	}
	var (
		a   event.Amount
		err error
	)
	switch x := v.(type) {
	case *big.Rat:
		a, err = ratAmount(x)
	case json.Number:
		a, err = event.ParseAmount(string(x))
	case string:
		if !isDecimalString(x) {
			// Not the Avro-JSON bytes form: "12,50" or "NaN" read as bytes
			// were silently wrong amounts.
			err = fmt.Errorf("%s is not a decimal such as \"12.50\" or -3", quoteInput(x))
		} else {
			a, err = event.ParseAmount(x)
		}
	default:
		f.wrongType(name, "decimal", v)
		return 0
	}
	if err == nil && (a > event.MaxDecimal || a < -event.MaxDecimal) {
		err = fmt.Errorf("%s does not fit decimal(18,4)", a)
	}
	if err != nil && f.err == nil {
		f.err = invalid(f.path, name, CodeInvalidAmount, "%v", err)
	}
	return a
}

// quoteInput quotes an input string for an error message, cut to 32 bytes.
func quoteInput(s string) string { return strconv.Quote(cutInput(s)) }

// cutInput cuts an input value to 32 bytes for an error message.
func cutInput(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// ratAmount converts goavro's decimal; the common case (denominator divides
// 10^Scale, as every scale-4 value does) avoids big.Int arithmetic.
func ratAmount(r *big.Rat) (event.Amount, error) {
	num, den := r.Num(), r.Denom()
	if num.IsInt64() && den.IsInt64() {
		n, d := num.Int64(), den.Int64()
		const unit = 10000
		if d > 0 && unit%d == 0 {
			m := unit / d
			if n <= math.MaxInt64/m && n >= math.MinInt64/m {
				return event.Amount(n * m), nil
			}
		}
	}
	return event.AmountFromRat(r)
}

// isDecimalString reports whether s reads as a plain decimal number
// ([+-]digits[.digits], no exponent): the only strings an amount may be.
func isDecimalString(s string) bool {
	s = strings.TrimSpace(s)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// bytesString decodes the Avro-JSON representation of bytes.
func bytesString(s string) ([]byte, error) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return nil, fmt.Errorf("bytes string has code point %U above U+00FF", r)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

func (f *fields) date(name string) event.Date {
	v, ok := f.required(name)
	return f.asDate(name, v, ok)
}

// dateOr reads a date field whose schema default is 0 (1970-01-01).
func (f *fields) dateOr(name string) event.Date {
	v, ok := f.optional(name)
	return f.asDate(name, v, ok)
}

func (f *fields) asDate(name string, v any, ok bool) event.Date {
	if !ok {
		return 0
	}
	switch x := v.(type) {
	case time.Time:
		return event.DateOf(x)
	case int32:
		return event.Date(x)
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, 32)
		if err != nil {
			f.failCode(name, CodeInvalidTime, "date %s: want days since 1970-01-01 as a 32-bit integer", cutInput(string(x)))
		}
		return event.Date(n)
	case string:
		d, err := event.ParseDate(x)
		if err != nil {
			f.failCode(name, CodeInvalidTime, "date %s: want YYYY-MM-DD", quoteInput(x))
		}
		return d
	}
	f.wrongType(name, "date", v)
	return 0
}

func (f *fields) timestamp(name string) time.Time {
	v, ok := f.required(name)
	return f.asTimestamp(name, v, ok)
}

// optTimestamp reads ["null", timestamp-millis]; null is the zero time.
func (f *fields) optTimestamp(name string) time.Time {
	v, ok := f.optional(name)
	return f.asTimestamp(name, v, ok)
}

func (f *fields) asTimestamp(name string, v any, ok bool) time.Time {
	if !ok {
		return time.Time{}
	}
	switch x := v.(type) {
	case time.Time:
		return x
	case int64:
		return time.UnixMilli(x).UTC()
	case json.Number:
		ms, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			f.failCode(name, CodeInvalidTime, "timestamp %s: want epoch milliseconds as an integer", cutInput(string(x)))
		}
		return time.UnixMilli(ms).UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			f.failCode(name, CodeInvalidTime, "timestamp %s: want epoch milliseconds or RFC 3339", quoteInput(x))
		}
		return t.UTC()
	}
	f.wrongType(name, "timestamp-millis", v)
	return time.Time{}
}

func (f *fields) int32(name string) int32 {
	v, ok := f.required(name)
	return int32(f.asInt(name, v, ok, 32))
}

// int32Or reads an int field with a schema default.
func (f *fields) int32Or(name string, def int32) int32 {
	v, ok := f.optional(name)
	if !ok {
		return def
	}
	return int32(f.asInt(name, v, ok, 32))
}

func (f *fields) int64(name string) int64 {
	v, ok := f.required(name)
	return f.asInt(name, v, ok, 64)
}

func (f *fields) optInt64(name string) int64 {
	v, ok := f.optional(name)
	return f.asInt(name, v, ok, 64)
}

func (f *fields) asInt(name string, v any, ok bool, bits int) int64 {
	if !ok {
		return 0
	}
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		if bits == 64 {
			return x
		}
	case json.Number:
		n, err := strconv.ParseInt(string(x), 10, bits)
		if err != nil {
			f.fail(name, ErrInvalidField, "%s is not a %d-bit integer", cutInput(string(x)), bits)
		}
		return n
	}
	f.wrongType(name, fmt.Sprintf("%d-bit integer", bits), v)
	return 0
}

func (f *fields) float(name string) float64 {
	v, ok := f.required(name)
	return f.asFloat(name, v, ok)
}

func (f *fields) floatOr(name string) float64 {
	v, ok := f.optional(name)
	return f.asFloat(name, v, ok)
}

func (f *fields) asFloat(name string, v any, ok bool) float64 {
	if !ok {
		return 0
	}
	switch x := v.(type) {
	case float64:
		return x
	case json.Number:
		n, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			f.fail(name, ErrInvalidField, "%s is not a number", cutInput(string(x)))
		}
		return n
	case string: // Avro JSON spells NaN and infinities as strings
		switch x {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
	}
	f.wrongType(name, "double", v)
	return 0
}

func (f *fields) boolOr(name string) bool {
	v, ok := f.optional(name)
	return f.asBool(name, v, ok)
}

// boolean reads a required boolean.
func (f *fields) boolean(name string) bool {
	v, ok := f.required(name)
	return f.asBool(name, v, ok)
}

func (f *fields) asBool(name string, v any, ok bool) bool {
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		f.wrongType(name, "boolean", v)
	}
	return b
}

func (f *fields) bytes(name string) []byte {
	v, ok := f.required(name)
	return f.asBytes(name, v, ok)
}

func (f *fields) optBytes(name string) []byte {
	v, ok := f.optional(name)
	return f.asBytes(name, v, ok)
}

func (f *fields) asBytes(name string, v any, ok bool) []byte {
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		b, err := bytesString(x)
		if err != nil {
			f.fail(name, ErrInvalidField, "%v", err)
		}
		return b
	}
	f.wrongType(name, "bytes", v)
	return nil
}

// array reads an array field whose schema default is []; absent is empty.
func (f *fields) array(name string) []any {
	if f.err != nil {
		return nil
	}
	v, ok := f.m[name]
	if !ok || v == nil {
		return nil
	}
	a, isArr := v.([]any)
	if !isArr {
		f.wrongType(name, "array", v)
	}
	return a
}

func (f *fields) strings(name string) []string {
	a := f.array(name)
	if len(a) == 0 {
		return nil
	}
	out := make([]string, len(a))
	for i, v := range a {
		s, ok := v.(string)
		if !ok {
			f.wrongType(fmt.Sprintf("%s[%d]", name, i), "string", v)
			return nil
		}
		out[i] = s
	}
	return out
}

// records reads an array of records, calling fn with a reader for each.
func (f *fields) records(name string, fn func(i int, r *fields)) {
	for i, v := range f.array(name) {
		m, ok := v.(map[string]any)
		if !ok {
			f.wrongType(fmt.Sprintf("%s[%d]", name, i), "record", v)
			return
		}
		r := newFields(m, fmt.Sprintf("%s[%d]", joinPath(f.path, name), i))
		fn(i, r)
		if r.err != nil {
			if f.err == nil {
				f.err = r.err
			}
			return
		}
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, int32, int64, float32, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case []byte:
		return "bytes"
	case *big.Rat:
		return "decimal"
	case time.Time:
		return "timestamp"
	}
	return fmt.Sprintf("%T", v)
}
