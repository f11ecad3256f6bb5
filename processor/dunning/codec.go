package dunning

import (
	"fmt"
	"math"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/internal/varint"
)

// stateVersion is the first byte of an encoded State; UnmarshalBinary also
// reads versions 1 and 3. Version 3 is version 2 with flags bit 8 and the
// experiment assignments appended; it is written only by a state that has
// any, so every other state encodes as before.
const (
	stateVersion   = 2
	stateVersionV1 = 1
	stateVersionV3 = 3
)

// Limits on decoded lists, so corrupt input cannot allocate without bound.
const maxList = 4096

// Encoding (version 2): a version byte, then varints and length-prefixed
// strings (internal/varint). The stages actioned come first; every other
// stage name (the current stage, the resume stage, a deferred contact's)
// is a reference to one of them when it can be (stageRef). Instants are
// chained: each non-zero one is the difference from the previous non-zero
// one, in minutes, seconds or milliseconds, whichever is exact (timeRef),
// so most take two or three bytes.
//
// Flags bit 4 (set only on an account written off or once recovered, so
// every other state encodes as before) appends the written-off amounts
// (invoice, currency, amount) and the recoveries (payment, invoice,
// currency, amount) after the next wake-up.
//
// Flags bit 8 (version 3) appends the experiment assignments (Arms:
// experiment id and arm byte each, then the current one's index). Flags
// bit 16 (version 3) appends the operator state (operator_codec.go), flags
// bit 32 (version 3) the collections-group state last (group_codec.go).
//
// Version 1 wrote the stage before the stages actioned, every stage name
// spelled, and every instant as absolute Unix milliseconds.

// MarshalBinary encodes the state compactly (see above).
func (s State) MarshalBinary() ([]byte, error) { return s.AppendBinary(make([]byte, 0, 64)) }

// AppendBinary appends MarshalBinary's encoding to b.
func (s State) AppendBinary(b []byte) ([]byte, error) {
	w := writer{b: b, actioned: s.Actioned}
	start := len(w.b)
	w.b = append(w.b, stateVersion)
	w.uvarint(uint64(s.Episode))
	flags := byte(0)
	if s.InEpisode {
		flags |= 1
	}
	if s.Arrangement != nil {
		flags |= 2
	}
	if len(s.WrittenOff) > 0 || len(s.Recoveries) > 0 {
		flags |= 4
	}
	if len(s.Arms) > 0 {
		flags |= 8
		w.b[start] = stateVersionV3
	}
	if s.Operator != nil {
		flags |= 16
		w.b[start] = stateVersionV3
	}
	if s.Group != nil {
		flags |= 32 // group_codec.go
		w.b[start] = stateVersionV3
	}
	w.b = append(w.b, flags, byte(s.Service))
	w.uvarint(uint64(len(s.Actioned)))
	for _, a := range s.Actioned {
		w.str(a)
	}
	w.stage(s.Stage)
	w.time(s.StageEntered)
	if a := s.Arrangement; a != nil {
		w.str(a.ID)
		w.b = append(w.b, byte(a.Type))
		w.str(string(a.Currency))
		w.time(a.Created)
		w.uvarint(uint64(len(a.Installments)))
		prev := event.Date(0)
		for _, in := range a.Installments {
			w.varint(int64(in.DueDate) - int64(prev))
			prev = in.DueDate
			w.varint(int64(in.Amount))
		}
		w.varint(int64(a.Paid))
		w.uvarint(uint64(len(a.Payments)))
		for _, p := range a.Payments {
			w.str(p.ID)
			w.varint(int64(p.Amount))
		}
		w.uvarint(uint64(a.Met))
	}
	w.uvarint(uint64(len(s.Holds)))
	for _, h := range s.Holds {
		w.str(h.ID)
		w.time(h.Until)
	}
	w.time(s.DisputeGraceUntil)
	w.stage(s.Resume)
	w.varint(int64(s.ShiftDays))
	w.time(s.PausedSince)
	w.uvarint(uint64(len(s.Deferred)))
	for _, d := range s.Deferred {
		w.stage(d.Stage)
		w.uvarint(uint64(d.Index))
		w.str(string(d.Channel))
		w.time(d.At)
	}
	w.uvarint(uint64(len(s.Contacts)))
	for _, c := range s.Contacts {
		w.time(c)
	}
	w.time(s.NextWake)
	if flags&4 != 0 {
		each(&w, s.WrittenOff, w.writtenOff)
		each(&w, s.Recoveries, func(x Recovery) {
			w.str(x.PaymentID)
			w.writtenOff(x.WrittenOff)
		})
	}
	if flags&8 != 0 {
		w.writeArms(s)
	}
	if flags&16 != 0 {
		w.writeOperator(s.Operator) // operator_codec.go
	}
	if flags&32 != 0 {
		w.writeGroup(s.Group) // group_codec.go
	}
	return w.b, nil
}

