package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
)

// TestPrintGroupConditions: `groups show` and `explain` print a node's
// group conditions as of the day asked for.
func TestPrintGroupConditions(t *testing.T) {
	today, _ := event.ParseDate("2026-03-10")
	n := &group.Node{Children: map[string]group.Child{"a:C1": {}}, Conds: &group.Conds{Group: "T", Version: 4, List: []event.GroupCondition{
		{Name: "group_overdue_low", Rule: "overdue_share below 0.05", Below: true, Flip: today + 6},
		{Name: "group_risky", Rule: "max_pd at_least 0.5", Never: true},
	}}}
	var b bytes.Buffer
	printGroup(&b, "M", n, today, false)
	for _, want := range []string{
		"condition group_overdue_low (overdue_share below 0.05) of group T: holds true; reached from 2026-03-16",
		"condition group_risky (max_pd at_least 0.5) of group T: holds false; never with these figures",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printGroup:\n%s\nwant a line %q", b.String(), want)
		}
	}
	b.Reset()
	printGroup(&b, "M", n, today+6, false)
	if !strings.Contains(b.String(), "group_overdue_low (overdue_share below 0.05) of group T: holds false") {
		t.Errorf("on the flip day the below condition no longer holds:\n%s", b.String())
	}
}
