package varint

import (
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendUvarint(b, math.MaxUint64)
	b = AppendVarint(b, math.MinInt64)
	b = AppendVarint(b, -3)
	b = AppendString(b, "héllo")
	b = AppendBytes(b, []byte{1, 2})
	b = AppendU64(b, 0x0102030405060708)
	b = append(b, 7)
	for _, r := range []interface {
		Uvarint(string) uint64
		Varint(string) int64
		Str(string) string
		U64(string) uint64
		Byte(string) byte
		End()
		Err() error
	}{NewReader(b), NewReader(string(b))} {
		if v := r.Uvarint("a"); v != math.MaxUint64 {
			t.Errorf("uvarint %d", v)
		}
		if v := r.Varint("b"); v != math.MinInt64 {
			t.Errorf("varint %d", v)
		}
		if v := r.Varint("c"); v != -3 {
			t.Errorf("varint %d", v)
		}
		if s := r.Str("d"); s != "héllo" {
			t.Errorf("str %q", s)
		}
		if s := r.Str("e"); s != "\x01\x02" {
			t.Errorf("bytes %q", s)
		}
		if v := r.U64("f"); v != 0x0102030405060708 {
			t.Errorf("u64 %x", v)
		}
		if v := r.Byte("g"); v != 7 {
			t.Errorf("byte %d", v)
		}
		r.End()
		if r.Err() != nil {
			t.Errorf("err %v", r.Err())
		}
	}
}

// TestBounded: forged lengths and counts fail instead of allocating, the
// first failure is sticky and named.
func TestBounded(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		read func(r *Reader[[]byte])
		want string
	}{
		{"length beyond input", AppendUvarint(nil, 1<<40), func(r *Reader[[]byte]) { r.Str("name") }, "bad name"},
		{"count beyond input", append(AppendUvarint(nil, 3), 1, 2), func(r *Reader[[]byte]) { r.Count("items", 100, 1) }, "bad items"},
		{"count beyond min size", append(AppendUvarint(nil, 2), make([]byte, 15)...), func(r *Reader[[]byte]) { r.Count("pays", 100, 8) }, "bad pays"},
		{"count beyond max", append(AppendUvarint(nil, 5), make([]byte, 10)...), func(r *Reader[[]byte]) { r.Count("x", 4, 1) }, "bad x"},
		{"overlong varint", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, func(r *Reader[[]byte]) { r.Uvarint("v") }, "bad v"},
		{"truncated varint", []byte{0x80}, func(r *Reader[[]byte]) { r.Uvarint("t") }, "bad t"},
		{"u64 short", []byte{1, 2, 3}, func(r *Reader[[]byte]) { r.U64("h") }, "bad h"},
		{"int range", AppendVarint(nil, -5), func(r *Reader[[]byte]) { r.Int("day", 0, 10) }, "bad day"},
		{"trailing", []byte{1, 2}, func(r *Reader[[]byte]) { r.Byte("b"); r.End() }, "bad trailing bytes"},
		{"sticky", []byte{0x80}, func(r *Reader[[]byte]) { r.Uvarint("first"); r.Uvarint("second") }, "bad first"},
	}
	for _, c := range cases {
		r := NewReader(c.in)
		c.read(r)
		if !errors.Is(r.Err(), ErrCorrupt) || r.Err().Error() != "corrupt encoding: "+c.want {
			t.Errorf("%s: err %v, want %q", c.name, r.Err(), c.want)
		}
		if r.Len() != 0 {
			t.Errorf("%s: %d bytes left after a failure", c.name, r.Len())
		}
	}
}

func FuzzReader(f *testing.F) {
	f.Add(AppendString(AppendUvarint(nil, 300), "abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(b)
		for r.Err() == nil && r.Len() > 0 {
			n := r.Count("n", 1<<20, 1)
			if n > len(b) {
				t.Fatalf("count %d beyond input of %d", n, len(b))
			}
			_ = r.Str("s")
			_ = r.Varint("v")
		}
	})
}

func TestDelta(t *testing.T) {
	pairs := [][2]string{{"", "INV-1"}, {"INV-202501-0012345", "INV-202502-0012345"}, {"reminder", "second_reminder"}, {"abc", "abc"}, {"abc", ""}, {"aXa", "aa"}}
	for _, p := range pairs {
		b := AppendDelta(nil, p[0], p[1])
		r := NewReader(string(b))
		if got := r.Delta("id", p[0]); got != p[1] || r.Err() != nil || r.Len() != 0 {
			t.Errorf("%q after %q: got %q, %v", p[1], p[0], got, r.Err())
		}
	}
	if n := len(AppendDelta(nil, "INV-202501-0012345", "INV-202502-0012345")); n != 4 {
		t.Errorf("bill-run id delta takes %d bytes", n)
	}
	// A forged prefix or suffix longer than the previous string fails.
	for _, b := range [][]byte{{4, 0, 0}, {1, 3, 0}, {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}} {
		r := NewReader(b)
		if r.Delta("id", "abc"); !errors.Is(r.Err(), ErrCorrupt) {
			t.Errorf("%x accepted", b)
		}
	}
}
