package group

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

func num(x float64) *float64 { return &x }

func day(t *testing.T, s string) event.Date {
	t.Helper()
	d, err := event.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestConditionFlips: each metric's flip day, worked by hand.
//
//	EUR: exposure 10,000 (600 disputed), undisputed dues 100 on 03-01,
//	     300 on 03-10, 9,000 on 04-15.
//	USD: exposure 1,000, dues 50 on 03-05.
//	4 accounts, 1 suspended, highest PD 0.31.
func TestConditionFlips(t *testing.T) {
	tot := Totals{Accounts: 4, Suspended: 1, MaxPD: 0.31, Currencies: map[event.Currency]*Figures{
		"EUR": {Exposure: 10000, Disputed: 600, Due: map[event.Date]int64{
			day(t, "2026-03-01"): 100, day(t, "2026-03-10"): 300, day(t, "2026-04-15"): 9000}},
		"USD": {Exposure: 1000, Due: map[event.Date]int64{day(t, "2026-03-05"): 50}},
	}}
	cases := []struct {
		c     Condition
		never bool
		flip  string // "" : 0, whatever the day
		rule  string
	}{
		// 2% of EUR 10,000 is 200: the running dues reach it with 03-10's
		// (100 + 300), so on 03-11; 2% of USD 1,000 is 20: 50 is past due
		// on 03-06. The group's share is the highest: 03-06.
		{Condition{Name: "low", Metric: MetricOverdueShare, Below: num(0.02)}, false, "2026-03-06", "overdue_share below 0.02"},
		// half of EUR is 5,000: reached with 04-15's 9,000 (9,400), on
		// 04-16; half of USD (500) never.
		{Condition{Name: "half", Metric: MetricOverdueShare, AtLeast: num(0.5)}, false, "2026-04-16", "overdue_share at_least 0.5"},
		// the oldest undisputed due date is 03-01: 30 days past due on 03-31
		{Condition{Name: "old", Metric: MetricWorstDPD, AtLeast: num(30)}, false, "2026-03-31", "worst_dpd at_least 30"},
		{Condition{Name: "risky", Metric: MetricMaxPD, AtLeast: num(0.3)}, false, "", "max_pd at_least 0.3"},
		{Condition{Name: "very_risky", Metric: MetricMaxPD, AtLeast: num(0.5)}, true, "", "max_pd at_least 0.5"},
		// 1 of 4 suspended is 0.25: at the threshold, so a below-0.25
		// condition never holds
		{Condition{Name: "few_cut", Metric: MetricSuspendedShare, Below: num(0.25)}, false, "", "suspended_share below 0.25"},
	}
	for _, c := range cases {
		if err := ValidateConditions([]Condition{c.c}); err != nil {
			t.Fatal(err)
		}
		g := c.c.Eval(tot)
		var want event.Date
		if c.flip != "" {
			want = day(t, c.flip)
		}
		if g.Never != c.never || !c.never && g.Flip != want || g.Rule != c.rule || g.Below != (c.c.Below != nil) {
			t.Errorf("%s: %+v, want never %v flip %s rule %q", c.c.Name, g, c.never, c.flip, c.rule)
		}
	}
	low := cases[0].c.Eval(tot)
	if !low.Holds(day(t, "2026-03-05")) || low.Holds(day(t, "2026-03-06")) {
		t.Errorf("below 2%% holds on 03-05 and not from 03-06: %v %v", low.Holds(day(t, "2026-03-05")), low.Holds(day(t, "2026-03-06")))
	}
	if cases[5].c.Eval(tot).Holds(day(t, "2026-01-01")) || !cases[3].c.Eval(tot).Holds(day(t, "2026-01-01")) {
		t.Error("a clock-independent metric's condition depends on the day")
	}
	bad := []Condition{{Name: "x", Metric: "overdue"}, {Name: "x", Metric: MetricMaxPD, Below: num(1), AtLeast: num(1)},
		{Name: "has space", Metric: MetricMaxPD, Below: num(-1)}}
	err := ValidateConditions(bad)
	for _, want := range []string{"[0].metric: unknown metric", "[0]: set exactly one", "[1]: set exactly one", "[2].name", "[2]: threshold -1", "defined twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateConditions: %v, want it to name %q", err, want)
		}
	}
}