func (w *writer) writtenOff(x WrittenOff) {
	w.str(x.InvoiceID)
	w.amount(x.Currency, x.Amount)
}

// each writes the length of xs, then every element with put: the shape of
// the encoding's per-currency lists (write-offs, recoveries, accruals,
// provisions, agency payments), read back with r.count.
func each[T any](w *writer, xs []T, put func(T)) {
	w.uvarint(uint64(len(xs)))
	for _, x := range xs {
		put(x)
	}
}

// amount writes a currency and an amount in it.
func (w *writer) amount(c event.Currency, a event.Amount) {
	w.str(string(c))
	w.varint(int64(a))
}

// writer appends the version-2 encoding.
type writer struct {
	b        []byte
	prev     int64 // the last non-zero instant written, Unix ms
	actioned []string
}

func (w *writer) uvarint(v uint64) { w.b = varint.AppendUvarint(w.b, v) }
func (w *writer) varint(v int64)   { w.b = varint.AppendVarint(w.b, v) }
func (w *writer) str(s string)     { w.b = varint.AppendString(w.b, s) }

// stage writes 0 for "", k+2 for actioned[k], or 1 and the name.
func (w *writer) stage(s string) {
	if s == "" {
		w.uvarint(0)
		return
	}
	for k, a := range w.actioned {
		if a == s {
			w.uvarint(uint64(k) + 2)
			return
		}
	}
	w.uvarint(1)
	w.str(s)
}

// Units of a chained instant: the low two bits of its varint.
const (
	unitMinute = 1
	unitSecond = 2
	unitMilli  = 3
)

// time writes 0 for the zero instant, else the zigzag difference from the
// previous instant times 4 plus its unit.
func (w *writer) time(t time.Time) {
	if t.IsZero() {
		w.uvarint(0)
		return
	}
	ms := t.UnixMilli()
	d := ms - w.prev
	w.prev = ms
	v, unit := d, int64(unitMilli)
	switch {
	case d%60000 == 0:
		v, unit = d/60000, unitMinute
	case d%1000 == 0:
		v, unit = d/1000, unitSecond
	}
	z := uint64(v<<1) ^ uint64(v>>63) // zigzag
	w.uvarint(z<<2 | uint64(unit))
}

