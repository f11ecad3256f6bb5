package processor_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

// groupConditionEvents counts the GroupConditions events on the events
// topic per account.
func (h *harness) groupConditionEvents() map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, r := range testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.Events, 1<<30, 5*time.Second) {
		e, err := h.codec.DecodeEvent(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		if e.Body.Kind() == event.KindGroupConditions {
			out[e.Account]++
		}
	}
	return out
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestGroupConditionsEndToEnd runs both stages over a corporate group (top
// T, mids M0 and M1, children C0..C19 and BIG, over 6 partitions) under a
// per-account policy (group/testdata/holdpolicy: reminder at 5 days past
// due, suspension at 20, no suspension while the group's overdue is under
// 5% of its exposure) with processor.groups.conditions defining
// group_overdue_low (overdue_share below 0.05).
//
//	C0..C19 owe 100.00 EUR each, due day 14; BIG owes 100,000.00 due day
//	60. Exposure 102,000.00, 5% is 5,100.00: the 2,000.00 due day 14 do
//	not reach it, BIG's 100,000.00 do, so the share is 5% or more from
//	day 61. Each child: reminder on day 19, suspension due day 34, held.
//	Day 45: BIG pays. Exposure 2,000.00, all of it overdue since day 15:
//	the flip day moves to day 15, the group stage sends the new
//	conditions, and each child is suspended on receiving them.
//
// The conditions reach every descendant account through the mid nodes,
// the ticks of days 4-44 (which change the children's risk and so the
// group's totals) send none, and a replay of the events topic by a fresh
// account stage decides the same actions.
func TestGroupConditionsEndToEnd(t *testing.T) {
	testkit.Integration(t, "kafka", "redis")
	t.Parallel()
	h := groupsHarness(t)
	set, err := policy.LoadFS(os.DirFS("group/testdata/holdpolicy"))
	if err != nil {
		t.Fatal(err)
	}
	d := core.Defaults()
	h.env = &core.Env{Policies: set, Rules: d.Rules(), Limits: d.Limits()}
	below := 0.05
	h.groupConds = []group.Condition{{Name: "group_overdue_low", Metric: group.MetricOverdueShare, Below: &below}}
	stopP := h.start("a")
	defer func() { stopP() }()
	stopG := h.startGroupsWith("a", true)
	defer func() { stopG() }()

	y := &hierarchy{h: h}
	y.upsert("T", "", t0, "1")
	y.upsert("M0", "T", t0, "1")
	y.upsert("M1", "T", t0, "1")
	var kids []string
	for i := 0; i < 20; i++ {
		c := child(i)
		y.upsert(c, "M"+strconv.Itoa(i%2), t0, "1")
		y.invoice(c, "IC"+strconv.Itoa(i), 1000000, t0) // 100.00 EUR due day 14
		kids = append(kids, c)
	}
	y.upsert("BIG", "M0", t0, "1")
	y.add(event.Event{ID: "ev-IBIG", Time: t0, Source: "billing", Account: "BIG", Body: &event.InvoiceIssued{
		InvoiceID: "IBIG", Currency: "EUR", Amount: event.MustAmount("100000"), IssueDate: event.DateOf(t0),
		DueDate: event.DateOf(t0) + 60}})
	h.produceAll(y.flush(1, 4))
	h.waitDunningQuiet(60 * time.Second)
	flip := event.DateOf(t0) + 61
	for _, a := range append([]string{"BIG"}, kids...) {
		st := h.state(a)
		if st == nil || st.Dunning.Group == nil || st.Dunning.Group.Conds == nil {
			t.Fatalf("%s holds no group conditions", a)
		}
		c := st.Dunning.Group.Conds
		if c.Group != "T" || len(c.Conditions) != 1 || c.Conditions[0].Never || c.Conditions[0].Flip != flip {
			t.Fatalf("%s: conditions %+v, want T's group_overdue_low flipping on %s", a, c, flip)
		}
	}
	before := h.groupConditionEvents()

	h.produceAll(y.flush(4, 45)) // reminders on day 19; the suspensions of day 34 held
	h.waitDunningQuiet(60 * time.Second)
	acts := h.actionsByAccount()
	for _, c := range kids {
		if got := acts[c]; got[event.ActionNotify] != 1 || got[event.ActionSuspend] != 0 {
			t.Errorf("%s by day 44: %v, want the reminder and no suspension (held by the group condition)", c, got)
		}
	}
	mid := h.groupConditionEvents()
	if sumCounts(mid) != sumCounts(before) {
		t.Errorf("days 4-44 sent %d GroupConditions events, want none (no flip day moved)", sumCounts(mid)-sumCounts(before))
	}

	y.pay("BIG", "PBIG", 1000000000, t0.Add(45*24*time.Hour+time.Hour))
	h.produceAll(y.flush(45, 47))
	h.waitDunningQuiet(60 * time.Second)
	acts = h.actionsByAccount()
	for _, c := range kids {
		if got := acts[c]; got[event.ActionSuspend] != 1 {
			t.Errorf("%s after BIG's payment: %v, want one SUSPEND", c, got)
		}
		if st := h.state(c); st.Dunning.Service != dunning.ServiceSuspended || st.Dunning.Group.Conds.Conditions[0].Flip != event.DateOf(t0)+15 {
			t.Errorf("%s: service %s, conditions %+v", c, st.Dunning.Service, st.Dunning.Group.Conds)
		}
	}
	if got := acts["BIG"]; got[event.ActionSuspend] != 0 {
		t.Errorf("BIG paid and was suspended: %v", got)
	}
	after := h.groupConditionEvents()
	for _, a := range append([]string{"BIG"}, kids...) {
		if after[a] <= mid[a] {
			t.Errorf("%s got no GroupConditions when the flip day moved (%d before, %d after)", a, mid[a], after[a])
		}
	}
	t.Logf("GroupConditions events: %d while the hierarchy was built, %d over days 4-44, %d after the payment (21 accounts)",
		sumCounts(before), sumCounts(mid)-sumCounts(before), sumCounts(after)-sumCounts(mid))
	stopP()
	stopG()
	stopP, stopG = func() {}, func() {}

	live := h.actionIDs()
	ref := h.referenceRun()
	compareActions(t, ref.actions, live)
}
