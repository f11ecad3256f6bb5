package core

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

func groupEnv(t *testing.T) *Env {
	t.Helper()
	// a notice at 5 days past due of the group's oldest item, suspension at 20
	set, err := policy.LoadFS(os.DirFS("testdata/grouppolicy"))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Policies: set}
}

func gdate(t *testing.T, s string) event.Date {
	t.Helper()
	d, err := event.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// groupTimeline is a group-level account and its children fed by hand
// with the events the group stage would write.
type groupTimeline struct {
	t   *testing.T
	env *Env
	st  map[string]*State
	n   int
}

func (g *groupTimeline) apply(acct string, at time.Time, body event.Body) Output {
	g.t.Helper()
	g.n++
	if g.st[acct] == nil {
		g.st[acct] = &State{}
	}
	e := event.Event{ID: "e" + string(rune('a'+g.n%26)) + acct + at.Format("0102") + strings.Repeat("x", g.n/26), Time: at,
		Source: "test", Account: acct, Body: body}
	out, err := Apply(g.st[acct], e, at, g.env)
	if err != nil {
		g.t.Fatalf("%s %s: %v", acct, body.Kind(), err)
	}
	g.roundTrip(acct)
	return out
}

func (g *groupTimeline) wake(acct string, at time.Time) Output {
	g.t.Helper()
	out, err := Wake(g.st[acct], acct, at, g.env)
	if err != nil {
		g.t.Fatal(err)
	}
	g.roundTrip(acct)
	return out
}

// roundTrip: the state (group part included) survives its encoding.
func (g *groupTimeline) roundTrip(acct string) {
	g.t.Helper()
	b, err := g.st[acct].MarshalBinary()
	if err != nil {
		g.t.Fatal(err)
	}
	back := State{Account: acct}
	if err := back.UnmarshalBinary(b); err != nil {
		g.t.Fatalf("%s: %v", acct, err)
	}
	if b2, _ := back.MarshalBinary(); string(b2) != string(b) {
		g.t.Fatalf("%s: the state does not round-trip", acct)
	}
	*g.st[acct] = back
}

func types(as []event.DunningAction) string {
	var s []string
	for _, a := range as {
		s = append(s, string(a.Type))
	}
	return strings.Join(s, ",")
}

// TestGroupDunningTimeline: a wholesale group M with children C1, C2, C3
// under a group-level policy. The GroupContexts and GroupServiceChanges
// are fed by hand as the group stage writes them.
//
//	C1 owes 100.00 EUR due 2026-03-01, C2 50.00 due 2026-03-05,
//	C3 25.00 due 2026-03-10; M itself owes nothing.
//	The group's oldest due date is 03-01: days past due on day d is
//	d - 03-01, so the notice (5 dpd) is due 2026-03-06 and the
//	suspension (20 dpd) 2026-03-21.
//	On 03-06 overdue = C1 100.00 + C2 50.00 (due 03-05 < 03-06) = 150.00;
//	C3 (due 03-10) is not yet overdue.
//	On 03-21 overdue = 100 + 50 + 25 = 175.00, SUSPEND, cascaded to C1-C3.
//	On 03-25 C1 pays 100.00: the next context holds C2 and C3 only
//	(75.00, oldest 03-05, 20 dpd: the group stays suspended).
//	On 03-26 C2 and C3 pay: an empty context, nothing overdue: RESTORE,
//	cascaded to C1-C3.
func TestGroupDunningTimeline(t *testing.T) {
	g := &groupTimeline{t: t, env: groupEnv(t), st: map[string]*State{}}
	d0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	eur := event.MustAmount
	upsert := func(parent string) *event.AccountUpserted {
		return &event.AccountUpserted{Segment: event.Wholesale, ParentID: parent, Currency: "EUR", Timezone: "UTC",
			Consents: []event.Channel{event.Email}}
	}
	g.apply("M", d0, upsert(""))
	dues := map[string][2]any{"C1": {"2026-03-01", "100"}, "C2": {"2026-03-05", "50"}, "C3": {"2026-03-10", "25"}}
	for _, c := range []string{"C1", "C2", "C3"} {
		g.apply(c, d0, upsert("M"))
		due := gdate(t, dues[c][0].(string))
		g.apply(c, d0, &event.InvoiceIssued{InvoiceID: "I-" + c, Currency: "EUR", Amount: eur(dues[c][1].(string)),
			IssueDate: due - 14, DueDate: due})
	}
	child := func(id, due, amt string) event.GroupChildSummary {
		return event.GroupChildSummary{ChildID: "a:" + id, Due: []event.GroupDue{{Currency: "EUR", DueDate: gdate(t, due), Amount: eur(amt)}}}
	}
	ctx := func(v int64, cs ...event.GroupChildSummary) *event.GroupContext {
		return &event.GroupContext{GroupID: "M", Version: v, Accounts: int64(len(cs)), Children: cs}
	}
	out := g.apply("M", d0, ctx(1, child("C1", "2026-03-01", "100"), child("C2", "2026-03-05", "50"), child("C3", "2026-03-10", "25")))
	if len(out.Actions) != 0 {
		t.Fatalf("on 03-01 nothing is overdue: %s", types(out.Actions))
	}
	if w := g.st["M"].WakeAt(); !w.Equal(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("M wakes at %s, want 2026-03-06 (5 dpd of 03-01)", w)
	}
	// a repeat of the context (same version) is a duplicate
	if out := g.apply("M", d0, ctx(1)); !out.Duplicate {
		t.Error("a context not newer than the held one was taken")
	}

	// 03-06: one notice to the group, listing C1 and C2
	out = g.wake("M", g.st["M"].WakeAt())
	if types(out.Actions) != "NOTIFY" {
		t.Fatalf("03-06: %s, want NOTIFY", types(out.Actions))
	}
	n := out.Actions[0]
	if n.OverdueAmount != eur("150") || n.DaysPastDue != 5 || n.OldestDueDate != gdate(t, "2026-03-01") {
		t.Errorf("notice: overdue %s dpd %d oldest %s, want 150.0000, 5, 2026-03-01", n.OverdueAmount, n.DaysPastDue, n.OldestDueDate)
	}
	var listed []string
	for _, c := range n.Conditions {
		if c.Name == "group_child" {
			listed = append(listed, c.Value+" ("+c.Rule+")")
		}
	}
	want := "a:C1 100.0000 EUR (oldest due 2026-03-01); a:C2 50.0000 EUR (oldest due 2026-03-05)"
	if got := strings.Join(listed, "; "); got != want {
		t.Errorf("the notice lists %q, want %q", got, want)
	}

	// the children's own ladders are withheld (explain shows why): on
	// 03-22 C1 is 21 days past due of its own, C2 17, C3 12
	for _, c := range []string{"C1", "C2", "C3"} {
		out := g.wake(c, time.Date(2026, 3, 22, 0, 0, 0, 0, time.UTC))
		if len(out.Actions) != 0 || !strings.Contains(out.Explanation, "withheld: dunned at group level by M") {
			t.Errorf("%s dunned on its own: %s (%s)", c, types(out.Actions), out.Explanation)
		}
	}

	// 03-21: the group's SUSPEND, its cascade
	out = g.wake("M", g.st["M"].WakeAt())
	if types(out.Actions) != "SUSPEND" || out.Actions[0].OverdueAmount != eur("175") || out.Actions[0].DaysPastDue != 20 {
		t.Fatalf("03-21: %+v, want one SUSPEND over 175.00 at 20 dpd", out.Actions)
	}
	casc := g.st["M"].Dunning.Group.Cascade
	if casc.ID != out.Actions[0].ActionID || !casc.Suspend {
		t.Fatalf("cascade %+v after the SUSPEND %s", casc, out.Actions[0].ActionID)
	}
	at := time.Date(2026, 3, 21, 0, 0, 1, 0, time.UTC)
	for _, c := range []string{"C1", "C2", "C3"} {
		out := g.apply(c, at, &event.GroupServiceChange{Group: "M", CascadeID: casc.ID, Suspend: true})
		if types(out.Actions) != "SUSPEND" || out.Actions[0].Stage != "group" || g.st[c].Dunning.Service != dunning.ServiceSuspended {
			t.Errorf("%s on the group's suspension: %+v", c, out.Actions)
		}
		// a repeat of the cascade does nothing more
		if out := g.apply(c, at, &event.GroupServiceChange{Group: "M", CascadeID: casc.ID, Suspend: true}); len(out.Actions) != 0 {
			t.Errorf("%s suspended twice: %s", c, types(out.Actions))
		}
	}

	// 03-25: C1 pays; its own ladder does not restore it (the group holds it)
	at = time.Date(2026, 3, 25, 10, 0, 0, 0, time.UTC)
	if out := g.apply("C1", at, &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: eur("100")}); len(out.Actions) != 0 {
		t.Errorf("C1 paid while the group is suspended: %s, want nothing", types(out.Actions))
	}
	out = g.apply("M", at, ctx(2, child("C2", "2026-03-05", "50"), child("C3", "2026-03-10", "25")))
	if len(out.Actions) != 0 || g.st["M"].Dunning.Service != dunning.ServiceSuspended {
		t.Errorf("75.00 still overdue: %s, service %s", types(out.Actions), g.st["M"].Dunning.Service)
	}
	// 03-26: C2 and C3 pay; the group's overdue clears: RESTORE, cascaded
	at = time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC)
	g.apply("C2", at, &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: eur("50")})
	g.apply("C3", at, &event.PaymentReceived{PaymentID: "P3", Currency: "EUR", Amount: eur("25")})
	out = g.apply("M", at, ctx(3))
	if types(out.Actions) != "RESTORE" {
		t.Fatalf("the group's overdue cleared: %s, want RESTORE", types(out.Actions))
	}
	casc = g.st["M"].Dunning.Group.Cascade
	if casc.ID != out.Actions[0].ActionID || casc.Suspend {
		t.Fatalf("cascade %+v after the RESTORE", casc)
	}
	for _, c := range []string{"C1", "C2", "C3"} {
		out := g.apply(c, at, &event.GroupServiceChange{Group: "M", CascadeID: casc.ID})
		if types(out.Actions) != "RESTORE" || g.st[c].Dunning.Service != dunning.ServiceActive {
			t.Errorf("%s on the group's restoration: %s, service %s", c, types(out.Actions), g.st[c].Dunning.Service)
		}
	}
}

