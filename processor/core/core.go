package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// State is one account's whole state.
type State struct {
	Account  string
	Segment  event.Segment
	Closed   bool
	Balances map[event.Currency]event.Amount
	Seen     []string
	Updated  time.Time
}

// Env carries the configuration the step needs (policies, scorecard, zones).
type Env struct{}

// Output is what one step decided.
type Output struct {
	// Changed reports that the state changed (a status record is due).
	Changed bool
	// Actions, Risk and GL are effects to emit.
	Actions []event.DunningAction
	Risk    []event.RiskEvent
	GL      []event.GLEntry
	// NextWake is when the account wants to be woken (zero: no timer).
	NextWake time.Time
}

// RejectError is an event the account cannot take; it goes to the DLQ.
type RejectError struct {
	Reason string // bounded, metric-safe
	Detail string
}

func (e *RejectError) Error() string { return e.Reason + ": " + e.Detail }

// Apply applies ev to st at partition time now. On error st is untouched.
func Apply(st *State, ev event.Event, now time.Time, env *Env) (Output, error) {
	for _, id := range st.Seen {
		if id == ev.ID {
			return Output{}, nil
		}
	}
	switch b := ev.Body.(type) {
	case *event.InvoiceIssued:
		if b.Amount <= 0 {
			return Output{}, &RejectError{"negative_or_zero_amount", fmt.Sprintf("invoice %s amount %s must be > 0", b.InvoiceID, b.Amount)}
		}
		st.add(b.Currency, b.Amount)
	case *event.PaymentReceived:
		if b.Amount <= 0 {
			return Output{}, &RejectError{"negative_or_zero_amount", fmt.Sprintf("payment %s amount %s must be > 0", b.PaymentID, b.Amount)}
		}
		st.add(b.Currency, -b.Amount)
	default:
		return Output{}, nil
	}
	st.Account = ev.Account
	st.Updated = now
	st.Seen = append(st.Seen, ev.ID)
	if len(st.Seen) > 8 {
		st.Seen = st.Seen[1:]
	}
	return Output{Changed: true}, nil
}

// WakeAt is when the account's timer is due (zero: none).
func (st *State) WakeAt() time.Time { return time.Time{} }

// Wake runs a fired timer.
func Wake(st *State, now time.Time, env *Env) (Output, error) { return Output{}, nil }

func (st *State) add(c event.Currency, a event.Amount) {
	if st.Balances == nil {
		st.Balances = map[event.Currency]event.Amount{}
	}
	st.Balances[c] += a
}

// Status renders the account's status record.
func (st *State) Status(now time.Time) event.AccountStatus {
	s := event.AccountStatus{Account: st.Account, Time: now, Segment: st.Segment, Closed: st.Closed}
	cs := make([]string, 0, len(st.Balances))
	for c := range st.Balances {
		cs = append(cs, string(c))
	}
	sort.Strings(cs)
	for _, c := range cs {
		s.Balances = append(s.Balances, event.CurrencyBalance{Currency: event.Currency(c), Open: st.Balances[event.Currency(c)]})
	}
	return s
}

// MarshalBinary encodes the state compactly.
func (st *State) MarshalBinary() ([]byte, error) {
	b := []byte{1}
	b = binary.AppendUvarint(b, uint64(len(st.Account)))
	b = append(b, st.Account...)
	b = binary.AppendUvarint(b, uint64(len(st.Balances)))
	for c, a := range st.Balances {
		b = append(b, c...)
		b = binary.AppendVarint(b, int64(a))
	}
	b = binary.AppendUvarint(b, uint64(len(st.Seen)))
	for _, s := range st.Seen {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

var errCorrupt = errors.New("corrupt account state")

// UnmarshalBinary decodes MarshalBinary's output.
func (st *State) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != 1 {
		return errCorrupt
	}
	r := reader{b: b[1:]}
	st.Account = r.str()
	n := r.uvarint()
	st.Balances = map[event.Currency]event.Amount{}
	for i := uint64(0); i < n && r.err == nil; i++ {
		c := event.Currency(r.bytes(3))
		st.Balances[c] = event.Amount(r.varint())
	}
	n = r.uvarint()
	st.Seen = nil
	for i := uint64(0); i < n && r.err == nil; i++ {
		st.Seen = append(st.Seen, r.str())
	}
	return r.err
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || len(r.b) < n {
		r.err = errCorrupt
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string { return string(r.bytes(int(r.uvarint()))) }