// TestConditionsFanout: a top T (children a:C1 and the sub-group g:M, M
// holding a:C2) works its conditions out and sends them down only when a
// flip day changes, and to a child that joins.
func TestConditionsFanout(t *testing.T) {
	cat := []Condition{{Name: "low", Metric: MetricOverdueShare, Below: num(0.02)}}
	fig := func(due string, amt int64) Totals {
		return Totals{Accounts: 1, Currencies: map[event.Currency]*Figures{"EUR": {Exposure: 10000,
			Due: map[event.Date]int64{day(t, due): amt}}}}
	}
	top := &Node{Children: map[string]Child{"a:C1": {Version: 1, Totals: fig("2026-03-01", 100)}, "g:M": {Version: 2, Totals: fig("2026-03-10", 9000)}}, Version: 5}
	top.Settle("T", 5)
	if !top.WorkConditions("T", cat) {
		t.Fatal("a top's first conditions are a change")
	}
	// 2% of 20,000 = 400: 100 on 03-01, 9,100 with 03-10's: flip 03-11
	if c := top.Conds; c.Group != "T" || c.Version != 5 || len(c.List) != 1 || c.List[0].Flip != day(t, "2026-03-11") {
		t.Fatalf("conditions %+v", c)
	}
	notices, outs := top.CondsFanout(nil, nil, 5)
	if len(notices) != 1 || notices[0].Account != "C1" || len(outs) != 1 || outs[0].Key != "M" || outs[0].Record.Conds == nil {
		t.Fatalf("first fan-out: %+v %+v", notices, outs)
	}
	if gc, ok := notices[0].Body.(*event.GroupConditions); !ok || gc.Group != "T" || gc.Version != 5 {
		t.Fatalf("notice body %+v", notices[0].Body)
	}

	// C1's figures change without moving the flip day: nothing to send
	before := top.Conds
	top.Children["a:C1"] = Child{Version: 6, Totals: fig("2026-03-01", 150)}
	top.Version = 6
	top.Settle("T", 6)
	if top.WorkConditions("T", cat) || top.Conds != before {
		t.Fatal("a change that keeps every flip day was sent down")
	}
	if n, o := top.CondsFanout(before, nil, 6); len(n)+len(o) != 0 {
		t.Fatalf("fan-out without a change: %+v %+v", n, o)
	}
	// a child joining gets the conditions, alone
	top.Children["a:C3"] = Child{Version: 7, Totals: Totals{Accounts: 1}}
	if n, o := top.CondsFanout(before, []string{"a:C3"}, 7); len(n) != 1 || n[0].Account != "C3" || len(o) != 0 {
		t.Fatalf("join fan-out: %+v %+v", n, o)
	}
	// C1's 150 grows to 400: 2% (400) is reached on 03-02
	top.Children["a:C1"] = Child{Version: 8, Totals: fig("2026-03-01", 400)}
	top.Version = 8
	top.Settle("T", 8)
	if !top.WorkConditions("T", cat) || top.Conds.List[0].Flip != day(t, "2026-03-02") {
		t.Fatalf("a moved flip day is a change: %+v", top.Conds)
	}
	if n, o := top.CondsFanout(before, nil, 8); len(n) != 2 || len(o) != 1 {
		t.Fatalf("a changed flip goes to every child: %+v %+v", n, o)
	}

	// the sub-group M takes T's record, not a repeat or an older one
	m := &Node{Parent: "T", Children: map[string]Child{"a:C2": {Version: 1, Totals: fig("2026-03-10", 9000)}}}
	rec := outs[0].Record
	b, _ := rec.Encode()
	r, err := DecodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Apply(r, 10) || m.Apply(r, 11) {
		t.Fatal("a conditions record is taken once")
	}
	if m.WorkConditions("M", cat) {
		t.Fatal("a node with a parent worked out its own conditions")
	}
	if n, _ := m.CondsFanout(nil, nil, 10); len(n) != 1 || n[0].Account != "C2" || n[0].Body.(*event.GroupConditions).Group != "T" {
		t.Fatalf("M passes T's conditions on: %+v", n)
	}
	other := Record{Conds: &Conds{Group: "U", Version: 1, List: rec.Conds.List}, Version: 12}
	if !m.Apply(other, 12) || m.Conds.Group != "U" {
		t.Fatal("another group's conditions (M moved) are taken whatever their version")
	}
	if _, err := DecodeRecord([]byte(`{"version":1,"conds":{"group":""}}`)); err == nil {
		t.Error("conditions without a group decoded")
	}
}

