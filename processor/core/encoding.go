package core

import (
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
func (st *State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 1, 256)
	b[0] = stateVersion
	var err error
	if b, err = appendPart(b, st.Ledger.MarshalBinary); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if b, err = appendPart(b, st.Dunning.MarshalBinary); err != nil {
		return nil, fmt.Errorf("dunning: %w", err)
	}
	if b, err = appendPart(b, st.Risk.MarshalBinary); err != nil {
		return nil, fmt.Errorf("risk: %w", err)
	}
	if f := st.Dunning.Finance; f != nil { // an optional fourth part (dunning/partner_codec.go)
		if b, err = appendPart(b, f.MarshalBinary); err != nil {
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

func appendPart(b []byte, marshal func() ([]byte, error)) ([]byte, error) {
	p, err := marshal()
	if err != nil {
		return nil, err
	}
	return varint.AppendBytes(b, p), nil
}
