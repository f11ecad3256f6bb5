package core

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/internal/varint"
)

// State encoding: a version byte, then the ledger, dunning and risk parts,
// each length-prefixed (each part has its own version byte). Version 2
// also carried the account id after the version byte; version 3 leaves it
// to the store's key and the status record.
const (
	stateVersion   = 3
	stateVersionV2 = 2
)

var errCorrupt = errors.New("corrupt account state")

// MarshalBinary encodes the whole state (without the account id).
func (st *State) MarshalBinary() ([]byte, error) { return st.AppendBinary(make([]byte, 0, 256)) }

// AppendBinary appends MarshalBinary's encoding to b: each part is written
// in place and its length put before it, so a caller that reuses b
// encodes without allocating.
func (st *State) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, stateVersion)
	var err error
	if b, err = appendPart(b, st.Ledger.AppendBinary); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if b, err = appendPart(b, st.Dunning.AppendBinary); err != nil {
		return nil, fmt.Errorf("dunning: %w", err)
	}
	if b, err = appendPart(b, st.Risk.AppendBinary); err != nil {
		return nil, fmt.Errorf("risk: %w", err)
	}
	if f := st.Dunning.Finance; f != nil { // an optional fourth part (dunning/partner_codec.go)
		if b, err = appendPart(b, f.AppendBinary); err != nil {
			return nil, fmt.Errorf("finance: %w", err)
		}
	}
	return b, nil
}

// UnmarshalBinary decodes MarshalBinary's output, or a version-2 state
// (whose account id is used when st.Account is empty). On error st is
// unchanged; otherwise st.Account is kept.
func (st *State) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || (b[0] != stateVersion && b[0] != stateVersionV2) {
		return errCorrupt
	}
	r := varint.NewReader(b[1:])
	acct := st.Account
	if b[0] == stateVersionV2 {
		if a := r.Str("account"); acct == "" {
			acct = a
		}
	}
	parts := [3][]byte{}
	for i, what := range [...]string{"ledger part", "dunning part", "risk part"} {
		parts[i] = r.Bytes(what)
	}
	var finance []byte
	if r.Len() > 0 {
		finance = r.Bytes("finance part")
	}
	r.End()
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: %w", errCorrupt, err)
	}
	n := State{Account: acct}
	if err := n.Ledger.UnmarshalBinary(parts[0]); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if len(parts[1]) > 0 {
		if err := n.Dunning.UnmarshalBinary(parts[1]); err != nil {
			return fmt.Errorf("dunning: %w", err)
		}
	}
	if len(parts[2]) > 0 {
		if err := n.Risk.UnmarshalBinary(parts[2]); err != nil {
			return fmt.Errorf("risk: %w", err)
		}
	}
	if len(finance) > 0 {
		f, err := dunning.DecodeFinance(finance)
		if err != nil {
			return fmt.Errorf("finance: %w", err)
		}
		n.Dunning.Finance = f
	}
	*st = n
	return nil
}

// appendPart appends a part as varint.AppendBytes does (its length as a
// uvarint, then its bytes), encoding it in place and moving it up by the
// length's bytes.
func appendPart(b []byte, enc func([]byte) ([]byte, error)) ([]byte, error) {
	start := len(b)
	b, err := enc(b)
	if err != nil {
		return nil, err
	}
	var n [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(n[:], uint64(len(b)-start))
	b = append(b, n[:k]...)
	copy(b[start+k:], b[start:len(b)-k])
	copy(b[start:], n[:k])
	return b, nil
}