// conditionTimeline runs accounts through the pure core.
type conditionTimeline struct {
	t   *testing.T
	env *core.Env
	st  map[string]*core.State
	n   int
}

func (g *conditionTimeline) apply(acct string, at time.Time, body event.Body) core.Output {
	g.t.Helper()
	g.n++
	if g.st[acct] == nil {
		g.st[acct] = &core.State{}
	}
	e := event.Event{ID: "ev-" + acct + "-" + strings.Repeat("x", g.n), Time: at, Source: "test", Account: acct, Body: body}
	out, err := core.Apply(g.st[acct], e, at, g.env)
	if err != nil {
		g.t.Fatalf("%s %s: %v", acct, body.Kind(), err)
	}
	g.roundTrip(acct)
	return out
}

func (g *conditionTimeline) wake(acct string, at time.Time) core.Output {
	g.t.Helper()
	out, err := core.Wake(g.st[acct], acct, at, g.env)
	if err != nil {
		g.t.Fatal(err)
	}
	g.roundTrip(acct)
	return out
}

func (g *conditionTimeline) roundTrip(acct string) {
	g.t.Helper()
	b, err := g.st[acct].MarshalBinary()
	if err != nil {
		g.t.Fatal(err)
	}
	back := core.State{Account: acct}
	if err := back.UnmarshalBinary(b); err != nil {
		g.t.Fatalf("%s: %v", acct, err)
	}
	*g.st[acct] = back
}

// conditions is what the group stage sends T's children: the catalogue
// evaluated on the sum of the children's contributions.
func (g *conditionTimeline) conditions(cat []Condition, version int64, children ...string) *event.GroupConditions {
	var ts []Totals
	for _, c := range children {
		if _, t, ok := OfState(g.st[c]); ok {
			ts = append(ts, t)
		}
	}
	sum := Sum(ts...)
	c := &event.GroupConditions{Group: "T", Version: version}
	for _, k := range cat {
		c.Conditions = append(c.Conditions, k.Eval(sum))
	}
	return c
}

func actionTypes(as []event.DunningAction) string {
	var s []string
	for _, a := range as {
		s = append(s, string(a.Type))
	}
	return strings.Join(s, ",")
}

