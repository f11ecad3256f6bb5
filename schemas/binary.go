package schemas

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// avroReader reads Avro binary for the hand-written fast paths (see
// fastevent.go). It is stricter than goavro: over-long varints and ints out
// of 32-bit range are errors. The first error sticks and later reads return
// zero values, so a decoder reads a whole record and checks err once.
type avroReader struct {
	b    []byte
	path string // enclosing record, for messages
	// maxItems bounds each array (max_items); 0 means bounded only by
	// the bytes left.
	maxItems int
	err      error
}

func (r *avroReader) fail(field, format string, args ...any) {
	if r.err == nil {
		where := field
		if r.path != "" {
			where = r.path + "." + field
		}
		r.err = malformed("avro binary: %s: %s", where, fmt.Sprintf(format, args...))
	}
}

func (r *avroReader) long(field string) int64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(r.b) && i < 10; i++ {
		c := r.b[i]
		v |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			r.b = r.b[i+1:]
			return int64(v>>1) ^ -int64(v&1)
		}
	}
	if len(r.b) < 10 {
		r.fail(field, "truncated")
	} else {
		r.fail(field, "varint longer than 10 bytes")
	}
	return 0
}

func (r *avroReader) int(field string) int32 {
	v := r.long(field)
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail(field, "int %d out of 32-bit range", v)
		return 0
	}
	return int32(v)
}

