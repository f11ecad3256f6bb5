package dunning

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// stateVersion is the first byte of an encoded State.
const stateVersion = 1

// Limits on decoded lists, so corrupt input cannot allocate without bound.
const maxList = 4096

// MarshalBinary encodes the state compactly: a version byte, then varints
// and length-prefixed strings; instants are Unix milliseconds (0: zero).
func (s State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, uint64(s.Episode))
	flags := byte(0)
	if s.InEpisode {
		flags |= 1
	}
	if s.Arrangement != nil {
		flags |= 2
	}
	b = append(b, flags, byte(s.Service))
	b = appendString(b, s.Stage)
	b = appendTime(b, s.StageEntered)
	b = binary.AppendUvarint(b, uint64(len(s.Actioned)))
	for _, a := range s.Actioned {
		b = appendString(b, a)
	}
	if a := s.Arrangement; a != nil {
		b = appendString(b, a.ID)
		b = append(b, byte(a.Type))
		b = appendString(b, string(a.Currency))
		b = appendTime(b, a.Created)
		b = binary.AppendUvarint(b, uint64(len(a.Installments)))
		for _, in := range a.Installments {
			b = binary.AppendVarint(b, int64(in.DueDate))
			b = binary.AppendVarint(b, int64(in.Amount))
		}
		b = binary.AppendVarint(b, int64(a.Paid))
		b = binary.AppendUvarint(b, uint64(len(a.Payments)))
		for _, p := range a.Payments {
			b = appendString(b, p.ID)
			b = binary.AppendVarint(b, int64(p.Amount))
		}
		b = binary.AppendUvarint(b, uint64(a.Met))
	}
	b = binary.AppendUvarint(b, uint64(len(s.Holds)))
	for _, h := range s.Holds {
		b = appendString(b, h.ID)
		b = appendTime(b, h.Until)
	}
	b = appendTime(b, s.DisputeGraceUntil)
	b = appendString(b, s.Resume)
	b = binary.AppendVarint(b, int64(s.ShiftDays))
	b = appendTime(b, s.PausedSince)
	b = binary.AppendUvarint(b, uint64(len(s.Deferred)))
	for _, d := range s.Deferred {
		b = appendString(b, d.Stage)
		b = binary.AppendUvarint(b, uint64(d.Index))
		b = appendString(b, string(d.Channel))
		b = appendTime(b, d.At)
	}
	b = binary.AppendUvarint(b, uint64(len(s.Contacts)))
	for _, c := range s.Contacts {
		b = appendTime(b, c)
	}
	b = appendTime(b, s.NextWake)
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary produced. On error s is
// unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("decode state: empty: %w", ErrStateCorrupt)
	}
	if data[0] != stateVersion {
		return fmt.Errorf("decode state: version %d: %w", data[0], ErrStateVersion)
	}
	r := reader{b: data[1:]}
	var n State
	n.Episode = uint32(r.uvarint())
	flags := r.byte()
	n.InEpisode = flags&1 != 0
	n.Service = ServiceState(r.byte())
	n.Stage = r.string()
	n.StageEntered = r.time()
	for i, c := 0, r.count(); i < c; i++ {
		n.Actioned = append(n.Actioned, r.string())
	}
	if flags&2 != 0 {
		a := &Arrangement{}
		a.ID = r.string()
		a.Type = event.ArrangementType(r.byte())
		a.Currency = event.Currency(r.string())
		a.Created = r.time()
		for i, c := 0, r.count(); i < c; i++ {
			a.Installments = append(a.Installments, event.Installment{DueDate: event.Date(r.varint()), Amount: event.Amount(r.varint())})
		}
		a.Paid = event.Amount(r.varint())
		for i, c := 0, r.count(); i < c; i++ {
			a.Payments = append(a.Payments, Payment{ID: r.string(), Amount: event.Amount(r.varint())})
		}
		a.Met = int(r.uvarint() & 0xffff)
		n.Arrangement = a
	}
	for i, c := 0, r.count(); i < c; i++ {
		n.Holds = append(n.Holds, Hold{ID: r.string(), Until: r.time()})
	}
	n.DisputeGraceUntil = r.time()
	n.Resume = r.string()
	n.ShiftDays = int32(r.varint())
	n.PausedSince = r.time()
	for i, c := 0, r.count(); i < c; i++ {
		n.Deferred = append(n.Deferred, Deferred{Stage: r.string(), Index: int(r.uvarint() & 0xffff), Channel: event.Channel(r.string()), At: r.time()})
	}
	for i, c := 0, r.count(); i < c; i++ {
		n.Contacts = append(n.Contacts, r.time())
	}
	n.NextWake = r.time()
	if r.err != nil {
		return fmt.Errorf("decode state: %w", r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("decode state: %d trailing bytes: %w", len(r.b), ErrStateCorrupt)
	}
	*s = n
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixMilli())
}

// reader decodes with sticky errors: after the first error every read
// returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = ErrStateCorrupt
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) count() int {
	v := r.uvarint()
	if v > maxList || v > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) time() time.Time {
	ms := r.varint()
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
