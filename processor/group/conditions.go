package group

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/arrears/arrears/processor/event"
)

// Group conditions (docs/processing.md "Group conditions"): named tests of
// a collections group's figures (processor.groups.conditions) that
// per-account policies hold stages back on (policy `group.hold`). A top
// node works its conditions out from its totals after every batch; since
// the totals are clock-independent, each condition comes out as the day
// its metric reaches the threshold (Flip), which stays true while time
// passes. The top sends them down (a GroupConditions event per descendant
// account, a conditions record per child node) only when a flip day
// changed, and to a child that joins: never an event per child per change
// of the group's figures.

// Metric names the group figure a condition tests.
type Metric string

// The metrics. Overdue share and worst days past due grow with time (the
// flip is a day); the highest PD and the suspended share do not (reached
// whatever the day, or never).
const (
	// MetricOverdueShare is the undisputed open amount past due over the
	// exposure, the highest over the group's currencies.
	MetricOverdueShare Metric = "overdue_share"
	// MetricWorstDPD is the days past due of the group's oldest undisputed
	// open amount.
	MetricWorstDPD Metric = "worst_dpd"
	// MetricMaxPD is the highest probability of default in the group.
	MetricMaxPD Metric = "max_pd"
	// MetricSuspendedShare is the share of the group's accounts whose
	// service is not ACTIVE.
	MetricSuspendedShare Metric = "suspended_share"
)

// Condition is one entry of processor.groups.conditions:
//
//   - {name: group_overdue_low, metric: overdue_share, below: 0.02}
//   - {name: group_high_risk, metric: max_pd, at_least: 0.5}
type Condition struct {
	// Name is what policies' group.hold name.
	Name string `yaml:"name"`
	// Metric is one of overdue_share, worst_dpd, max_pd, suspended_share.
	Metric Metric `yaml:"metric"`
	// Exactly one of Below (the condition holds while the metric is under
	// it) and AtLeast (once the metric is at or over it).
	Below   *float64 `yaml:"below"`
	AtLeast *float64 `yaml:"at_least"`
}

// ValidateConditions names the bad entry of processor.groups.conditions.
func ValidateConditions(cs []Condition) error {
	var errs []error
	seen := map[string]bool{}
	for i, c := range cs {
		field := fmt.Sprintf("processor.groups.conditions[%d]", i)
		switch {
		case c.Name == "" || len(c.Name) > 64 || strings.ContainsAny(c.Name, " \t\n"):
			errs = append(errs, fmt.Errorf("%s.name: %q must be 1-64 characters without spaces", field, c.Name))
		case seen[c.Name]:
			errs = append(errs, fmt.Errorf("%s.name: %q is defined twice", field, c.Name))
		}
		seen[c.Name] = true
		switch c.Metric {
		case MetricOverdueShare, MetricWorstDPD, MetricMaxPD, MetricSuspendedShare:
		default:
			errs = append(errs, fmt.Errorf("%s.metric: unknown metric %q (want overdue_share, worst_dpd, max_pd or suspended_share)", field, c.Metric))
		}
		if (c.Below == nil) == (c.AtLeast == nil) {
			errs = append(errs, fmt.Errorf("%s: set exactly one of below and at_least", field))
			continue
		}
		if x := c.threshold(); math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
			errs = append(errs, fmt.Errorf("%s: threshold %v must be a number >= 0", field, x))
		}
	}
	return errors.Join(errs...)
}

func (c Condition) threshold() float64 {
	if c.Below != nil {
		return *c.Below
	}
	return *c.AtLeast
}

// Rule spells the condition: "overdue_share below 0.02".
func (c Condition) Rule() string {
	op := "at_least"
	if c.Below != nil {
		op = "below"
	}
	return string(c.Metric) + " " + op + " " + strconv.FormatFloat(c.threshold(), 'f', -1, 64)
}

// Eval is the condition's state for a group's totals t.
func (c Condition) Eval(t Totals) event.GroupCondition {
	g := event.GroupCondition{Name: c.Name, Rule: c.Rule(), Below: c.Below != nil}
	flip, reached := c.flip(t)
	g.Flip, g.Never = flip, !reached
	return g
}