// raw returns the next length-prefixed bytes without copying.
func (r *avroReader) raw(field string) []byte {
	n := r.long(field)
	if r.err != nil {
		return nil
	}
	if n < 0 || n > int64(len(r.b)) {
		r.fail(field, "length %d with %d bytes left", n, len(r.b))
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *avroReader) str(field string) string { return string(r.raw(field)) }

func (r *avroReader) bytes(field string) []byte {
	b := r.raw(field)
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// index reads a union branch or enum symbol index in [0, n).
func (r *avroReader) index(field string, n int) int {
	v := r.long(field)
	if r.err == nil && (v < 0 || v >= int64(n)) {
		r.fail(field, "index %d out of range [0,%d)", v, n)
		return 0
	}
	return int(v)
}

// optStr reads ["null", "string"].
func (r *avroReader) optStr(field string) string {
	if r.index(field, 2) == 0 {
		return ""
	}
	return r.str(field)
}

func (r *avroReader) timestamp(field string) time.Time {
	ms := r.long(field)
	if r.err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// optTimestamp reads ["null", timestamp-millis]; null is the zero time.
func (r *avroReader) optTimestamp(field string) time.Time {
	if r.index(field, 2) == 0 {
		return time.Time{}
	}
	return r.timestamp(field)
}

func (r *avroReader) date(field string) event.Date { return event.Date(r.int(field)) }

// decimal reads bytes/decimal(18,4): big-endian two's complement unscaled.
func (r *avroReader) decimal(field string) event.Amount {
	b := r.raw(field)
	if r.err != nil || len(b) == 0 {
		return 0
	}
	for len(b) > 1 && ((b[0] == 0 && b[1] < 0x80) || (b[0] == 0xFF && b[1] >= 0x80)) {
		b = b[1:]
	}
	if len(b) > 8 {
		if r.err == nil {
			r.err = invalid(r.path, field, CodeInvalidAmount, "decimal of %d bytes out of range", len(b))
		}
		return 0
	}
	var u uint64
	if b[0] >= 0x80 {
		u = math.MaxUint64
	}
	for _, c := range b {
		u = u<<8 | uint64(c)
	}
	return event.Amount(int64(u))
}

// blocks reads an array's blocks, calling item for each element until an
// error. Counts are bounded by the bytes left (every item takes at least
// one byte) and in total by maxItems, so a forged count cannot make a huge
// allocation or a long loop.
func (r *avroReader) blocks(field string, item func()) {
	total := int64(0)
	for r.err == nil {
		n := r.long(field)
		if n == 0 || r.err != nil {
			return
		}
		if n < 0 {
			if n == math.MinInt64 {
				r.fail(field, "bad block count")
				return
			}
			n = -n
			r.long(field) // block size in bytes, unused
		}
		if n > int64(len(r.b)) {
			r.fail(field, "block of %d items with %d bytes left", n, len(r.b))
			return
		}
		if total += n; r.maxItems > 0 && total > int64(r.maxItems) {
			r.err = invalid(r.path, field, CodeTooManyItems, "%d items, at most %d", total, r.maxItems)
			return
		}
		for i := int64(0); i < n && r.err == nil; i++ {
			item()
		}
	}
}

// strs reads an array of strings; empty is nil, as on the slow path.
func (r *avroReader) strs(field string) []string {
	var out []string
	r.blocks(field, func() { out = append(out, r.str(field)) })
	return out
}

// avroWriter appends Avro binary for the hand-written encoders (see
// fastencode.go); its output is byte-identical to goavro's.
type avroWriter struct {
	b   []byte
	err error
}

func (w *avroWriter) long(v int64) {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		w.b = append(w.b, byte(u)|0x80)
		u >>= 7
	}
	w.b = append(w.b, byte(u))
}

func (w *avroWriter) int(v int32) { w.long(int64(v)) }

// str writes each of ss as an Avro string, in order.
func (w *avroWriter) str(ss ...string) {
	for _, s := range ss {
		w.long(int64(len(s)))
		w.b = append(w.b, s...)
	}
}

func (w *avroWriter) bytes(b []byte) {
	w.long(int64(len(b)))
	w.b = append(w.b, b...)
}

// optBytes writes a ["null", "bytes"] union: null for nil.
func (w *avroWriter) optBytes(b []byte) {
	if b == nil {
		w.long(0)
		return
	}
	w.long(1)
	w.bytes(b)
}

func (w *avroWriter) optStr(s string) {
	if s == "" {
		w.long(0)
		return
	}
	w.long(1)
	w.str(s)
}

func (w *avroWriter) timestamp(t time.Time) { w.long(t.UnixMilli()) }

// optTimestamp writes ["null", timestamp-millis]: null for the zero time.
func (w *avroWriter) optTimestamp(t time.Time) {
	if t.IsZero() {
		w.long(0)
		return
	}
	w.long(1)
	w.timestamp(t)
}

// optEnum writes ["null", enum]: null for "".
func (w *avroWriter) optEnum(field, sym string, symbols []string) {
	if sym == "" {
		w.long(0)
		return
	}
	w.long(1)
	w.enum(field, sym, symbols)
}

func (w *avroWriter) date(d event.Date) { w.int(int32(d)) }

// decimal writes the minimal big-endian two's complement of a (0 is one
// zero byte), as goavro does.
func (w *avroWriter) decimal(a event.Amount) {
	var buf [8]byte
	v := uint64(a)
	for i := 7; i >= 0; i-- {
		buf[i] = byte(v)
		v >>= 8
	}
	b := buf[:]
	for len(b) > 1 && ((b[0] == 0 && b[1] < 0x80) || (b[0] == 0xFF && b[1] >= 0x80)) {
		b = b[1:]
	}
	w.bytes(b)
}

// enum writes the index of sym in symbols; an unknown symbol is ErrEncode.
func (w *avroWriter) enum(field, sym string, symbols []string) {
	for i, s := range symbols {
		if s == sym {
			w.long(int64(i))
			return
		}
	}
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s: unknown symbol %q", ErrEncode, field, sym)
	}
	w.long(0)
}

// enumIndex writes a 1-based Go enum constant as a 0-based symbol index.
func (w *avroWriter) enumIndex(field string, v uint8, n int) {
	if v < 1 || int(v) > n {
		if w.err == nil {
			w.err = fmt.Errorf("%w: %s: value %d", ErrEncode, field, v)
		}
		v = 1
	}
	w.long(int64(v) - 1)
}

// array writes one block of n items and the terminating zero count.
func (w *avroWriter) array(n int, item func(i int)) {
	if n > 0 {
		w.long(int64(n))
		for i := 0; i < n; i++ {
			item(i)
		}
	}
	w.long(0)
}

func (w *avroWriter) strs(ss []string) {
	w.array(len(ss), func(i int) { w.str(ss[i]) })
}

func (w *avroWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// double writes an IEEE 754 little-endian float64.
func (w *avroWriter) double(f float64) {
	w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f))
}
