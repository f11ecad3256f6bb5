package api

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/sinks/redisstore"
)

// GroupReader reads collections group nodes from the group stage's store
// (docs/processing.md "Collections groups").
type GroupReader interface {
	// Node loads group node id; nil and no error when the store has none.
	Node(ctx context.Context, id string) (*group.Node, error)
}

// RedisGroups reads the group store (a redisstore.Store under
// processor.GroupStorePrefix), each node on the partition
// kafkax.PartitionFor gives over the group-contributions topic's partition
// count, as `arrears groups show` does.
type RedisGroups struct {
	store  *redisstore.Store
	nparts int32
}

// NewRedisGroups reads the group-contributions topic's partition count
// once (the group store's layout depends on it).
func NewRedisGroups(ctx context.Context, c kafkax.Config, store *redisstore.Store) (*RedisGroups, error) {
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		return nil, fmt.Errorf("kafka admin: %w", err)
	}
	defer cl.Close()
	topic := c.Topics.GroupContributions
	md, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list topic %s: %w", topic, c.Explain(err))
	}
	t, ok := md[topic]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return nil, fmt.Errorf("topic %s not found (run `arrears topics create`)", topic)
	}
	return &RedisGroups{store: store, nparts: int32(len(t.Partitions))}, nil
}

// Node implements GroupReader.
func (g *RedisGroups) Node(ctx context.Context, id string) (*group.Node, error) {
	vals, err := g.store.Load(ctx, kafkax.PartitionFor([]byte(id), g.nparts), 0, []string{id})
	if err != nil {
		return nil, err
	}
	v, ok := vals[id]
	if !ok {
		return nil, nil
	}
	return group.DecodeNode(v.State)
}

// Group view states (GroupView.Status).
const (
	// GroupAggregated: the figures are the top group's, from the store.
	GroupAggregated = "AGGREGATED"
	// GroupPending: the group stage has not stored the parent or a group
	// above it yet (it runs behind the account stage): no figures.
	GroupPending = "PENDING"
	// GroupUnavailable: the group store could not be read: no figures.
	GroupUnavailable = "UNAVAILABLE"
)

// GroupSource says where GroupView's figures come from.
const GroupSource = "group stage's latest aggregate (Redis group store)"

// GroupView is the account's collections group context: its parent, the
// groups above it up to the top, and the top group's figures as the group
// stage last stored them. The stored figures do not depend on the clock
// (group.Totals): overdue and the worst days past due are aged from the
// due dates as of AsOf, the account view's as_of.
type GroupView struct {
	ParentID string    `json:"parent_id"`
	Path     []string  `json:"path"` // the parent, then each group above it, the top last
	TopID    string    `json:"top_id"`
	Status   string    `json:"status"`
	Source   string    `json:"source"`
	AsOf     time.Time `json:"as_of"`
	// Version is the top node's last applied group-contributions offset.
	Version    int64               `json:"version"`
	Accounts   int64               `json:"accounts"`
	NotActive  int64               `json:"not_active"`
	Levels     int                 `json:"levels"`
	MaxPD      float64             `json:"max_pd"`
	WorstDPD   int32               `json:"worst_days_past_due"`
	Currencies []GroupCurrencyView `json:"currencies"`
	// Conditions are the group conditions the account last heard of (its
	// state: what its policy's group.hold decides on), as of AsOf.
	Conditions []GroupConditionView `json:"conditions"`
}

// GroupConditionView is one group condition as the account holds it.
type GroupConditionView struct {
	Name  string `json:"name"`
	Rule  string `json:"rule"`
	Group string `json:"group"`
	Holds bool   `json:"holds"`
	// Flip is the day the metric reaches the threshold ("": never with the
	// group's figures as they are; 1970-01-01: whatever the day).
	Flip string `json:"flip"`
}

// GroupCurrencyView is the top group's figures in one currency.
type GroupCurrencyView struct {
	Currency     string `json:"currency"`
	Exposure     string `json:"exposure"`
	Overdue      string `json:"overdue"`
	Disputed     string `json:"disputed"`
	ExpectedLoss string `json:"expected_loss"`
}

// groupView is the group context of an account whose parent is parent, as
// of now (nil: no parent, or serve reads no group store). It follows each
// node's forward (group.Node.Forwarded) to the top, at most group.MaxDepth
// levels up and never round a cycle.
func (s *Server) groupView(ctx context.Context, parent string, now time.Time, conds *event.GroupConditions) *GroupView {
	if s.deps.Groups == nil || parent == "" {
		return nil
	}
	v := &GroupView{ParentID: parent, Path: []string{}, Status: GroupPending, Source: GroupSource, AsOf: now.UTC(),
		Currencies: []GroupCurrencyView{}, Conditions: conditionViews(conds, event.DateOf(now))}
	id := parent
	for range group.MaxDepth + 1 {
		if slices.Contains(v.Path, id) {
			break
		}
		n, err := s.deps.Groups.Node(ctx, id)
		if err != nil {
			s.log.Warn("group store read failed: account view without group figures", "err", err)
			v.Status = GroupUnavailable
			return v
		}
		if n == nil {
			return v // not aggregated yet
		}
		v.Path = append(v.Path, id)
		if n.Forwarded == "" {
			v.TopID = id
			v.fill(n, event.DateOf(now))
			return v
		}
		id = n.Forwarded
	}
	return v
}

// fill sets the top node n's figures, aged as of today.
func (v *GroupView) fill(n *group.Node, today event.Date) {
	t := n.Totals
	v.Status, v.Version = GroupAggregated, n.Version
	v.Accounts, v.NotActive, v.Levels, v.MaxPD, v.WorstDPD = t.Accounts, t.Suspended, t.Depth, t.MaxPD, t.WorstDPD(today)
	for _, c := range slices.Sorted(maps.Keys(t.Currencies)) {
		f := t.Currencies[c]
		v.Currencies = append(v.Currencies, GroupCurrencyView{Currency: string(c), Exposure: event.Amount(f.Exposure).String(),
			Overdue: event.Amount(t.Overdue(c, today)).String(), Disputed: event.Amount(f.Disputed).String(),
			ExpectedLoss: event.Amount(f.ExpectedLoss).String()})
	}
}

// conditionViews renders the account's group conditions as of today.
func conditionViews(c *event.GroupConditions, today event.Date) []GroupConditionView {
	out := []GroupConditionView{}
	if c == nil {
		return out
	}
	for _, k := range c.Conditions {
		flip := ""
		if !k.Never {
			flip = k.Flip.String()
		}
		out = append(out, GroupConditionView{Name: k.Name, Rule: k.Rule, Group: c.Group, Holds: k.Holds(today), Flip: flip})
	}
	return out
}
