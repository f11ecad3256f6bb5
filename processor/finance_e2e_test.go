package processor_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

const financeE2EPolicy = `
name: fin-e2e
selection: {segments: [corporate]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 5, actions: [{type: notify, channel: email, template: r}]}
  - {name: agency, days_past_due: 30, actions: [{type: agency, agency: acme}]}
  - {name: late_notice, days_past_due: 40, actions: [{type: notify, channel: email, template: late}]}
gl: {receivables: "1200"}
finance:
  agencies: [{id: acme, commission_rate: "0.15"}]
  on_uncollectable: legal
  legal: {fee: {amount: "45.00", currency: EUR}}
  interest: {annual_rate: "0.08", day_count: ACT/365, grace_days: 10, posting_day: 1}
  gl: {agency_commission: "6150", agency_payable: "2150", agency_recoveries: "9150", legal_fees: "4150", interest_income: "4200"}
`

// TestFinanceEndToEnd runs the agency, legal and interest lifecycle
// through Kafka and Redis, the partner event (AgencyReturned) encoded by
// the codec like the operator API's. I1 1,000.00 is due 2026-03-15 (UTC).
//
//	04-01 INTEREST 03-26..03-31, 6 days: 1000.00 x 0.08 x 6/365 = 1.32
//	04-14 AGENCY_PLACEMENT of 1,001.32 (30 days past due)
//	04-20 P1 400.00: AGENCY_RECOVERY 400.00, commission 60.00
//	04-24 late_notice entered, its notice withheld (placed)
//	04-25 acme returns it UNCOLLECTABLE: LEGAL_REFERRAL of 601.32, LEGAL_FEE 45.00
//	05-01 INTEREST: 04-01..04-19 on 1,001.32 (19 days), 04-20..04-24 on
//	      601.32 (5), 04-25..04-30 on 646.32 (6): 25,909.60 principal-days
//	      x 0.08/365 = 5.678816 -> 5.68
func TestFinanceEndToEnd(t *testing.T) {
	h := newHarness(t, 3)
	p, err := policy.Load([]byte(financeE2EPolicy), "fin-e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	d := core.Defaults()
	h.env = &core.Env{Policies: set, Zone: core.CachedZones(time.LoadLocation), Rules: d.Rules(), Limits: d.Limits()}
	stop := h.start("a")
	defer stop()
	at := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", "2026-"+s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	events := map[string]event.Event{}
	put := func(id, when string, b event.Body) {
		events[at(when).Format("01-02")] = event.Event{ID: id, Time: at(when), Source: "test", Account: "FIN-1", Body: b}
	}
	var recs []*kgo.Record
	recs = append(recs, h.binary(event.Event{ID: "fin-up", Time: at("03-01 09:00"), Source: "crm", Account: "FIN-1",
		Body: &event.AccountUpserted{Segment: event.Corporate, Currency: "EUR", Timezone: "UTC", Consents: []event.Channel{event.Email}}}))
	recs = append(recs, h.binary(event.Event{ID: "fin-inv", Time: at("03-01 09:30"), Source: "billing", Account: "FIN-1",
		Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("1000"),
			IssueDate: event.DateOf(at("03-01 00:00")), DueDate: event.DateOf(at("03-15 00:00"))}}))
	put("fin-p1", "04-20 10:00", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("400")})
	put("fin-ret", "04-25 10:00", &event.AgencyReturned{AgencyID: "acme", Outcome: event.AgencyUncollectable, Reason: "no contact"})
	for day := at("03-02 12:00"); day.Before(at("05-03 00:00")); day = day.Add(24 * time.Hour) {
		if e, ok := events[day.Format("01-02")]; ok {
			recs = append(recs, h.binary(e))
		}
		recs = append(recs, h.ticks(day)...)
	}
	h.produceAll(recs)

	wantGL := []string{
		"04-01 00:00 INTEREST 1.3200 1200/4200",
		"04-20 10:00 AGENCY_RECOVERY 400.0000 9150/9150",
		"04-20 10:00 AGENCY_COMMISSION 60.0000 6150/2150",
		"04-25 10:00 LEGAL_FEE 45.0000 1200/4150",
		"05-01 00:00 INTEREST 5.6800 1200/4200",
	}
	testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.GL, len(wantGL), 120*time.Second) // wait for them
	var gl []string
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.GL, 1<<30, 5*time.Second) {
		g, err := h.codec.DecodeGL(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		gl = append(gl, fmt.Sprintf("%s %s %s %s/%s", g.Time.UTC().Format("01-02 15:04"), g.Kind, g.Amount, g.DebitAccount, g.CreditAccount))
	}
	sort.Strings(gl)
	sort.Strings(wantGL)
	if strings.Join(gl, "\n") != strings.Join(wantGL, "\n") {
		t.Errorf("GL entries:\n%s\nwant each once:\n%s", strings.Join(gl, "\n"), strings.Join(wantGL, "\n"))
	}
	var actions []string
	for _, r := range testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		actions = append(actions, fmt.Sprintf("%s %s %s", a.Time.UTC().Format("01-02"), a.Type, a.Amount))
	}
	sort.Strings(actions)
	want := []string{"03-20 NOTIFY 0.0000", "04-14 AGENCY_PLACEMENT 1001.3200", "04-25 LEGAL_REFERRAL 601.3200"}
	if strings.Join(actions, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(actions, "\n"), strings.Join(want, "\n"))
	}
}
