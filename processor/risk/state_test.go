package risk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []State{{}, {Tier: "LOW", PD: 0.0123, Seq: 1}, {Tier: "VERY_HIGH", PD: 1, Seq: 1<<32 - 1}, {Tier: "BESPOKE", PD: 0.5, Seq: 2}} {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != stateVersion {
			t.Fatalf("version byte %d", b[0])
		}
		var got State
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got != s {
			t.Fatalf("round trip %+v -> %+v", s, got)
		}
	}
	b, _ := State{Tier: "MEDIUM", PD: 0.1, Seq: 3}.MarshalBinary()
	if len(b) != 1+1+3+1 { // a shipped tier is one byte
		t.Fatalf("encoded state is %d bytes", len(b))
	}
	if b, _ = (State{Tier: "BESPOKE", PD: 0.1, Seq: 3}).MarshalBinary(); len(b) != 1+1+7+3+1 {
		t.Fatalf("encoded state is %d bytes", len(b))
	}
	if _, err := (State{PD: math.NaN()}).MarshalBinary(); err == nil {
		t.Error("a NaN PD encoded")
	}
}

// TestStateVersion1 reads a state written with the PD as 8 bytes: the PD
// comes back at the resolution Decide keeps (millionths), so a state read
// from version 1 equals one Decide would have kept, and re-encoded it is
// version 2 and 9 bytes shorter (the tier a code, this PD 2 bytes, not 8).
func TestStateVersion1(t *testing.T) {
	v1 := []byte{stateVersionV1, 3, 'L', 'O', 'W'}
	v1 = binary.LittleEndian.AppendUint64(v1, math.Float64bits(0.012843252615318046))
	v1 = append(v1, 7)
	var s State
	if err := s.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	if s != (State{Tier: "LOW", PD: 0.012843, Seq: 7}) {
		t.Fatalf("version 1 decodes to %+v", s)
	}
	b, err := s.MarshalBinary()
	if err != nil || b[0] != stateVersion || len(v1)-len(b) != 9 {
		t.Fatalf("re-encoded: %v %x", err, b)
	}
	if q := QuantizePD(s.PD); q != s.PD {
		t.Errorf("QuantizePD is not idempotent: %v -> %v", s.PD, q)
	}
}

func TestStateDecodeErrors(t *testing.T) {
	good, _ := State{Tier: "HIGH", PD: 0.3, Seq: 300}.MarshalBinary()
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":         {nil, ErrStateCorrupt},
		"version":       {append([]byte{9}, good[1:]...), ErrStateVersion},
		"truncated":     {good[:len(good)-3], ErrStateCorrupt},
		"trailing":      {append(bytes.Clone(good), 0), ErrStateCorrupt},
		"no seq":        {good[:1+1+3], ErrStateCorrupt},
		"only version":  {good[:1], ErrStateCorrupt},
		"pd above one":  {func() []byte { b, _ := State{Tier: "X", PD: 2}.MarshalBinary(); return b }(), ErrStateCorrupt},
		"tier code":     {[]byte{stateVersion, 0x80 | 9, 1, 1}, ErrStateCorrupt},
		"seq too large": {append(bytes.Clone(good[:1+1+3]), 0xff, 0xff, 0xff, 0xff, 0x7f), ErrStateCorrupt},
	}
	for name, c := range cases {
		s := State{Tier: "KEEP"}
		if err := s.UnmarshalBinary(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
		if s.Tier != "KEEP" {
			t.Errorf("%s: state changed on error", name)
		}
	}
	if _, err := (State{Tier: string(make([]byte, 256))}).MarshalBinary(); err == nil {
		t.Error("256-byte tier encoded")
	}
}

func FuzzStateUnmarshal(f *testing.F) {
	for _, s := range []State{{}, {Tier: "LOW", PD: 0.01, Seq: 7}} {
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if err := s.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 State
		if err := s2.UnmarshalBinary(again); err != nil || s2 != s {
			t.Fatalf("re-encode: %v %+v %+v", err, s, s2)
		}
	})
}
