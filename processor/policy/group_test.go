package policy

import (
	"os"
	"strings"
	"testing"
)

// TestGroupLevel: `group: {level: ...}` is validated strictly; account is
// the default; the shipped wholesale-group policy dunns at group level.
func TestGroupLevel(t *testing.T) {
	base := "name: g\nselection: {segments: [wholesale]}\nmin_overdue: {EUR: \"1\"}\nstages:\n  - name: s\n    days_past_due: 3\n    actions:\n      - {type: suspend}\n"
	p, err := Load([]byte(base), "g.yaml")
	if err != nil || p.AtGroupLevel() { // Level "" is account
		t.Fatalf("no group section: %+v, %v", p.Group, err)
	}
	p, err = Load([]byte(base+"group: {level: group}\n"), "g.yaml")
	if err != nil || !p.AtGroupLevel() {
		t.Fatalf("level group: %+v, %v", p.Group, err)
	}
	for yaml, want := range map[string]string{
		"group: {level: holding}\n": `group.level: unknown level "holding"`,
		"group: {levle: group}\n":   "levle",
		"group: {level: [group]}\n": "group.level",
	} {
		if _, err := Load([]byte(base+yaml), "g.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", yaml, err, want)
		}
	}
	b, err := os.ReadFile("../../deploy/policies/wholesale-group.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := Load(b, "wholesale-group.yaml"); err != nil || !p.AtGroupLevel() {
		t.Errorf("wholesale-group.yaml: %v", err)
	}
	var nilPolicy *Policy
	if nilPolicy.AtGroupLevel() {
		t.Error("no policy dunns at group level")
	}
}

// TestGroupHold: group.hold names a condition and the actions it holds
// back, each strictly; Holds matches a stage by its actions.
func TestGroupHold(t *testing.T) {
	base := "name: g\nselection: {segments: [corporate]}\nmin_overdue: {EUR: \"1\"}\nstages:\n  - name: s\n    days_past_due: 3\n    actions:\n      - {type: notify, channel: email, template: x}\n      - {type: suspend}\n  - name: n\n    days_past_due: 9\n    actions:\n      - {type: notify, channel: email, template: y}\n"
	p, err := Load([]byte(base+"group:\n  hold:\n    - {condition: low, actions: [suspend, throttle]}\n"), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Group.Hold) != 1 || p.Group.Hold[0].Condition != "low" || len(p.Group.Hold[0].Actions) != 2 {
		t.Fatalf("hold %+v", p.Group.Hold)
	}
	if h := p.Group.Hold[0]; !h.Holds(&p.Stages[0]) || h.Holds(&p.Stages[1]) {
		t.Error("a hold on suspend holds the suspending stage back, and only it")
	}
	for yaml, want := range map[string]string{
		"group:\n  hold:\n    - {condition: low, actions: [cut]}\n":                                                  `group.hold.actions: unknown action "cut"`,
		"group:\n  hold:\n    - {actions: [suspend]}\n":                                                              "group.hold.condition: required",
		"group:\n  hold:\n    - {condition: low}\n":                                                                  "group.hold.actions: required",
		"group:\n  hold:\n    - {condition: low, actions: [suspend], when: x}\n":                                     "when",
		"group:\n  hold:\n    - {condition: low, actions: [suspend]}\n    - {condition: low, actions: [throttle]}\n": `condition "low" held twice`,
	} {
		if _, err := Load([]byte(base+yaml), "g.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", yaml, err, want)
		}
	}
}
