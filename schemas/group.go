package schemas

import (
	"github.com/arrears/arrears/processor/event"
)

// The collections-group events (processor/event/group.go), written by the
// group stage: native form (goavro and Avro JSON, both directions), the
// hand-written binary codec and their bounds, in ar_event.avsc order.

func groupFromNative(kind event.Kind, f *fields) event.Body {
	switch kind {
	case event.KindGroupContext:
		c := &event.GroupContext{GroupID: f.str("group_id"), Version: f.int64("version"),
			Accounts: f.int64("accounts"), Suspended: f.int64("suspended")}
		f.records("exposure", func(_ int, r *fields) {
			c.Exposure = append(c.Exposure, event.GroupExposure{Currency: event.Currency(r.str("currency")),
				Exposure: r.amount("exposure"), Disputed: r.amount("disputed")})
		})
		c.Due = groupDuesNative(f)
		f.records("children", func(_ int, r *fields) {
			c.Children = append(c.Children, event.GroupChildSummary{ChildID: r.str("child_id"), Due: groupDuesNative(r)})
		})
		return c
	case event.KindGroupServiceChange:
		return &event.GroupServiceChange{Group: f.str("group"), CascadeID: f.str("cascade_id"), Suspend: f.boolean("suspend")}
	case event.KindGroupConditions:
		c := &event.GroupConditions{Group: f.str("group"), Version: f.int64("version")}
		f.records("conditions", func(_ int, r *fields) {
			c.Conditions = append(c.Conditions, event.GroupCondition{Name: r.str("name"), Rule: r.str("rule"),
				Below: r.boolean("below"), Never: r.boolean("never"), Flip: r.date("flip")})
		})
		return c
	}
	return nil
}

func groupDuesNative(f *fields) []event.GroupDue {
	var ds []event.GroupDue
	f.records("due", func(_ int, r *fields) {
		ds = append(ds, event.GroupDue{Currency: event.Currency(r.str("currency")), DueDate: r.date("due_date"), Amount: r.amount("amount")})
	})
	return ds
}

func groupToNative(body event.Body) map[string]any {
	switch b := body.(type) {
	case *event.GroupContext:
		exp := make([]any, len(b.Exposure))
		for i, x := range b.Exposure {
			exp[i] = map[string]any{"currency": string(x.Currency), "exposure": x.Exposure.Rat(), "disputed": x.Disputed.Rat()}
		}
		children := make([]any, len(b.Children))
		for i, ch := range b.Children {
			children[i] = map[string]any{"child_id": ch.ChildID, "due": groupDuesToNative(ch.Due)}
		}
		return map[string]any{"group_id": b.GroupID, "version": b.Version, "accounts": b.Accounts,
			"suspended": b.Suspended, "exposure": exp, "due": groupDuesToNative(b.Due), "children": children}
	case *event.GroupServiceChange:
		return map[string]any{"group": b.Group, "cascade_id": b.CascadeID, "suspend": b.Suspend}
	case *event.GroupConditions:
		cs := make([]any, len(b.Conditions))
		for i, c := range b.Conditions {
			cs[i] = map[string]any{"name": c.Name, "rule": c.Rule, "below": c.Below, "never": c.Never, "flip": c.Flip.Time()}
		}
		return map[string]any{"group": b.Group, "version": b.Version, "conditions": cs}
	}
	return nil
}

func groupDuesToNative(ds []event.GroupDue) []any {
	out := make([]any, len(ds))
	for i, d := range ds {
		out[i] = map[string]any{"currency": string(d.Currency), "due_date": d.DueDate.Time(), "amount": d.Amount.Rat()}
	}
	return out
}

