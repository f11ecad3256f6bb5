package processor_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

// waitDunningQuiet waits until both stages settle and the group stage
// wrote no new group event meanwhile (each stage feeds the other).
func (h *harness) waitDunningQuiet(timeout time.Duration) {
	h.t.Helper()
	adm := h.admin()
	end := func() int64 {
		ends, err := adm.ListEndOffsets(context.Background(), h.kcfg.Topics.Events)
		if err != nil {
			h.t.Fatal(err)
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		return n
	}
	for range 20 {
		before := end()
		h.waitGroupsQuiet(timeout)
		if end() == before {
			return
		}
	}
	h.t.Fatal("the group events never settle")
}

// TestGroupDunningEndToEnd runs both stages over a 2-level wholesale group
// (top T, mids M0..M2, children C0..C29, over 6 partitions) under a
// group-level policy: T's ladder runs on the group's overdue (100.00 EUR
// per child due day 14: notice at day 19, suspension at day 34), its
// SUSPEND cascades to the 33 descendants (each suspended exactly once, no
// child dunned on its own), the children's payments clear the group's
// overdue and T's RESTORE cascades (each restored exactly once). A replay
// of the events topic from scratch by a fresh account stage (no group
// stage) decides the same actions.
func TestGroupDunningEndToEnd(t *testing.T) {
	testkit.Integration(t, "kafka", "redis")
	t.Parallel()
	h := groupsHarness(t)
	// a notice at 5 days past due of the group's oldest item, suspension at 20
	set, err := policy.LoadFS(os.DirFS("core/testdata/grouppolicy"))
	if err != nil {
		t.Fatal(err)
	}
	d := core.Defaults()
	h.env = &core.Env{Policies: set, Rules: d.Rules(), Limits: d.Limits()}
	stopP := h.start("a")
	defer func() { stopP() }()
	stopG := h.startGroupsWith("a", true)
	defer func() { stopG() }()

	y := &hierarchy{h: h}
	up := func(acct, parent string) {
		y.add(event.Event{ID: "up-" + acct, Time: t0, Source: "crm", Account: acct, Body: &event.AccountUpserted{
			Segment: event.Wholesale, ParentID: parent, Currency: "EUR", Timezone: "UTC", Consents: []event.Channel{event.Email}}})
	}
	up("T", "")
	var desc []string
	for m := 0; m < 3; m++ {
		up("M"+strconv.Itoa(m), "T")
		desc = append(desc, "M"+strconv.Itoa(m))
	}
	for i := 0; i < 30; i++ {
		c := child(i)
		up(c, "M"+strconv.Itoa(i%3))
		y.invoice(c, "IC"+strconv.Itoa(i), 1000000, t0) // 100.00 EUR due day 14
		desc = append(desc, c)
	}
	h.produceAll(y.flush(1, 4))
	h.waitDunningQuiet(60 * time.Second)
	if st := h.state("T"); st == nil || st.Dunning.Group == nil || st.Dunning.Group.Context == nil {
		t.Fatal("T holds no group context")
	}

	h.produceAll(y.flush(4, 40)) // T: notice at day 19, SUSPEND at day 34
	h.waitDunningQuiet(60 * time.Second)
	acts := h.actionsByAccount()
	if got := acts["T"]; got[event.ActionNotify] != 1 || got[event.ActionSuspend] != 1 {
		t.Errorf("T's actions %v, want one NOTIFY and one SUSPEND", got)
	}
	for _, a := range desc {
		if got := acts[a]; got[event.ActionSuspend] != 1 || len(got) != 1 {
			t.Errorf("%s: actions %v, want exactly one SUSPEND (no dunning of its own)", a, got)
		}
		if st := h.state(a); st.Dunning.Service != dunning.ServiceSuspended {
			t.Errorf("%s: service %s", a, st.Dunning.Service)
		}
	}

	at := t0.Add(40*24*time.Hour + time.Hour)
	for i := 0; i < 30; i++ {
		y.pay(child(i), "PC"+strconv.Itoa(i), 1000000, at)
	}
	h.produceAll(y.flush(41, 44))
	h.waitDunningQuiet(60 * time.Second)
	acts = h.actionsByAccount()
	if got := acts["T"]; got[event.ActionRestore] != 1 {
		t.Errorf("T's actions %v, want one RESTORE", got)
	}
	for _, a := range desc {
		if got := acts[a]; got[event.ActionSuspend] != 1 || got[event.ActionRestore] != 1 {
			t.Errorf("%s: actions %v, want one SUSPEND and one RESTORE", a, got)
		}
	}
	stopP()
	stopG()
	stopP, stopG = func() {}, func() {}

	// the replay: a fresh account stage over the same events topic
	live := h.actionIDs()
	ref := h.referenceRun()
	compareActions(t, ref.actions, live)
}

// actionsByAccount counts the committed actions per account and type.
func (h *harness) actionsByAccount() map[string]map[event.ActionType]int {
	h.t.Helper()
	out := map[string]map[event.ActionType]int{}
	for _, r := range testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		if out[a.Account] == nil {
			out[a.Account] = map[event.ActionType]int{}
		}
		out[a.Account][a.Type]++
	}
	return out
}