// flip is the day the metric reaches the threshold (0: whatever the day);
// reached is false when it never does with these figures.
func (c Condition) flip(t Totals) (event.Date, bool) {
	x := c.threshold()
	switch c.Metric {
	case MetricOverdueShare:
		return overdueShareFlip(t, x)
	case MetricWorstDPD:
		if x <= 0 {
			return 0, true
		}
		oldest, ok := oldestDue(t)
		if !ok {
			return 0, false
		}
		return oldest + event.Date(math.Ceil(x)), true
	case MetricMaxPD:
		return 0, t.MaxPD >= x
	case MetricSuspendedShare:
		return 0, x <= 0 || t.Accounts > 0 && float64(t.Suspended) >= x*float64(t.Accounts)
	}
	return 0, false
}

// overdueShareFlip: on day D the overdue in a currency is its dues before
// D, so the share reaches x on the day after the due date at which the
// running sum of dues (by date) reaches x times the exposure; the group's
// share (the highest over currencies) on the earliest such day.
func overdueShareFlip(t Totals, x float64) (event.Date, bool) {
	if x <= 0 {
		return 0, true
	}
	var best event.Date
	found := false
	for _, cur := range slices.Sorted(maps.Keys(t.Currencies)) {
		f := t.Currencies[cur]
		if f.Exposure <= 0 {
			continue
		}
		target := x * float64(f.Exposure)
		var run int64
		for _, d := range slices.Sorted(maps.Keys(f.Due)) {
			run += f.Due[d]
			if float64(run) >= target {
				if !found || d+1 < best {
					best, found = d+1, true
				}
				break
			}
		}
	}
	return best, found
}

func oldestDue(t Totals) (event.Date, bool) {
	var oldest event.Date
	found := false
	for _, f := range t.Currencies {
		for d, v := range f.Due {
			if v > 0 && (!found || d < oldest) {
				oldest, found = d, true
			}
		}
	}
	return oldest, found
}

// Conds is the state of a group's conditions as a node holds and forwards
// it: the top's account (Group), the top's input position when worked out
// (Version), one entry per configured condition.
type Conds struct {
	Group   string                 `json:"group"`
	Version int64                  `json:"version"`
	List    []event.GroupCondition `json:"list"`
}

// same reports whether two states tell the descendants the same thing.
func (c *Conds) same(o *Conds) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.Group == o.Group && slices.Equal(c.List, o.List)
}

// WorkConditions sets a top node's (no parent) conditions from its totals
// after Settle; a node with a parent keeps what its parent sent. It
// reports a change descendants must hear of (a flip day, the list).
func (n *Node) WorkConditions(id string, cat []Condition) bool {
	if n.Parent != "" || len(cat) == 0 || len(n.Children) == 0 {
		return false
	}
	c := &Conds{Group: id, Version: n.Version, List: make([]event.GroupCondition, len(cat))}
	for i, k := range cat {
		c.List[i] = k.Eval(n.Totals)
	}
	if c.same(n.Conds) {
		return false
	}
	n.Conds = c
	return true
}

// applyConds keeps the conditions a parent sent when they are another
// group's or newer; it reports a change descendants must hear of.
func (n *Node) applyConds(r Record) bool {
	c := *r.Conds
	if n.Conds != nil && n.Conds.Group == c.Group && c.Version <= n.Conds.Version {
		return false
	}
	changed := !c.same(n.Conds)
	n.Conds = &c
	return changed
}

// CondsFanout is what node id sends down after its batch when its
// conditions changed from before (nil: none), or children joined it: a
// GroupConditions event per child account, the conditions record to each
// child node. version orders the forwarded records and names the events.
func (n *Node) CondsFanout(before *Conds, joined []string, version int64) ([]Notice, []Out) {
	c := n.Conds
	if c == nil {
		return nil, nil
	}
	to := joined
	if !c.same(before) {
		to = slices.Sorted(maps.Keys(n.Children))
	}
	return n.down(to, func(acct string) Notice {
		return Notice{Account: acct, ID: fmt.Sprintf("grp-cnd-%s-%d-%d-%s", c.Group, c.Version, version, acct),
			Body: &event.GroupConditions{Group: c.Group, Version: c.Version, Conditions: slices.Clone(c.List)}}
	}, func() Record {
		cc := *c
		cc.List = slices.Clone(c.List)
		return Record{Conds: &cc, Version: version}
	})
}
