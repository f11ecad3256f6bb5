package policy

import (
	"strings"
	"testing"
)

const blacklistPolicy = `name: bl
selection: {segments: [postpaid]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 3, actions: [{type: notify, channel: email, template: r}]}
blacklist:
  on: [written_off, legal]
  broken_promises: 2
`

// TestBlacklist: the section parses to the collections statuses and the
// count, decides as docs/policies.md "Blacklist" says, and a bad value is
// reported with its path; a policy without it never blacklists.
func TestBlacklist(t *testing.T) {
	p, err := Load([]byte(blacklistPolicy), "bl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b := p.Blacklist
	for _, c := range []struct {
		status  string
		broken  int
		overdue bool
		want    bool
	}{
		{"WRITTEN_OFF", 0, false, true},
		{"LEGAL", 0, true, true},
		{"PLACED", 0, true, false},
		{"IN_DUNNING", 1, true, false},
		{"IN_DUNNING", 2, true, true},
		{"NONE", 3, false, false}, // paid in full
	} {
		if got := b.Blacklists(c.status, c.broken, c.overdue); got != c.want {
			t.Errorf("Blacklists(%s, %d broken, overdue %v) = %v, want %v", c.status, c.broken, c.overdue, got, c.want)
		}
	}
	var none Blacklist
	if none.Blacklists("WRITTEN_OFF", 9, true) {
		t.Error("the zero Blacklist blacklists")
	}
	for _, c := range []struct{ old, new, field string }{
		{"on: [written_off, legal]", "on: [written_off, sued]", "blacklist.on[1]"},
		{"broken_promises: 2", "broken_promises: 0", "blacklist.broken_promises"},
		{"broken_promises: 2", "after: 2", "blacklist.after"},
	} {
		if err := fieldError(strings.Replace(blacklistPolicy, c.old, c.new, 1), c.field); err != nil {
			t.Errorf("%s -> %s: %v", c.old, c.new, err)
		}
	}
}
