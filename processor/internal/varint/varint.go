package varint

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt is what every Reader failure wraps: truncated input, an
// overlong varint, a length or count beyond the bytes left or a bound.
var ErrCorrupt = errors.New("corrupt encoding")

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v as a zigzag varint.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendString appends s as a uvarint length and its bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendBytes appends p as a uvarint length and its bytes.
func AppendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// AppendDelta appends s as a change of prev: the length of their common
// prefix, of their common suffix (of what the prefix leaves), and the
// middle of s. Bill-run ids such as INV-202502-0012345 after
// INV-202501-0012345 take 4 bytes.
func AppendDelta(b []byte, prev, s string) []byte {
	p := 0
	for p < len(prev) && p < len(s) && prev[p] == s[p] {
		p++
	}
	q := 0
	for q < len(prev)-p && q < len(s)-p && prev[len(prev)-1-q] == s[len(s)-1-q] {
		q++
	}
	b = binary.AppendUvarint(b, uint64(p))
	b = binary.AppendUvarint(b, uint64(q))
	return AppendString(b, s[p:len(s)-q])
}

// AppendU64 appends v as 8 bytes, little endian (hashes).
func AppendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// AppendU48 appends the low 48 bits of v as 6 bytes, little endian
// (48-bit hashes).
func AppendU48(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40))
}

// Reader decodes from a string or a byte slice. With T = string, Str and
// Bytes return substrings of the input (no copy); with T = []byte, Str
// copies and Bytes returns a sub-slice.
type Reader[T string | []byte] struct {
	buf T
	err error
}

// NewReader reads buf.
func NewReader[T string | []byte](buf T) *Reader[T] { return &Reader[T]{buf: buf} }

// Err is the first failure (wrapping ErrCorrupt), or nil.
func (r *Reader[T]) Err() error { return r.err }

// Len is the number of bytes left.
func (r *Reader[T]) Len() int { return len(r.buf) }

// Fail records a failure of the field what (the first one wins) and
// drops the rest of the input. Decoders call it for values out of range.
func (r *Reader[T]) Fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	r.buf = r.buf[:0]
}

// Uvarint reads an unsigned varint of at most 10 bytes that fits 64 bits.
func (r *Reader[T]) Uvarint(what string) uint64 {
	var v uint64
	for i := 0; i < len(r.buf) && i < binary.MaxVarintLen64; i++ {
		c := r.buf[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			r.buf = r.buf[i+1:]
			return v | uint64(c)<<(7*i)
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	r.Fail(what)
	return 0
}

// Varint reads a zigzag varint.
func (r *Reader[T]) Varint(what string) int64 {
	u := r.Uvarint(what)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// Uint reads an unsigned varint that must be at most max.
func (r *Reader[T]) Uint(what string, max uint64) uint64 {
	v := r.Uvarint(what)
	if v > max {
		r.Fail(what)
		return 0
	}
	return v
}

// Int reads a zigzag varint that must be in [lo, hi].
func (r *Reader[T]) Int(what string, lo, hi int64) int64 {
	v := r.Varint(what)
	if v < lo || v > hi {
		r.Fail(what)
		return 0
	}
	return v
}

// Count reads a list length that must be at most max and that leaves at
// least minSize bytes (>= 1 is forced) per element: a forged count fails
// instead of allocating.
func (r *Reader[T]) Count(what string, max, minSize int) int {
	n := r.Uvarint(what)
	if minSize < 1 {
		minSize = 1
	}
	if n > uint64(max) || n > uint64(len(r.buf)/minSize) {
		r.Fail(what)
		return 0
	}
	return int(n)
}

// Byte reads one byte.
func (r *Reader[T]) Byte(what string) byte {
	if len(r.buf) == 0 {
		r.Fail(what)
		return 0
	}
	c := r.buf[0]
	r.buf = r.buf[1:]
	return c
}

// Bytes reads a uvarint length and that many bytes.
func (r *Reader[T]) Bytes(what string) T {
	n := r.Uvarint(what)
	if n > uint64(len(r.buf)) {
		r.Fail(what)
		return r.buf[:0]
	}
	v := r.buf[:n]
	r.buf = r.buf[n:]
	return v
}

// Str reads what AppendString wrote.
func (r *Reader[T]) Str(what string) string { return string(r.Bytes(what)) }

// Delta reads what AppendDelta wrote after prev.
func (r *Reader[T]) Delta(what, prev string) string {
	p, q := r.Uvarint(what), r.Uvarint(what)
	mid := r.Str(what)
	if p > uint64(len(prev)) || q > uint64(len(prev))-p {
		r.Fail(what)
		return ""
	}
	if p == 0 && q == 0 {
		return mid
	}
	return prev[:p] + mid + prev[uint64(len(prev))-q:]
}

// U48 reads what AppendU48 wrote.
func (r *Reader[T]) U48(what string) uint64 { return r.littleEndian(what, 6) }

// U64 reads what AppendU64 wrote.
func (r *Reader[T]) U64(what string) uint64 { return r.littleEndian(what, 8) }

// littleEndian reads an n-byte little-endian unsigned integer (n <= 8).
func (r *Reader[T]) littleEndian(what string, n int) uint64 {
	if len(r.buf) < n {
		r.Fail(what)
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(r.buf[i])
	}
	r.buf = r.buf[n:]
	return v
}

// End fails unless every byte was read.
func (r *Reader[T]) End() {
	if r.err == nil && len(r.buf) != 0 {
		r.Fail("trailing bytes")
	}
}