// TestGroupConditionTimeline: C1 and C2 are corporate children of T under
// a per-account policy (testdata/holdpolicy: reminder at 5 days past due,
// suspension at 20, no suspension while the group's overdue is under 5%
// of its exposure).
//
//	C1 owes 100.00 EUR due 2026-03-01; C2 4,900.00 due 2026-04-15.
//	Exposure 5,000.00; 5% of it is 250.00. The running dues reach it with
//	C2's 4,900.00 (due 04-15), so the share is 5% or more from 04-16:
//	until then (100.00 / 5,000.00 = 2%) the condition holds.
//	C1: reminder on 03-06 (5 dpd), suspension due 03-21 (20 dpd), held
//	back; it wakes on 04-16 and is suspended then (46 dpd).
//	Second run: C2 pays its 4,900.00 on 04-10: the exposure is C1's
//	100.00, all of it overdue since 03-02 (100%): the flip day moves to
//	03-02, the group stage sends new conditions and C1 is suspended on
//	receiving them (04-10, 40 dpd).
func TestGroupConditionTimeline(t *testing.T) {
	set, err := policy.LoadFS(os.DirFS("testdata/holdpolicy"))
	if err != nil {
		t.Fatal(err)
	}
	cat := []Condition{{Name: "group_overdue_low", Metric: MetricOverdueShare, Below: num(0.05)}}
	eur := event.MustAmount
	run := func(t *testing.T) *conditionTimeline {
		g := &conditionTimeline{t: t, env: &core.Env{Policies: set}, st: map[string]*core.State{}}
		d0 := time.Date(2026, 2, 15, 9, 0, 0, 0, time.UTC)
		for c, inv := range map[string][2]string{"C1": {"2026-03-01", "100"}, "C2": {"2026-04-15", "4900"}} {
			g.apply(c, d0, &event.AccountUpserted{Segment: event.Corporate, ParentID: "T", Currency: "EUR", Timezone: "UTC",
				Consents: []event.Channel{event.Email}})
			due := day(t, inv[0])
			g.apply(c, d0, &event.InvoiceIssued{InvoiceID: "I-" + c, Currency: "EUR", Amount: eur(inv[1]), IssueDate: due - 14, DueDate: due})
		}
		gc := g.conditions(cat, 1, "C1", "C2")
		if c := gc.Conditions[0]; c.Never || c.Flip != day(t, "2026-04-16") {
			t.Fatalf("the group's condition %+v, want the flip on 04-16", c)
		}
		if out := g.apply("C1", d0, gc); out.Duplicate || len(out.Actions) != 0 {
			t.Fatalf("C1 on its group's conditions: %+v", out)
		}
		if out := g.apply("C1", d0, gc); !out.Duplicate {
			t.Error("a repeat of the conditions (same version) was taken")
		}
		out := g.wake("C1", g.st["C1"].WakeAt())
		if actionTypes(out.Actions) != "NOTIFY" || out.Actions[0].DaysPastDue != 5 {
			t.Fatalf("03-06: %+v, want the reminder at 5 dpd", out.Actions)
		}
		// 03-21: the suspension's day; the group condition holds it back
		at := g.st["C1"].WakeAt()
		if !at.Equal(time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("C1 wakes at %s, want 03-21", at)
		}
		out = g.wake("C1", at)
		if len(out.Actions) != 0 || !strings.Contains(out.Explanation,
			"stage suspension waits: group T condition group_overdue_low (overdue_share below 0.05) holds until 2026-04-16") {
			t.Fatalf("03-21: %s (%s), want the suspension held", actionTypes(out.Actions), out.Explanation)
		}
		return g
	}

	t.Run("flip day", func(t *testing.T) {
		g := run(t)
		at := g.st["C1"].WakeAt()
		if !at.Equal(time.Date(2026, 4, 16, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("C1 wakes at %s, want 04-16 (the condition's end)", at)
		}
		out := g.wake("C1", at)
		if actionTypes(out.Actions) != "SUSPEND" || out.Actions[0].DaysPastDue != 46 || out.Actions[0].Stage != "suspension" {
			t.Fatalf("04-16: %+v, want the suspension at 46 dpd", out.Actions)
		}
		var cond string
		for _, c := range out.Actions[0].Conditions {
			if c.Name == "group_condition" {
				cond = c.Value + " (" + c.Rule + ")"
			}
		}
		if cond != "group_overdue_low false (holds back while overdue_share below 0.05 (group T))" {
			t.Errorf("the suspension's group condition: %q", cond)
		}
	})

	t.Run("group pays down", func(t *testing.T) {
		g := run(t)
		at := time.Date(2026, 4, 10, 11, 0, 0, 0, time.UTC)
		if out := g.apply("C2", at, &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: eur("4900")}); len(out.Actions) != 0 {
			t.Fatalf("C2's payment: %s", actionTypes(out.Actions))
		}
		gc := g.conditions(cat, 2, "C1", "C2")
		if c := gc.Conditions[0]; c.Never || c.Flip != day(t, "2026-03-02") {
			t.Fatalf("after C2's payment: %+v, want the flip on 03-02", c)
		}
		out := g.apply("C1", at.Add(time.Second), gc)
		if actionTypes(out.Actions) != "SUSPEND" || out.Actions[0].DaysPastDue != 40 {
			t.Fatalf("04-10: %+v (%s), want the suspension at 40 dpd", out.Actions, out.Explanation)
		}
		// an older GroupConditions of the same group (delivered late) is a repeat
		if out := g.apply("C1", at.Add(2*time.Second), g.conditions(cat, 1, "C1")); !out.Duplicate {
			t.Error("an older GroupConditions was taken")
		}
	})

	t.Run("no parent", func(t *testing.T) {
		g := run(t)
		// C1 leaves the group: its conditions no longer hold it back
		at := time.Date(2026, 3, 22, 9, 0, 0, 0, time.UTC)
		out := g.apply("C1", at, &event.AccountUpserted{Segment: event.Corporate, Currency: "EUR", Timezone: "UTC",
			Consents: []event.Channel{event.Email}})
		if actionTypes(out.Actions) != "SUSPEND" {
			t.Fatalf("C1 without a parent: %s (%s), want the suspension", actionTypes(out.Actions), out.Explanation)
		}
	})
}
