package event

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Scale is the number of decimal places every Amount carries. Avro decimals
// on the wire use precision 18 and this scale.
const Scale = 4

// unit is 10^Scale.
const unit = 10000

// Amount is a monetary amount in units of 10^-Scale of its currency
// (1.25 EUR is Amount(12500)). It is an int64 so ledger arithmetic is exact
// and allocation free.
type Amount int64

// ParseAmount reads a decimal string such as "12.5", "-3" or "0.0001".
// More than Scale fractional digits is an error, never a silent rounding.
func ParseAmount(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty amount")
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %s: no digits", quoted(s))
	}
	if len(frac) > Scale {
		return 0, fmt.Errorf("amount %s: more than %d decimal places", quoted(s), Scale)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("amount %s: not a decimal number", quoted(s))
			}
		}
	}
	var w int64
	if whole != "" {
		var err error
		if w, err = strconv.ParseInt(whole, 10, 64); err != nil || w > math.MaxInt64/unit-1 {
			return 0, fmt.Errorf("amount %s: out of range", quoted(s))
		}
	}
	f := int64(0)
	if frac != "" {
		frac += strings.Repeat("0", Scale-len(frac))
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	a := Amount(w*unit + f)
	if neg {
		a = -a
	}
	return a, nil
}

// quoted quotes an input for an error message, cut to 32 bytes so that a
// hostile megabyte never ends up in a reason.
func quoted(s string) string {
	if len(s) > 32 {
		return strconv.Quote(s[:32]) + "..."
	}
	return strconv.Quote(s)
}

// MustAmount is ParseAmount for literals in tests and examples; it panics on
// a malformed literal and must never see input data.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String formats the amount with exactly Scale decimals, e.g. "12.5000".
func (a Amount) String() string {
	var buf [24]byte
	return string(a.Append(buf[:0]))
}

// Append appends the String form to b without allocating.
func (a Amount) Append(b []byte) []byte {
	u := uint64(a)
	if a < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/unit, 10)
	f := u % unit
	return append(b, '.', byte('0'+f/1000), byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
}

// Float is the amount as a float64, for metrics and scores only.
func (a Amount) Float() float64 { return float64(a) / unit }

// Rat converts the amount to a big.Rat (the Avro decimal native form).
func (a Amount) Rat() *big.Rat { return big.NewRat(int64(a), unit) }

// AmountFromRat converts an Avro decimal value; it fails when the value has
// more than Scale decimals or does not fit.
func AmountFromRat(r *big.Rat) (Amount, error) {
	if r == nil {
		return 0, errors.New("nil decimal")
	}
	n := new(big.Int).Mul(r.Num(), big.NewInt(unit))
	q, m := new(big.Int).QuoRem(n, r.Denom(), new(big.Int))
	if m.Sign() != 0 {
		return 0, fmt.Errorf("decimal %s has more than %d decimal places", r.FloatString(8), Scale)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("decimal %s out of range", r.FloatString(Scale))
	}
	return Amount(q.Int64()), nil
}

// Date is a calendar day counted from 1970-01-01 (Avro's date logical type).
type Date int32

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time is midnight UTC of the day.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format("2006-01-02") }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("date %q: %w", s, err)
	}
	return DateOf(t), nil
}

// Currency is an ISO 4217 alphabetic code.
type Currency string

// Valid reports whether c looks like an ISO 4217 code (three upper-case letters).
func (c Currency) Valid() bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// MaxDecimal is the largest magnitude Avro decimal(18,4) and ClickHouse
// Decimal(18,4) hold: 99,999,999,999,999.9999. Amounts beyond it fit an
// Amount but not the wire or the reports.
const MaxDecimal Amount = 999_999_999_999_999_999