// TestGroupRestoreKeepsOwnSuspension: a child its own ladder suspended
// before the group did stays suspended when the group restores.
func TestGroupRestoreKeepsOwnSuspension(t *testing.T) {
	st := dunning.State{Service: dunning.ServiceSuspended}
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st, acts, _ := dunning.ApplyGroupService(st, "C", &event.GroupServiceChange{Group: "M", CascadeID: "s1", Suspend: true}, now)
	if len(acts) != 0 || !st.Group.Cascaded {
		t.Fatalf("already suspended: %+v", acts)
	}
	st, acts, note := dunning.ApplyGroupService(st, "C", &event.GroupServiceChange{Group: "M", CascadeID: "r1"}, now)
	if len(acts) != 0 || st.Service != dunning.ServiceSuspended || !strings.Contains(note, "own ladder") {
		t.Fatalf("restored a suspension of its own: %+v, %s (%s)", acts, st.Service, note)
	}
}

// TestGroupTopFeeAndWriteOff: a top's FEE and WRITE_OFF concern its own
// invoices only: with 100.00 of its own and 300.00 of a child's overdue,
// the fee goes to the top's invoice (a debit note the write-off then closes
// with it) and the write-off takes 100.00.
func TestGroupTopFeeAndWriteOff(t *testing.T) {
	p, err := policy.Load([]byte(`name: g
selection: {segments: [wholesale]}
min_overdue: {EUR: "10.00"}
group: {level: group}
stages:
  - name: fee
    days_past_due: 5
    actions:
      - {type: fee, amount: "5.00", currency: EUR}
      - {type: write_off}
`), "g.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	g := &groupTimeline{t: t, env: &Env{Policies: set}, st: map[string]*State{}}
	d0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	g.apply("M", d0, &event.AccountUpserted{Segment: event.Wholesale, Currency: "EUR", Timezone: "UTC"})
	g.apply("M", d0, &event.InvoiceIssued{InvoiceID: "IM", Currency: "EUR", Amount: event.MustAmount("100"),
		IssueDate: gdate(t, "2026-02-15"), DueDate: gdate(t, "2026-03-01")})
	g.apply("M", d0, &event.GroupContext{GroupID: "M", Version: 1, Accounts: 1, Children: []event.GroupChildSummary{
		{ChildID: "a:C1", Due: []event.GroupDue{{Currency: "EUR", DueDate: gdate(t, "2026-03-01"), Amount: event.MustAmount("300")}}}}})
	out := g.wake("M", g.st["M"].WakeAt()) // 2026-03-06, 5 dpd
	if types(out.Actions) != "FEE,WRITE_OFF" {
		t.Fatalf("actions %s", types(out.Actions))
	}
	if wo := out.Actions[1]; wo.Amount != event.MustAmount("100") || len(wo.Invoices) != 1 || wo.Invoices[0] != "IM" {
		t.Errorf("write-off %s of %v, want 100.0000 of [IM]", wo.Amount, wo.Invoices)
	}
	if len(out.GL) != 2 || out.GL[1].Amount != event.MustAmount("100") {
		t.Errorf("GL %+v, want the fee and a 100.00 write-off", out.GL)
	}
	if it, ok := g.st["M"].Ledger.Item("IM"); !ok || it.Open != 0 {
		t.Errorf("IM after the fee and the write-off: %+v", it)
	}
}
