package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arrears/arrears/processor/event"
)

// Bounds of request text, below the codec's (schemas.Config max_id_bytes
// 128, max_text_bytes 1024) so that a valid request always encodes.
const (
	maxReasonBytes = 200
	maxNoteBytes   = 1000
	maxIDBytes     = 64
)

// checkAccountID is the path's {id}, by the read routes' rule.
func checkAccountID(id string) *FieldError {
	if !validAccountID(id) {
		return &FieldError{"id", "an account id: 1 to 128 printable characters"}
	}
	return nil
}

// fieldErrs collects the bad fields of one request.
type fieldErrs []FieldError

func (f *fieldErrs) add(field, format string, args ...any) {
	*f = append(*f, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// errBody is a body that could not be decoded: 400 naming the field, or
// 413 when it is over api.max_body_bytes.
type errBody struct {
	status int
	fields []FieldError
}

func (e *errBody) Error() string { return "bad request body" }

// decodeStrict reads a JSON object into dst: application/json only, one
// value, no unknown fields, each field of its declared JSON type.
func decodeStrict(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &errBody{http.StatusBadRequest, []FieldError{{"Content-Type", "must be application/json"}}}
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			return &errBody{http.StatusBadRequest, []FieldError{{"body", "one JSON object only, nothing after it"}}}
		}
		return nil
	}
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &errBody{status: http.StatusRequestEntityTooLarge}
	case errors.Is(err, io.EOF):
		return &errBody{http.StatusBadRequest, []FieldError{{"body", "a JSON object is required"}}}
	case errors.As(err, &syn):
		return &errBody{http.StatusBadRequest, []FieldError{{"body", fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset)}}}
	case errors.As(err, &typ):
		f := typ.Field
		if f == "" {
			f = "body"
		}
		return &errBody{http.StatusBadRequest, []FieldError{{f, "must be " + jsonType(typ.Type.Kind().String())}}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &errBody{http.StatusBadRequest, []FieldError{{name, "unknown field"}}}
	}
	return &errBody{http.StatusBadRequest, []FieldError{{"body", "not a valid request body"}}}
}

// jsonType names a Go kind as the JSON type a client sends.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	}
	return "a " + kind
}

// text checks a free-text field: valid UTF-8, no control characters but
// newline and tab, at most max bytes; required or not.
func (f *fieldErrs) text(field, s string, required bool, max int) string {
	switch {
	case s == "" && required:
		f.add(field, "required")
	case len(s) > max:
		f.add(field, "at most %d bytes", max)
	case !utf8.ValidString(s):
		f.add(field, "must be valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }):
		f.add(field, "control characters are not allowed")
	}
	return s
}

// id checks an identifier from the path or body.
func (f *fieldErrs) id(field, s string, required bool) string {
	if s == "" && !required {
		return s
	}
	if s == "" || len(s) > maxIDBytes || strings.ContainsFunc(s, func(r rune) bool { return r <= 0x20 || r == 0x7f }) || !utf8.ValidString(s) {
		f.add(field, "1 to %d printable characters, no spaces", maxIDBytes)
	}
	return s
}

// currency checks an ISO 4217 code.
func (f *fieldErrs) currency(field, s string) event.Currency {
	c := event.Currency(s)
	switch {
	case s == "":
		f.add(field, "required")
	case !c.Known():
		f.add(field, "an active ISO 4217 currency code (EUR, USD, JPY...)")
	}
	return c
}

// amount checks a decimal string: positive (or zero when zeroOK), within
// the currency's minor units and the codec's bound.
func (f *fieldErrs) amount(field, s string, c event.Currency, zeroOK bool) event.Amount {
	if s == "" {
		f.add(field, "required")
		return 0
	}
	a, err := event.ParseAmount(s)
	switch {
	case err != nil || strings.TrimSpace(s) != s:
		f.add(field, `a decimal string such as "12.50"`)
	case a < 0 || a == 0 && !zeroOK:
		f.add(field, "must be greater than zero")
	case a > maxAmount:
		f.add(field, "at most %s", maxAmount)
	case c.Known() && !a.FitsMinorUnits(c):
		n, _ := c.MinorUnits()
		f.add(field, "at most %d decimal places in %s", n, c)
	}
	return a
}

// maxAmount is the codec's default bound (schemas.DefaultMaxAmount, 10^11).
var maxAmount = event.MustAmount("100000000000")

// date checks a calendar day between from and to (inclusive).
func (f *fieldErrs) date(field, s string, from, to event.Date) event.Date {
	d, err := event.ParseDate(s)
	switch {
	case s == "":
		f.add(field, "required")
	case err != nil:
		f.add(field, "a date YYYY-MM-DD")
	case d < from || d > to:
		f.add(field, "between %s and %s", from, to)
	}
	return d
}

// instant checks an RFC 3339 instant after from and at most to.
func (f *fieldErrs) instant(field, s string, from, to time.Time) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	switch {
	case s == "":
		f.add(field, "required")
	case err != nil:
		f.add(field, "an RFC 3339 instant such as 2026-05-01T09:00:00Z")
	case !t.After(from) || t.After(to):
		f.add(field, "after %s and at most %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return t.UTC()
}

// enum checks s is one of names and returns its index.
func (f *fieldErrs) enum(field, s string, names []string) int {
	for i, n := range names {
		if s == n {
			return i
		}
	}
	if s == "" {
		f.add(field, "required")
	} else {
		f.add(field, "one of %s", strings.Join(names, ", "))
	}
	return -1
}
