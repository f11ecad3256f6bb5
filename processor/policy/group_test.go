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
