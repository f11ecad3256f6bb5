package dunning

import (
	"github.com/arrears/arrears/processor/event"
)

// The operator state in the state encoding (codec.go, flags bit 16,
// version 3): the exemptions (flag, until), the cleared flags and their
// base, a byte of bits (1 consents set, 2 cease), the consents and their
// base when set, the preferred channel, the cease instant, the last call
// (outcome byte, instant, count) and the call-backs (id, at, queue,
// source). Instants are chained like every other.

func (w *writer) writeOperator(o *Operator) {
	w.uvarint(uint64(len(o.Exemptions)))
	for _, x := range o.Exemptions {
		w.str(x.Flag)
		w.time(x.Until)
	}
	writeList(w, o.Cleared)
	writeList(w, o.ClearedBase)
	bits := byte(0)
	if o.ConsentsSet {
		bits |= 1
	}
	if o.Cease {
		bits |= 2
	}
	w.b = append(w.b, bits)
	if o.ConsentsSet {
		writeList(w, o.Consents)
		writeList(w, o.ConsentsBase)
	}
	w.str(string(o.Preferred))
	w.time(o.CeaseSince)
	w.b = append(w.b, byte(o.LastCall))
	w.time(o.LastCallAt)
	w.uvarint(uint64(o.Calls))
	w.uvarint(uint64(len(o.Callbacks)))
	for _, c := range o.Callbacks {
		w.str(c.ID)
		w.time(c.At)
		w.str(c.Queue)
		w.str(c.Source)
	}
}

func writeList[T ~string](w *writer, ss []T) {
	w.uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.str(string(s))
	}
}

// readOperator reads what writeOperator wrote.
func (r *reader) readOperator() *Operator {
	o := &Operator{}
	for i, c := 0, r.Count("operator exemptions", MaxOperatorExemptions, 2); i < c; i++ {
		o.Exemptions = append(o.Exemptions, Exemption{Flag: r.Str("exemption"), Until: r.time("exemption until")})
	}
	o.Cleared = readList[string](r, "cleared exemptions")
	o.ClearedBase = readList[string](r, "cleared base")
	bits := r.Byte("operator bits")
	if bits > 3 {
		r.Fail("operator bits")
	}
	o.ConsentsSet, o.Cease = bits&1 != 0, bits&2 != 0
	if o.ConsentsSet {
		o.Consents = readList[event.Channel](r, "operator consents")
		o.ConsentsBase = readList[event.Channel](r, "consents base")
	}
	o.Preferred = event.Channel(r.Str("preferred channel"))
	o.CeaseSince = r.time("cease since")
	o.LastCall = event.CallOutcome(r.Byte("last call"))
	o.LastCallAt = r.time("last call at")
	o.Calls = uint32(r.Uint("calls", 1<<32-1))
	for i, c := 0, r.Count("call-backs", MaxCallbacks, 4); i < c; i++ {
		o.Callbacks = append(o.Callbacks, Callback{ID: r.Str("call-back id"), At: r.time("call-back at"),
			Queue: r.Str("call-back queue"), Source: r.Str("call-back source")})
	}
	return o
}

func readList[T ~string](r *reader, what string) []T {
	var out []T
	for i, c := 0, r.count(what); i < c; i++ {
		out = append(out, T(r.Str(what)))
	}
	return out
}