// UnmarshalBinary decodes what MarshalBinary produced, in this version or
// version 1. On error s is unchanged. Every list is bounded by maxList and
// by the bytes left.
func (s *State) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("decode state: empty: %w", ErrStateCorrupt)
	}
	if data[0] != stateVersion && data[0] != stateVersionV1 && data[0] != stateVersionV3 {
		return fmt.Errorf("decode state: version %d: %w", data[0], ErrStateVersion)
	}
	r := reader{Reader: varint.NewReader(data[1:]), v1: data[0] == stateVersionV1}
	var n State
	n.Episode = uint32(r.Uint("episode", math.MaxUint32))
	flags := r.Byte("flags")
	n.InEpisode = flags&1 != 0
	n.Service = ServiceState(r.Byte("service"))
	if r.v1 {
		n.Stage = r.Str("stage")
		n.StageEntered = r.time("stage entered")
	}
	for i, c := 0, r.count("actioned"); i < c; i++ {
		n.Actioned = append(n.Actioned, r.Str("actioned"))
	}
	r.actioned = n.Actioned
	if !r.v1 {
		n.Stage = r.stage("stage")
		n.StageEntered = r.time("stage entered")
	}
	if flags&2 != 0 {
		a := &Arrangement{}
		a.ID = r.Str("arrangement id")
		a.Type = event.ArrangementType(r.Byte("arrangement type"))
		a.Currency = event.Currency(r.Str("arrangement currency"))
		a.Created = r.time("arrangement created")
		prev := int64(0)
		for i, c := 0, r.count("installments"); i < c; i++ {
			due := r.Int("installment due", math.MinInt32, math.MaxInt32)
			if !r.v1 {
				due += prev
				prev = due
			}
			if due < math.MinInt32 || due > math.MaxInt32 {
				r.Fail("installment due")
			}
			a.Installments = append(a.Installments, event.Installment{DueDate: event.Date(due), Amount: r.amount("installment amount")})
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
	n.Resume = r.stage("resume")
	n.ShiftDays = int32(r.Int("shift days", math.MinInt32, math.MaxInt32))
	n.PausedSince = r.time("paused since")
	for i, c := 0, r.count("deferred"); i < c; i++ {
		n.Deferred = append(n.Deferred, Deferred{Stage: r.stage("deferred stage"), Index: int(r.Uint("deferred index", 0xffff)),
			Channel: event.Channel(r.Str("deferred channel")), At: r.time("deferred at")})
	}
	for i, c := 0, r.count("contacts"); i < c; i++ {
		n.Contacts = append(n.Contacts, r.time("contact"))
	}
	n.NextWake = r.time("next wake")
	if flags&4 != 0 {
		for i, c := 0, r.count("written off"); i < c; i++ {
			n.WrittenOff = append(n.WrittenOff, r.writtenOff())
		}
		for i, c := 0, r.count("recoveries"); i < c; i++ {
			n.Recoveries = append(n.Recoveries, Recovery{PaymentID: r.Str("recovery payment"), WrittenOff: r.writtenOff()})
		}
	}
	if flags&8 != 0 {
		if data[0] != stateVersionV3 {
			r.Fail("flags")
		}
		r.readArms(&n)
	}
	if flags&16 != 0 {
		if data[0] != stateVersionV3 {
			r.Fail("flags")
		}
		n.Operator = r.readOperator()
	}
	if flags&32 != 0 {
		if data[0] != stateVersionV3 {
			r.Fail("flags")
		}
		n.Group = r.readGroup()
	}
	r.End()
	if err := r.Err(); err != nil {
		return fmt.Errorf("decode state: %w: %w", ErrStateCorrupt, err)
	}
	*s = n
	return nil
}

// reader adds dunning's value types to the bounded varint reader.
type reader struct {
	*varint.Reader[[]byte]
	v1       bool
	prev     int64 // the last non-zero instant read, Unix ms (version 2)
	actioned []string
}

func (r *reader) count(what string) int { return r.Count(what, maxList, 1) }

func (r *reader) writtenOff() WrittenOff {
	return WrittenOff{InvoiceID: r.Str("written-off invoice"), Currency: event.Currency(r.Str("written-off currency")),
		Amount: r.amount("written-off amount")}
}

// maxAmount bounds decoded amounts (far above what a valid state holds).
const maxAmount = 1 << 56

func (r *reader) amount(what string) event.Amount {
	return event.Amount(r.Int(what, -maxAmount, maxAmount))
}

// stage reads what writer.stage wrote (version 1: a spelled name).
func (r *reader) stage(what string) string {
	if r.v1 {
		return r.Str(what)
	}
	switch k := r.Uvarint(what); {
	case k == 0:
		return ""
	case k == 1:
		return r.Str(what)
	case k-2 < uint64(len(r.actioned)):
		return r.actioned[k-2]
	}
	r.Fail(what)
	return ""
}

// maxMillis bounds decoded instants to year 9999.
const maxMillis = 253402300799999

// time reads what writer.time wrote (version 1: absolute Unix ms, 0 zero).
func (r *reader) time(what string) time.Time {
	var ms int64
	if r.v1 {
		ms = r.Int(what, -maxMillis, maxMillis)
	} else {
		v := r.Uvarint(what)
		if v == 0 {
			return time.Time{}
		}
		z := v >> 2
		d := int64(z>>1) ^ -int64(z&1)
		switch v & 3 {
		case unitMinute:
			d *= 60000
		case unitSecond:
			d *= 1000
		case 0:
			r.Fail(what)
		}
		if d < -2*maxMillis || d > 2*maxMillis {
			r.Fail(what)
			return time.Time{}
		}
		ms = r.prev + d
		r.prev = ms
	}
	if ms == 0 || ms < -maxMillis || ms > maxMillis {
		if ms != 0 {
			r.Fail(what)
		}
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
