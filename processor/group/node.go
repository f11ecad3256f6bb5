package group

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Child keys in a node: an account's own contribution and a group node's
// forwarded subtree are distinct children even when they share an id (a
// group's parent account is also a child account of its own parent).
const (
	AccountChild = "a:"
	GroupChild   = "g:"
)

// MaxDepth bounds the group levels a node forwards: a node whose subtree is
// this deep forwards nothing (a cycle of parent links would otherwise
// forward around the cycle for ever).
const MaxDepth = 8

// Record is one record of the group-contributions topic, keyed by the node
// it concerns.
type Record struct {
	// Child, on a contribution, is the child key (AccountChild or
	// GroupChild + id); the record's key is the parent.
	Child string `json:"child,omitempty"`
	// Version orders one child's contributions: a node applies a
	// contribution only when it is newer than the child's last.
	Version int64 `json:"version"`
	// Removed: the child no longer belongs to the keyed parent.
	Removed bool `json:"removed,omitempty"`
	// Totals is the child's contribution (absolute, not a delta).
	Totals *Totals `json:"totals,omitempty"`
	// Link, when set, makes the record a parent link instead: the keyed
	// node's own parent is Parent ("" none). The account stage writes it
	// when an account's parent_id changes.
	Link   bool   `json:"link,omitempty"`
	Parent string `json:"parent,omitempty"`
	// Cascade, when set, makes the record a cascade instead: the keyed
	// node's group-level top decided Cascade (cascade.go). The account
	// stage writes it keyed by the top's own node; the group stage forwards
	// it to the node's child nodes.
	Cascade *Cascade `json:"cascade,omitempty"`
	// Conds, when set, makes the record a conditions record instead: the
	// keyed node's group conditions as its parent holds them
	// (conditions.go), forwarded down by the group stage.
	Conds *Conds `json:"conds,omitempty"`
	// At is the writer's clock (Unix ms): the account stage's partition
	// clock; the time of the group events the record leads to.
	At int64 `json:"at,omitempty"`
}

// Encode returns the record's value bytes.
func (r Record) Encode() ([]byte, error) { return json.Marshal(r) }

// DecodeRecord reads a record's value.
func DecodeRecord(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	if r.Cascade != nil && (r.Cascade.Group == "" || r.Cascade.ID == "") {
		return Record{}, fmt.Errorf("%w: a cascade without group or id", ErrBadRecord)
	}
	if r.Conds != nil && r.Conds.Group == "" {
		return Record{}, fmt.Errorf("%w: conditions without group", ErrBadRecord)
	}
	if !r.Link && r.Cascade == nil && r.Conds == nil && (r.Child == "" || !r.Removed && r.Totals == nil) {
		return Record{}, fmt.Errorf("%w: a contribution without child or totals", ErrBadRecord)
	}
	return r, nil
}

// Child is one child's latest contribution to a node.
type Child struct {
	Version int64  `json:"v"`
	Totals  Totals `json:"t"`
}

// Node is a group node as the store and its changelog hold it.
type Node struct {
	// Parent is the node's own parent (from its account's parent link).
	Parent      string `json:"parent,omitempty"`
	LinkVersion int64  `json:"link_version,omitempty"`
	// Children is each child's latest contribution, by child key.
	Children map[string]Child `json:"children,omitempty"`
	// Totals is the sum over Children.
	Totals Totals `json:"totals"`
	// Forwarded is the parent that holds this node's subtree as a child
	// ("" none): where a removal goes when the parent changes.
	Forwarded string `json:"forwarded,omitempty"`
	// Version is the last input offset applied to the node.
	Version int64 `json:"version"`
	// Cascade is the last cascade of the node's group-level top (nil
	// none), at CascadeVersion (cascade.go).
	Cascade        *Cascade `json:"cascade,omitempty"`
	CascadeVersion int64    `json:"cascade_version,omitempty"`
	// Conds is the state of the group conditions: worked out by a top
	// from its totals, sent down by a parent otherwise (conditions.go).
	Conds *Conds `json:"conds,omitempty"`
	// At is the latest writer clock of the records applied (Unix ms).
	At int64 `json:"at,omitempty"`
}

// Encode returns the node's stored bytes.
func (n *Node) Encode() ([]byte, error) { return json.Marshal(n) }

// DecodeNode reads stored bytes (nil or empty: a new node).
func DecodeNode(b []byte) (*Node, error) {
	n := &Node{}
	if len(b) == 0 {
		return n, nil
	}
	if err := json.Unmarshal(b, n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadNode, err)
	}
	return n, nil
}

// Empty reports whether the node holds nothing worth storing.
func (n *Node) Empty() bool {
	return len(n.Children) == 0 && n.Parent == "" && n.Forwarded == "" && n.Cascade == nil // conditions without children tell nobody anything
}

// Apply applies one record (at input position version) to the node. It
// reports whether the node changed. A contribution not newer than the
// child's last is a repeat and changes nothing.
func (n *Node) Apply(r Record, version int64) bool {
	n.Version = max(n.Version, version)
	n.At = max(n.At, r.At)
	if r.Cascade != nil {
		return n.applyCascade(r) // cascade.go
	}
	if r.Conds != nil {
		return n.applyConds(r) // conditions.go
	}
	if r.Link {
		if r.Version < n.LinkVersion || r.Parent == n.Parent && r.Version == n.LinkVersion {
			return false
		}
		n.LinkVersion = r.Version
		changed := n.Parent != r.Parent
		n.Parent = r.Parent
		return changed
	}
	old, had := n.Children[r.Child]
	if had && r.Version <= old.Version {
		return false
	}
	if r.Removed {
		if !had {
			return false
		}
		delete(n.Children, r.Child)
		return true
	}
	if n.Children == nil {
		n.Children = map[string]Child{}
	}
	n.Children[r.Child] = Child{Version: r.Version, Totals: *r.Totals}
	return true
}

// Out is a record the node sends to another node.
type Out struct {
	Key    string
	Record Record
}

// Settle recomputes the totals of node id after its batch and returns what
// it forwards: its subtree (GroupChild + id) to its parent when the totals
// or the parent changed, and a removal to the parent that held it before.
// version is the batch's last input position, which orders the forwards.
func (n *Node) Settle(id string, version int64) []Out {
	var t Totals
	for _, k := range slices.Sorted(maps.Keys(n.Children)) {
		t.add(n.Children[k].Totals)
	}
	if len(n.Children) > 0 {
		t.Depth++
	}
	changed := !t.Equal(n.Totals)
	n.Totals = t
	if t.Depth > MaxDepth {
		return nil // a cycle of parent links: forward nothing more, the parent keeps what it holds
	}
	target := n.Parent
	if len(n.Children) == 0 || target == id {
		target = ""
	}
	var out []Out
	child := GroupChild + id
	if n.Forwarded != "" && n.Forwarded != target {
		out = append(out, Out{Key: n.Forwarded, Record: Record{Child: child, Version: version, Removed: true}})
	}
	if target != "" && (changed || n.Forwarded != target) {
		tt := t
		out = append(out, Out{Key: target, Record: Record{Child: child, Version: version, Totals: &tt}})
	}
	n.Forwarded = target
	return out
}
