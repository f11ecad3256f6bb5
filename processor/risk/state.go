package risk

import (
	"encoding/binary"
	"fmt"
	"math"
)

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

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

// MarshalBinary encodes s compactly: version byte, tier length and bytes,
// PD as 8 bytes (IEEE 754, little endian), Seq as a uvarint. A state is
// 11 bytes plus the tier name.
func (s State) MarshalBinary() ([]byte, error) {
	if len(s.Tier) > 255 {
		return nil, fmt.Errorf("risk: marshal state: tier name of %d bytes is too long", len(s.Tier))
	}
	b := make([]byte, 0, 2+len(s.Tier)+8+binary.MaxVarintLen32)
	b = append(b, stateVersion, byte(len(s.Tier)))
	b = append(b, s.Tier...)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.PD))
	b = binary.AppendUvarint(b, uint64(s.Seq))
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary produced. It fails with
// ErrStateVersion or ErrStateCorrupt and leaves s unchanged on error.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrStateCorrupt)
	}
	if b[0] != stateVersion {
		return fmt.Errorf("%w: %d", ErrStateVersion, b[0])
	}
	if len(b) < 2 {
		return fmt.Errorf("%w: truncated", ErrStateCorrupt)
	}
	n := int(b[1])
	rest := b[2:]
	if len(rest) < n+8 {
		return fmt.Errorf("%w: truncated", ErrStateCorrupt)
	}
	tier := string(rest[:n])
	pd := math.Float64frombits(binary.LittleEndian.Uint64(rest[n : n+8]))
	rest = rest[n+8:]
	seq, k := binary.Uvarint(rest)
	if k <= 0 || seq > math.MaxUint32 || k != len(rest) {
		return fmt.Errorf("%w: bad sequence", ErrStateCorrupt)
	}
	if math.IsNaN(pd) || pd < 0 || pd > 1 {
		return fmt.Errorf("%w: pd %v out of range", ErrStateCorrupt, pd)
	}
	*s = State{Tier: tier, PD: pd, Seq: uint32(seq)}
	return nil
}
