package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// TestAccountViewGroup: on the real stack, an account whose parent P sits
// under top group T shows, in GET /accounts/{id} (validated against the
// OpenAPI document), its parent, the path P -> T and T's figures as the
// group store holds them, overdue and worst dpd aged as of the view's
// as_of; an account without a parent has group null; one whose parent the
// group stage has not stored yet says PENDING without figures.
func TestAccountViewGroup(t *testing.T) {
	st := newAPIStack(t, nil)
	ctx := context.Background()
	id, p, top, lone := "acc-"+testkit.ID(), "P-"+testkit.ID(), "T-"+testkit.ID(), "acc-"+testkit.ID()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	st.produce(
		event.Event{ID: id + "-up", Time: t0, Source: "test", Account: id, Body: &event.AccountUpserted{
			Segment: event.Corporate, Currency: "EUR", ParentID: p}},
		event.Event{ID: lone + "-up", Time: t0, Source: "test", Account: lone, Body: &event.AccountUpserted{
			Segment: event.Corporate, Currency: "EUR"}},
	)
	l := st.waitState(id, func(l Loaded) bool { return l.State.Ledger.Known() && !l.State.Ledger.Closed() })
	st.waitState(lone, func(l Loaded) bool { return l.State.Ledger.Known() })

	// Before the group stage stored anything: PENDING, no figures.
	var v AccountView
	st.call("viewer", http.MethodGet, "/accounts/"+id, nil, nil).json(t, &v)
	if v.Group == nil || v.Group.Status != GroupPending || v.Group.ParentID != p || len(v.Group.Currencies) != 0 {
		t.Fatalf("group before aggregation %+v, want PENDING under %s", v.Group, p)
	}

	// The group store as the group stage leaves it: T holds P's subtree,
	// P forwards to T. As of the view's day (the partition clock), EUR has
	// 300.00 due 10 days ago, 200.00 due 40 days ago and 50.00 not yet
	// due: overdue 500.00, worst dpd 40; USD 70.00 due 5 days ago.
	today := event.DateOf(l.Clock)
	tot := group.Totals{Accounts: 3, Suspended: 1, MaxPD: 0.25, Depth: 2, Currencies: map[event.Currency]*group.Figures{
		"EUR": {Exposure: 6_000_000, Disputed: 100_000, ExpectedLoss: 900_000,
			Due: map[event.Date]int64{today - 10: 3_000_000, today - 40: 2_000_000, today + 3: 500_000}},
		"USD": {Exposure: 700_000, Due: map[event.Date]int64{today - 5: 700_000}},
	}}
	nodes := map[string]*group.Node{
		p:   {Parent: top, Forwarded: top, Children: map[string]group.Child{group.AccountChild + id: {Version: 1, Totals: tot}}, Totals: tot, Version: 7},
		top: {Children: map[string]group.Child{group.GroupChild + p: {Version: 7, Totals: tot}}, Totals: tot, Version: 11},
	}
	gs := redisstore.New(st.rdb, processor.GroupStorePrefix(st.prefix))
	for k, n := range nodes {
		b, err := n.Encode()
		if err != nil {
			t.Fatal(err)
		}
		part := kafkax.PartitionFor([]byte(k), 2)
		m, err := gs.Claim(ctx, part)
		if err != nil {
			t.Fatal(err)
		}
		if err := gs.Apply(ctx, part, m.Epoch, &processor.Batch{Applied: map[string]int64{}, Put: map[string][]byte{k: b}, Timers: map[string]int64{}}); err != nil {
			t.Fatal(err)
		}
	}

	st.call("viewer", http.MethodGet, "/accounts/"+id, nil, nil).json(t, &v)
	g := v.Group
	if g == nil {
		t.Fatal("group null for an account with a parent")
	}
	if g.Status != GroupAggregated || g.ParentID != p || g.TopID != top || len(g.Path) != 2 || g.Path[0] != p || g.Path[1] != top ||
		g.Source != GroupSource || !g.AsOf.Equal(v.AsOf) || g.Version != 11 {
		t.Errorf("group context %+v, want AGGREGATED %s -> %s, version 11, as of %s", g, p, top, v.AsOf)
	}
	if g.Accounts != 3 || g.NotActive != 1 || g.Levels != 2 || g.MaxPD != 0.25 || g.WorstDPD != 40 {
		t.Errorf("group counts %+v, want 3 accounts, 1 not active, 2 levels, max PD 0.25, worst dpd 40", g)
	}
	want := []GroupCurrencyView{
		{Currency: "EUR", Exposure: "600.0000", Overdue: "500.0000", Disputed: "10.0000", ExpectedLoss: "90.0000"},
		{Currency: "USD", Exposure: "70.0000", Overdue: "70.0000", Disputed: "0.0000", ExpectedLoss: "0.0000"},
	}
	if len(g.Currencies) != len(want) || g.Currencies[0] != want[0] || g.Currencies[1] != want[1] {
		t.Errorf("group currencies %+v, want %+v", g.Currencies, want)
	}

	if len(g.Conditions) != 0 {
		t.Errorf("conditions %+v before the account heard of any", g.Conditions)
	}

	// The group conditions the account holds (a GroupConditions the group
	// stage would write): as of the view's day one holds until a flip 3
	// days ahead, one never reaches its threshold.
	st.produce(event.Event{ID: id + "-cnd", Time: l.Clock, Source: "arrears-groups", Account: id, Body: &event.GroupConditions{
		Group: top, Version: 11, Conditions: []event.GroupCondition{
			{Name: "group_overdue_low", Rule: "overdue_share below 0.05", Below: true, Flip: today + 3},
			{Name: "group_risky", Rule: "max_pd at_least 0.5", Never: true}}}})
	st.waitState(id, func(l Loaded) bool { return l.State.Dunning.Group != nil && l.State.Dunning.Group.Conds != nil })
	st.call("viewer", http.MethodGet, "/accounts/"+id, nil, nil).json(t, &v)
	wantConds := []GroupConditionView{
		{Name: "group_overdue_low", Rule: "overdue_share below 0.05", Group: top, Holds: true, Flip: (today + 3).String()},
		{Name: "group_risky", Rule: "max_pd at_least 0.5", Group: top, Holds: false, Flip: ""},
	}
	if c := v.Group.Conditions; len(c) != 2 || c[0] != wantConds[0] || c[1] != wantConds[1] {
		t.Errorf("conditions %+v, want %+v", c, wantConds)
	}

	var lv AccountView
	st.call("viewer", http.MethodGet, "/accounts/"+lone, nil, nil).json(t, &lv)
	if lv.Group != nil {
		t.Errorf("group %+v for an account without a parent, want null", lv.Group)
	}
}
