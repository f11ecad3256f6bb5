package dunning

import (
	"math"

	"github.com/arrears/arrears/processor/event"
)

// The group state in the state encoding (codec.go, flags bit 32, version
// 3, written only by an account that has one, appended last): a byte of
// bits (1 context, 2 cascaded, 4 cascade suspends), the own service byte,
// the cascade id, then the context when present: group id, version,
// accounts, suspended, the exposures (currency, exposure, disputed), the
// group's dues and per child its id and dues (currency, due date, amount
// each). Amounts are full-range varints: a context carries what the group
// stage summed, which may exceed the bounds of an account's own amounts.

// maxGroupChildren bounds a decoded context's children.
const maxGroupChildren = 1 << 16

func (w *writer) writeGroup(g *Group) {
	bits := byte(0)
	if g.Context != nil {
		bits |= 1
	}
	if g.Cascaded {
		bits |= 2
	}
	if g.Cascade.Suspend {
		bits |= 4
	}
	w.b = append(w.b, bits, byte(g.Own))
	w.str(g.Cascade.ID)
	c := g.Context
	if c == nil {
		return
	}
	w.str(c.GroupID)
	w.varint(c.Version)
	w.varint(c.Accounts)
	w.varint(c.Suspended)
	w.uvarint(uint64(len(c.Exposure)))
	for _, x := range c.Exposure {
		w.str(string(x.Currency))
		w.varint(int64(x.Exposure))
		w.varint(int64(x.Disputed))
	}
	w.dues(c.Due)
	w.uvarint(uint64(len(c.Children)))
	for _, ch := range c.Children {
		w.str(ch.ChildID)
		w.dues(ch.Due)
	}
}

func (w *writer) dues(ds []event.GroupDue) {
	w.uvarint(uint64(len(ds)))
	for _, d := range ds {
		w.str(string(d.Currency))
		w.varint(int64(d.DueDate))
		w.varint(int64(d.Amount))
	}
}

// readGroup reads what writeGroup wrote.
func (r *reader) readGroup() *Group {
	g := &Group{}
	bits := r.Byte("group bits")
	g.Cascaded, g.Cascade.Suspend = bits&2 != 0, bits&4 != 0
	g.Own = ServiceState(r.Byte("group own service"))
	g.Cascade.ID = r.Str("group cascade id")
	if bits&1 == 0 {
		return g
	}
	c := &event.GroupContext{
		GroupID:   r.Str("group id"),
		Version:   r.Varint("group version"),
		Accounts:  r.Varint("group accounts"),
		Suspended: r.Varint("group suspended"),
	}
	for i, n := 0, r.count("group exposure"); i < n; i++ {
		c.Exposure = append(c.Exposure, event.GroupExposure{Currency: event.Currency(r.Str("group currency")),
			Exposure: event.Amount(r.Varint("group exposure")), Disputed: event.Amount(r.Varint("group disputed"))})
	}
	c.Due = r.dues()
	for i, n := 0, r.Count("group children", maxGroupChildren, 2); i < n; i++ {
		c.Children = append(c.Children, event.GroupChildSummary{ChildID: r.Str("group child"), Due: r.dues()})
	}
	g.Context = c
	return g
}

func (r *reader) dues() []event.GroupDue {
	var ds []event.GroupDue
	for i, n := 0, r.count("group dues"); i < n; i++ {
		ds = append(ds, event.GroupDue{Currency: event.Currency(r.Str("due currency")),
			DueDate: event.Date(r.Int("due date", math.MinInt32, math.MaxInt32)), Amount: event.Amount(r.Varint("due amount"))})
	}
	return ds
}