func decodeGroupFast(r *avroReader, kind event.Kind) event.Body {
	switch kind {
	case event.KindGroupContext:
		c := &event.GroupContext{GroupID: r.str("group_id"), Version: r.long("version"),
			Accounts: r.long("accounts"), Suspended: r.long("suspended")}
		r.blocks("exposure", func() {
			c.Exposure = append(c.Exposure, event.GroupExposure{Currency: event.Currency(r.str("currency")),
				Exposure: r.decimal("exposure"), Disputed: r.decimal("disputed")})
		})
		c.Due = readGroupDues(r)
		r.blocks("children", func() {
			c.Children = append(c.Children, event.GroupChildSummary{ChildID: r.str("child_id"), Due: readGroupDues(r)})
		})
		return c
	case event.KindGroupServiceChange:
		return &event.GroupServiceChange{Group: r.str("group"), CascadeID: r.str("cascade_id"), Suspend: r.bool("suspend")}
	case event.KindGroupConditions:
		c := &event.GroupConditions{Group: r.str("group"), Version: r.long("version")}
		r.blocks("conditions", func() {
			c.Conditions = append(c.Conditions, event.GroupCondition{Name: r.str("name"), Rule: r.str("rule"),
				Below: r.bool("below"), Never: r.bool("never"), Flip: r.date("flip")})
		})
		return c
	}
	return nil
}

func readGroupDues(r *avroReader) []event.GroupDue {
	var ds []event.GroupDue
	r.blocks("due", func() {
		ds = append(ds, event.GroupDue{Currency: event.Currency(r.str("currency")), DueDate: r.date("due_date"), Amount: r.decimal("amount")})
	})
	return ds
}

// writeGroup encodes a group event's body; false for another body.
func writeGroup(w *avroWriter, body event.Body) bool {
	switch b := body.(type) {
	case *event.GroupContext:
		w.str(b.GroupID)
		w.long(b.Version)
		w.long(b.Accounts)
		w.long(b.Suspended)
		w.array(len(b.Exposure), func(i int) {
			w.str(string(b.Exposure[i].Currency))
			w.decimal(b.Exposure[i].Exposure)
			w.decimal(b.Exposure[i].Disputed)
		})
		writeGroupDues(w, b.Due)
		w.array(len(b.Children), func(i int) {
			w.str(b.Children[i].ChildID)
			writeGroupDues(w, b.Children[i].Due)
		})
	case *event.GroupServiceChange:
		w.str(b.Group, b.CascadeID)
		w.bool(b.Suspend)
	case *event.GroupConditions:
		w.str(b.Group)
		w.long(b.Version)
		w.array(len(b.Conditions), func(i int) {
			c := b.Conditions[i]
			w.str(c.Name, c.Rule)
			w.bool(c.Below)
			w.bool(c.Never)
			w.date(c.Flip)
		})
	default:
		return false
	}
	return true
}

func writeGroupDues(w *avroWriter, ds []event.GroupDue) {
	w.array(len(ds), func(i int) {
		w.str(string(ds[i].Currency))
		w.date(ds[i].DueDate)
		w.decimal(ds[i].Amount)
	})
}

// checkGroup bounds the group events: ids, currencies and amounts.
func (k *checker) checkGroup(body event.Body) {
	switch b := body.(type) {
	case *event.GroupContext:
		k.id("group_id", b.GroupID)
		k.items("exposure", len(b.Exposure))
		k.each(len(b.Exposure), "exposure", func(i int) {
			x := b.Exposure[i]
			k.money(x.Currency, "exposure", x.Exposure)
			k.money(x.Currency, "disputed", x.Disputed)
		})
		k.groupDues(b.Due)
		k.items("children", len(b.Children))
		k.each(len(b.Children), "children", func(i int) {
			k.id("child_id", b.Children[i].ChildID)
			k.groupDues(b.Children[i].Due)
		})
	case *event.GroupServiceChange:
		k.id("group", b.Group)
		k.id("cascade_id", b.CascadeID)
	case *event.GroupConditions:
		k.id("group", b.Group)
		k.items("conditions", len(b.Conditions))
		k.each(len(b.Conditions), "conditions", func(i int) {
			c := b.Conditions[i]
			k.id("name", c.Name)
			k.text("rule", c.Rule)
			if !c.Never && c.Flip != 0 {
				k.date("flip", c.Flip)
			}
		})
	}
}

func (k *checker) groupDues(ds []event.GroupDue) {
	k.items("due", len(ds))
	k.each(len(ds), "due", func(i int) {
		k.date("due_date", ds[i].DueDate)
		k.money(ds[i].Currency, "amount", ds[i].Amount)
	})
}
