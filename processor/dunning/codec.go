package dunning

import (
	"fmt"
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
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
	b = varint.AppendUvarint(b, uint64(s.Episode))
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
	b = varint.AppendUvarint(b, uint64(len(s.Actioned)))
	for _, a := range s.Actioned {
		b = appendString(b, a)
	}
	if a := s.Arrangement; a != nil {
		b = appendString(b, a.ID)
		b = append(b, byte(a.Type))
		b = appendString(b, string(a.Currency))
		b = appendTime(b, a.Created)
		b = varint.AppendUvarint(b, uint64(len(a.Installments)))
		for _, in := range a.Installments {
			b = varint.AppendVarint(b, int64(in.DueDate))
			b = varint.AppendVarint(b, int64(in.Amount))
		}
		b = varint.AppendVarint(b, int64(a.Paid))
		b = varint.AppendUvarint(b, uint64(len(a.Payments)))
		for _, p := range a.Payments {
			b = appendString(b, p.ID)
			b = varint.AppendVarint(b, int64(p.Amount))
		}
		b = varint.AppendUvarint(b, uint64(a.Met))
	}
	b = varint.AppendUvarint(b, uint64(len(s.Holds)))
	for _, h := range s.Holds {
		b = appendString(b, h.ID)
		b = appendTime(b, h.Until)
	}
	b = appendTime(b, s.DisputeGraceUntil)
	b = appendString(b, s.Resume)
	b = varint.AppendVarint(b, int64(s.ShiftDays))
	b = appendTime(b, s.PausedSince)
	b = varint.AppendUvarint(b, uint64(len(s.Deferred)))
	for _, d := range s.Deferred {
		b = appendString(b, d.Stage)
		b = varint.AppendUvarint(b, uint64(d.Index))
		b = appendString(b, string(d.Channel))
		b = appendTime(b, d.At)
	}
	b = varint.AppendUvarint(b, uint64(len(s.Contacts)))
	for _, c := range s.Contacts {
		b = appendTime(b, c)
	}
	b = appendTime(b, s.NextWake)
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary produced. On error s is
// unchanged. Every list is bounded by maxList and by the bytes left.
func (s *State) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("decode state: empty: %w", ErrStateCorrupt)
	}
	if data[0] != stateVersion {
		return fmt.Errorf("decode state: version %d: %w", data[0], ErrStateVersion)
	}
	r := reader{varint.NewReader(data[1:])}
	var n State
	n.Episode = uint32(r.Uint("episode", math.MaxUint32))
	flags := r.Byte("flags")
	n.InEpisode = flags&1 != 0
	n.Service = ServiceState(r.Byte("service"))
	n.Stage = r.Str("stage")
	n.StageEntered = r.time("stage entered")
	for i, c := 0, r.count("actioned"); i < c; i++ {
		n.Actioned = append(n.Actioned, r.Str("actioned"))
	}
	if flags&2 != 0 {
		a := &Arrangement{}
		a.ID = r.Str("arrangement id")
		a.Type = event.ArrangementType(r.Byte("arrangement type"))
		a.Currency = event.Currency(r.Str("arrangement currency"))
		a.Created = r.time("arrangement created")
		for i, c := 0, r.count("installments"); i < c; i++ {
			a.Installments = append(a.Installments, event.Installment{
				DueDate: event.Date(r.Int("installment due", math.MinInt32, math.MaxInt32)), Amount: r.amount("installment amount")})
		}
		a.Paid = r.amount("arrangement paid")
		for i, c := 0, r.count("arrangement payments"); i < c; i++ {
			a.Payments = append(a.Payments, Payment{ID: r.Str("payment id"), Amount: r.amount("payment amount")})
		}
		a.Met = int(r.Uint("installments met", uint64(len(a.Installments))))
		n.Arrangement = a
	}
	for i, c := 0, r.count("holds"); i < c; i++ {
		n.Holds = append(n.Holds, Hold{ID: r.Str("hold id"), Until: r.time("hold until")})
	}
	n.DisputeGraceUntil = r.time("dispute grace")
	n.Resume = r.Str("resume")
	n.ShiftDays = int32(r.Int("shift days", math.MinInt32, math.MaxInt32))
	n.PausedSince = r.time("paused since")
	for i, c := 0, r.count("deferred"); i < c; i++ {
		n.Deferred = append(n.Deferred, Deferred{Stage: r.Str("deferred stage"), Index: int(r.Uint("deferred index", 0xffff)),
			Channel: event.Channel(r.Str("deferred channel")), At: r.time("deferred at")})
	}
	for i, c := 0, r.count("contacts"); i < c; i++ {
		n.Contacts = append(n.Contacts, r.time("contact"))
	}
	n.NextWake = r.time("next wake")
	r.End()
	if err := r.Err(); err != nil {
		return fmt.Errorf("decode state: %w: %w", ErrStateCorrupt, err)
	}
	*s = n
	return nil
}

func appendString(b []byte, s string) []byte { return varint.AppendString(b, s) }

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return varint.AppendVarint(b, 0)
	}
	return varint.AppendVarint(b, t.UnixMilli())
}

// reader adds dunning's value types to the bounded varint reader.
type reader struct{ *varint.Reader[[]byte] }

func (r reader) count(what string) int { return r.Count(what, maxList, 1) }

// maxAmount bounds decoded amounts (far above what a valid state holds).
const maxAmount = 1 << 56

func (r reader) amount(what string) event.Amount {
	return event.Amount(r.Int(what, -maxAmount, maxAmount))
}

// maxMillis bounds decoded instants to year 9999.
const maxMillis = 253402300799999

func (r reader) time(what string) time.Time {
	ms := r.Int(what, -maxMillis, maxMillis)
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
