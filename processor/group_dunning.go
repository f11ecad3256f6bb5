package processor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
)

// The group stage's part of group-level dunning (docs/processing.md
// "Collections groups"): in the group transaction, a top node (no parent)
// whose figures changed writes its GroupContext to kafka.topics.events,
// keyed by its own account; a node whose cascade changed writes a
// GroupServiceChange for each child account to the events topic and the
// cascade record to each child node on the contributions topic (and a child
// joining a suspended node gets the suspension). The account stage decides
// on these events alone, so a replay of ar.events decides identically.

// EventEncoder encodes an input event for a topic (schemas.Codec).
type EventEncoder interface {
	EncodeEvent(ctx context.Context, topic string, ev event.Event) ([]byte, error)
}

// PublishEvents makes the group stage write the group events with enc
// (without it the group stage only aggregates). Call before Run.
func (g *GroupStage) PublishEvents(enc EventEncoder) { g.events = enc }

// nodeBefore is what a node was before the batch touched it.
type nodeBefore struct {
	cascade  *group.Cascade
	conds    *group.Conds
	children map[string]bool
	totals   group.Totals
	parent   string
}

func snapshotNode(n *group.Node) nodeBefore {
	b := nodeBefore{totals: n.Totals, parent: n.Parent, children: make(map[string]bool, len(n.Children))}
	if n.Cascade != nil {
		c := *n.Cascade
		b.cascade = &c
	}
	b.conds = n.Conds // replaced, never written in place
	for k := range n.Children {
		b.children[k] = true
	}
	return b
}

// groupEvents writes node k's group events after its Settle: its context
// (a top whose totals, parent or children changed) and its cascade's
// fan-out. version orders the forwarded cascade records.
func (gp *groupPart) groupEvents(ctx context.Context, em *emitter, k string, n *group.Node, before nodeBefore, version int64) error {
	enc := gp.events
	if enc == nil {
		return nil
	}
	t := gp.d.kcfg.Topics
	at := time.UnixMilli(n.At).UTC()
	emit := func(acct, id string, body event.Body) error {
		v, err := enc.EncodeEvent(ctx, t.Events, event.Event{ID: id, Time: at, Source: "arrears-groups", Account: acct, Body: body})
		if err != nil {
			return fmt.Errorf("%w: group event %s: %w", errEncode, body.Kind(), err)
		}
		em.produce(&kgo.Record{Topic: t.Events, Key: []byte(acct), Value: v})
		gp.m.events.WithLabelValues(body.Kind().String()).Inc()
		return nil
	}
	var joined []string
	sameChildren := len(before.children) == len(n.Children)
	for c := range n.Children {
		if !before.children[c] {
			joined = append(joined, c)
			sameChildren = false
		}
	}
	if n.Parent == "" && (!n.Totals.Equal(before.totals) || before.parent != "" || !sameChildren) {
		c := n.Context(k)
		if err := emit(k, fmt.Sprintf("grp-ctx-%s-%d", k, c.Version), c); err != nil {
			return err
		}
	}
	sort.Strings(joined)
	notices, outs := n.Fanout(before.cascade, joined, version)
	cn, co := n.CondsFanout(before.conds, joined, version) // group/conditions.go
	notices, outs = append(notices, cn...), append(outs, co...)
	for _, no := range notices {
		if err := emit(no.Account, no.ID, no.Body); err != nil {
			return err
		}
	}
	for _, o := range outs {
		v, err := o.Record.Encode()
		if err != nil {
			return fmt.Errorf("%w: group cascade or conditions: %w", errEncode, err)
		}
		em.produce(&kgo.Record{Topic: t.GroupContributions, Key: []byte(o.Key), Value: v})
		gp.m.forwards.Inc()
	}
	return nil
}
