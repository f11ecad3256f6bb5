package risk

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/arrears/arrears/processor/internal/varint"
)

// stateVersion is the first byte of an encoded State. UnmarshalBinary
// also reads version 1 (PD as 8 bytes).
const (
	stateVersion   = 2
	stateVersionV1 = 1
)

// pdScale is the resolution PD is kept at: millionths. Decide quantizes
// the PD it keeps and emits (QuantizePD), so a state read back from its
// encoding equals the one kept in memory and replay decides the same.
const pdScale = 1e6

// QuantizePD rounds pd to the nearest millionth, the resolution risk keeps
// and emits.
func QuantizePD(pd float64) float64 { return math.Round(pd*pdScale) / pdScale }

// State is an account's risk state between events: what was last emitted.
// The zero State is an account never emitted for.
type State struct {
	// Tier is the tier of the last emitted risk event; "" before the first.
	Tier string
	// PD is the probability of default of the last emitted risk event.
	PD float64
	// Seq counts the risk events emitted for the account; it feeds the
	// deterministic event id.
	Seq uint32
}

// MarshalBinary encodes s compactly: version byte, the tier (one byte
// 0x80+i for tierCodes[i], else its length, below 128, and bytes), PD in
// millionths as a uvarint (3 bytes for PDs from 0.016; version 1 wrote 8
// bytes and always spelled the tier), Seq as a uvarint. A state of a
// shipped tier is 5 or 6 bytes. A PD that is not a probability is an error.
func (s State) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(make([]byte, 0, 2+len(s.Tier)+2*binary.MaxVarintLen32))
}

// AppendBinary appends MarshalBinary's encoding to b.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	if len(s.Tier) > maxTier {
		return nil, fmt.Errorf("risk: marshal state: tier name of %d bytes is too long", len(s.Tier))
	}
	if !(s.PD >= 0 && s.PD <= 1) {
		return nil, fmt.Errorf("risk: marshal state: pd %v is not a probability", s.PD)
	}
	b = append(b, stateVersion)
	if i := slices.Index(tierCodes[:], s.Tier); i >= 0 && s.Tier != "" {
		b = append(b, 0x80|byte(i))
	} else {
		b = varint.AppendString(b, s.Tier)
	}
	b = varint.AppendUvarint(b, uint64(math.Round(s.PD*pdScale)))
	b = varint.AppendUvarint(b, uint64(s.Seq))
	return b, nil
}

// maxTier bounds a tier name; below 128 its length is one byte, as in the
// first encoding, so a byte from 0x80 is free for a tier code.
const maxTier = 127

// tierCodes are the tier names written as one byte (the shipped
// scorecard's). Append only: a code, once written, must keep its name.
var tierCodes = [...]string{"LOW", "MEDIUM", "HIGH", "VERY_HIGH"}

// UnmarshalBinary decodes what MarshalBinary produced. It fails with
// ErrStateVersion or ErrStateCorrupt and leaves s unchanged on error.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrStateCorrupt)
	}
	if b[0] != stateVersion && b[0] != stateVersionV1 {
		return fmt.Errorf("%w: %d", ErrStateVersion, b[0])
	}
	var tier string
	r := varint.NewReader(b[1:])
	if c := b[1:]; b[0] != stateVersionV1 && len(c) > 0 && c[0] >= 0x80 {
		if int(c[0]&0x7f) >= len(tierCodes) {
			return fmt.Errorf("%w: tier code %d", ErrStateCorrupt, c[0])
		}
		tier = tierCodes[c[0]&0x7f]
		r = varint.NewReader(c[1:])
	} else if tier = r.Str("tier"); len(tier) > maxTier {
		r.Fail("tier")
	}
	var pd float64
	if b[0] == stateVersionV1 {
		// Read at today's resolution, as if Decide had kept it.
		pd = QuantizePD(math.Float64frombits(r.U64("pd")))
	} else {
		pd = float64(r.Uint("pd", 2*pdScale)) / pdScale
	}
	seq := r.Uint("sequence", math.MaxUint32)
	r.End()
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrStateCorrupt, err)
	}
	if math.IsNaN(pd) || pd < 0 || pd > 1 {
		return fmt.Errorf("%w: pd %v out of range", ErrStateCorrupt, pd)
	}
	*s = State{Tier: tier, PD: pd, Seq: uint32(seq)}
	return nil
}
