package dunning

import (
	"math"

	"github.com/arrears/arrears/processor/event"
)

// The group state in the state encoding (codec.go, flags bit 32, version
// 3, written only by an account that has one, appended last): a byte of
// bits (1 context, 2 cascaded, 4 cascade suspends, 8 conditions), the own
// service byte, the cascade id, then the context when present: group id,
// version, accounts, suspended, the exposures (currency, exposure,
// disputed), the group's dues and per child its id and dues (currency, due
// date, amount each); then the conditions when present: group, version,
// and per condition its name, rule, a byte (1 below, 2 never) and the flip
// day (group_hold.go). Amounts are full-range varints: a context carries what the group
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
	if g.Conds != nil {
		bits |= 8
	}
	w.b = append(w.b, bits, byte(g.Own))
	w.str(g.Cascade.ID)
	if c := g.Context; c != nil {
		w.context(c)
	}
	if c := g.Conds; c != nil {
		w.str(c.Group)
		w.varint(c.Version)
		w.uvarint(uint64(len(c.Conditions)))
		for _, k := range c.Conditions {
			w.str(k.Name)
			w.str(k.Rule)
			b := byte(0)
			if k.Below {
				b |= 1
			}
			if k.Never {
				b |= 2
			}
			w.b = append(w.b, b)
			w.varint(int64(k.Flip))
		}
	}
}

func (w *writer) context(c *event.GroupContext) {
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
	if bits&1 != 0 {
		g.Context = r.context()
	}
	if bits&8 != 0 {
		c := &event.GroupConditions{Group: r.Str("group conditions group"), Version: r.Varint("group conditions version")}
		for i, n := 0, r.count("group conditions"); i < n; i++ {
			k := event.GroupCondition{Name: r.Str("group condition name"), Rule: r.Str("group condition rule")}
			b := r.Byte("group condition bits")
			k.Below, k.Never = b&1 != 0, b&2 != 0
			k.Flip = event.Date(r.Int("group condition flip", math.MinInt32, math.MaxInt32))
			c.Conditions = append(c.Conditions, k)
		}
		g.Conds = c
	}
	return g
}

func (r *reader) context() *event.GroupContext {
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
	return c
}

func (r *reader) dues() []event.GroupDue {
	var ds []event.GroupDue
	for i, n := 0, r.count("group dues"); i < n; i++ {
		ds = append(ds, event.GroupDue{Currency: event.Currency(r.Str("due currency")),
			DueDate: event.Date(r.Int("due date", math.MinInt32, math.MaxInt32)), Amount: event.Amount(r.Varint("due amount"))})
	}
	return ds
}
