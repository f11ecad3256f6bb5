package processor_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/testkit"
)

// policyEnv is the core environment with the shipped dunning policies.
func policyEnv(t testing.TB) *core.Env {
	t.Helper()
	set, err := policy.LoadFS(os.DirFS("../deploy/policies"))
	if err != nil {
		t.Fatal(err)
	}
	d := core.Defaults() // as `arrears run` builds it (cmd/arrears/coreenv.go)
	return &core.Env{Policies: set, Zone: core.CachedZones(time.LoadLocation), Rules: d.Rules(), Limits: d.Limits()}
}

// fullEnv is what `arrears run` loads by default: the shipped policies and
// the shipped risk scorecard.
func fullEnv(t testing.TB) *core.Env {
	t.Helper()
	env := policyEnv(t)
	b, err := os.ReadFile("../deploy/risk/scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if env.Scorecard, err = risk.Load(b, "../deploy/risk/scorecard.yaml"); err != nil {
		t.Fatal(err)
	}
	env.Risk = risk.DefaultConfig()
	return env
}

// TestTimelyBillEndToEnd runs the TimelyBill scenario through the real Kafka
// and Redis: daily clock ticks move time, and the actions are read back from
// ar.dunning.actions with read_committed. A second account pays in full while
// suspended: its RESTORE is decided on the payment itself.
func TestTimelyBillEndToEnd(t *testing.T) {
	h := newHarness(t, 3)
	h.env = policyEnv(t)
	stop := h.start("a")
	defer stop()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	usd := func(s string) event.Amount { return event.MustAmount(s) }
	due, _ := event.ParseDate("2024-08-01")
	upsert := func(acct string) event.Event {
		return event.Event{ID: acct + "-up", Time: at("2024-07-01 09:00"), Source: "crm", Account: acct, Body: &event.AccountUpserted{
			Segment: event.Postpaid, CreditClass: "timelybill", Currency: "USD", Timezone: "Europe/Berlin",
			Consents: []event.Channel{event.Email, event.SMS, event.Letter}}}
	}
	inv := func(acct string) event.Event {
		return event.Event{ID: acct + "-inv", Time: at("2024-07-15 09:00"), Source: "billing", Account: acct, Body: &event.InvoiceIssued{
			InvoiceID: "INV-2407", Currency: "USD", Amount: usd("89.90"), IssueDate: event.DateOf(at("2024-07-15 09:00")), DueDate: due}}
	}
	var recs []*kgo.Record
	add := func(e event.Event) { recs = append(recs, h.binary(e)) }
	add(upsert("ACC-SARAH"))
	add(upsert("ACC-TOM"))
	add(inv("ACC-SARAH"))
	add(inv("ACC-TOM"))
	for d := at("2024-07-16 12:00"); d.Before(at("2024-09-06 00:00")); d = d.Add(24 * time.Hour) {
		if d.Format("01-02") == "08-26" {
			add(event.Event{ID: "tom-pay", Time: at("2024-08-26 10:00"), Source: "gateway", Account: "ACC-TOM",
				Body: &event.PaymentReceived{PaymentID: "PAY-T", Currency: "USD", Amount: usd("89.90"), Method: "card"}})
		}
		if d.Format("01-02") == "09-02" {
			add(event.Event{ID: "sarah-plan", Time: at("2024-09-02 10:30"), Source: "crm", Account: "ACC-SARAH",
				Body: &event.ArrangementCreated{ArrangementID: "PLAN-1", Type: event.InstallmentPlan, Currency: "USD", Installments: []event.Installment{
					{DueDate: event.DateOf(at("2024-09-15 00:00")), Amount: usd("30")},
					{DueDate: event.DateOf(at("2024-10-15 00:00")), Amount: usd("30")},
					{DueDate: event.DateOf(at("2024-11-15 00:00")), Amount: usd("29.90")}}}})
		}
		recs = append(recs, h.ticks(d)...)
	}
	h.produceAll(recs)

	want := map[string][]string{
		"ACC-SARAH": {
			"2024-08-05 08:00 NOTIFY email initial_reminder",
			"2024-08-12 08:00 NOTIFY sms follow_up_reminder",
			"2024-08-19 00:00 NOTIFY letter final_reminder",
			"2024-08-25 00:00 SUSPEND  suspension",
			"2024-08-31 00:00 AGENT_TASK  pre_collections",
			"2024-09-02 10:30 RESTORE  arrangement:PLAN-1",
		},
		"ACC-TOM": {
			"2024-08-05 08:00 NOTIFY email initial_reminder",
			"2024-08-12 08:00 NOTIFY sms follow_up_reminder",
			"2024-08-19 00:00 NOTIFY letter final_reminder",
			"2024-08-25 00:00 SUSPEND  suspension",
			"2024-08-26 10:00 RESTORE  restore",
		},
	}
	n := len(want["ACC-SARAH"]) + len(want["ACC-TOM"])
	got := map[string][]string{}
	ids := map[string]bool{}
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Actions, n, 90*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if ids[a.ActionID] {
			t.Errorf("duplicate action id %s", a.ActionID)
		}
		ids[a.ActionID] = true
		got[a.Account] = append(got[a.Account], fmt.Sprintf("%s %s %s %s", a.Time.In(berlin).Format("2006-01-02 15:04"), a.Type, a.Channel, a.Stage))
	}
	for acct, w := range want {
		g := got[acct]
		sort.Strings(g)
		if strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("%s actions:\n%s\nwant:\n%s", acct, strings.Join(g, "\n"), strings.Join(w, "\n"))
		}
	}
}

// binary encodes an event in Avro single-object encoding.
func (h *harness) binary(e event.Event) *kgo.Record {
	h.t.Helper()
	v, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, e)
	if err != nil {
		h.t.Fatal(err)
	}
	return &kgo.Record{Key: []byte(e.Account), Value: v}
}
