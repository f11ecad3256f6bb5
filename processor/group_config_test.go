package processor

import (
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
)

// TestGroupConditionsConfig: processor.groups.conditions is validated, and
// a policy holding stages on a condition the config does not define is
// named (arrears run warns of it).
func TestGroupConditionsConfig(t *testing.T) {
	p, err := policy.Load([]byte(`name: held
selection: {segments: [corporate]}
min_overdue: {EUR: "10.00"}
group:
  hold:
    - {condition: group_overdue_low, actions: [suspend]}
    - {condition: group_risky, actions: [throttle]}
stages:
  - {name: cut, days_past_due: 20, actions: [{type: suspend}]}
`), "held.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	below := 0.02
	g := GroupsConfig{Enabled: true, Conditions: []group.Condition{{Name: "group_overdue_low", Metric: group.MetricOverdueShare, Below: &below}}}
	if got := strings.Join(g.UnknownConditions(set), ";"); got != "held: group_risky" {
		t.Errorf("unknown conditions %q, want held: group_risky", got)
	}
	g.Enabled = false
	if got := len(g.UnknownConditions(set)); got != 2 {
		t.Errorf("with the group stage off every hold is unknown: %d", got)
	}
	g.Conditions = append(g.Conditions, group.Condition{Name: "group_overdue_low", Metric: "overdue"})
	err = g.validate(kafkax.Topics{})
	if err == nil || !strings.Contains(err.Error(), "processor.groups.conditions[1].name") || !strings.Contains(err.Error(), "[1].metric") {
		t.Errorf("validate: %v, want the duplicate name and the metric named", err)
	}
}
