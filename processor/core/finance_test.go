package core

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// The finance goldens (issue 15 items 4-6). Every account is corporate,
// in EUR, in UTC; invoice I1 of 1,000.00 is due 2026-03-15 (day0 is
// 2026-03-01 09:00 UTC). Figures are worked out by hand in each test.

const financeLadder = `
name: fin
selection: {segments: [corporate]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 5, actions: [{type: notify, channel: email, template: r}]}
  - {name: agency, days_past_due: 30, actions: [{type: agency, agency: acme}]}
  - {name: late_notice, days_past_due: 40, actions: [{type: notify, channel: email, template: late}]}
gl: {receivables: "1200", fee_income: "4100", bad_debt: "6800"}
`

const financeAgencies = `
finance:
  agencies: [{id: acme, commission_rate: "0.15"}]
  on_uncollectable: legal
  legal: {fee: {amount: "45.00", currency: EUR}, on_settlement: write_off}
  gl: {agency_commission: "6150", agency_payable: "2150", agency_recoveries: "9150", legal_fees: "4150",
       interest_income: "4200", impairment_expense: "6900", loss_allowance: "1290"}
`

// timeline drives one account through events and wake-ups and collects
// what it emitted. reload round-trips the state through its encoding
// before every step (a restart between any two steps).
type timeline struct {
	t       *testing.T
	env     *Env
	st      *State
	n       int
	reload  bool
	actions []event.DunningAction
	gl      []event.GLEntry
	all     []event.GLEntry
}

func newTimeline(t *testing.T, yaml string) *timeline {
	t.Helper()
	p, err := policy.Load([]byte(yaml), "fin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	d := Defaults()
	tl := &timeline{t: t, st: &State{}, env: &Env{Policies: set, Rules: d.Rules(), Limits: d.Limits()}}
	tl.apply(0, &event.AccountUpserted{Segment: event.Corporate, Currency: "EUR", Timezone: "UTC", Consents: []event.Channel{event.Email}})
	tl.apply(0, &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("1000"), IssueDate: event.DateOf(day0), DueDate: event.DateOf(day0) + 14})
	return tl
}

func (tl *timeline) take(out Output, err error) Output {
	tl.t.Helper()
	if err != nil {
		tl.t.Fatal(err)
	}
	tl.actions, tl.gl, tl.all = append(tl.actions, out.Actions...), append(tl.gl, out.GL...), append(tl.all, out.GL...)
	return out
}

func (tl *timeline) restart() {
	tl.t.Helper()
	if !tl.reload {
		return
	}
	b, err := tl.st.MarshalBinary()
	if err != nil {
		tl.t.Fatal(err)
	}
	back := &State{Account: "A1"}
	if err := back.UnmarshalBinary(b); err != nil {
		tl.t.Fatal(err)
	}
	tl.st = back
}

// date is a calendar day of 2026 at 09:00 UTC ("04-20").
func date(md string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", "2026-"+md+" 09:00")
	if err != nil {
		panic(err)
	}
	return t
}

func (tl *timeline) at(days int) time.Time { return day0.AddDate(0, 0, days) }

func (tl *timeline) apply(days int, b event.Body) Output {
	tl.t.Helper()
	return tl.take(tl.step(tl.at(days), b))
}

func (tl *timeline) applyOn(md string, b event.Body) Output {
	tl.t.Helper()
	return tl.take(tl.step(date(md), b))
}

func (tl *timeline) step(at time.Time, b event.Body) (Output, error) {
	tl.wakeTo(at)
	tl.restart()
	tl.n++
	e := ev(fmt.Sprintf("f%d", tl.n), at, b)
	return Apply(tl.st, e, at, tl.env)
}

// wakeTo runs the timers due before at.
func (tl *timeline) wakeTo(at time.Time) {
	tl.t.Helper()
	for w := tl.st.WakeAt(); !w.IsZero() && w.Before(at); w = tl.st.WakeAt() {
		tl.restart()
		tl.take(Wake(tl.st, "A1", w, tl.env))
	}
}

func (tl *timeline) types() []string {
	var out []string
	for _, a := range tl.actions {
		out = append(out, fmt.Sprintf("%s %s %s %s", a.Time.Format("01-02"), a.Type, a.Queue, a.Amount))
	}
	tl.actions = nil
	return out
}

func (tl *timeline) entries() []string {
	var out []string
	for _, g := range tl.gl {
		out = append(out, fmt.Sprintf("%s %s %s %s/%s", g.Time.Format("01-02"), g.Kind, g.Amount, g.DebitAccount, g.CreditAccount))
	}
	tl.gl = nil
	return out
}

func (tl *timeline) expect(what string, got, want []string) {
	tl.t.Helper()
	if !reflect.DeepEqual(got, want) {
		tl.t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func (tl *timeline) status(at time.Time, want string, open event.Amount) {
	tl.t.Helper()
	s := tl.st.Status(at)
	var o event.Amount
	for _, b := range s.Balances {
		o += b.Open
	}
	if s.CollectionsStatus != want || o != open {
		tl.t.Fatalf("%s: collections status %s, open %s; want %s, %s", at.Format("01-02"), s.CollectionsStatus, o, want, open)
	}
}

func (tl *timeline) rejected(md string, b event.Body, reason string) {
	tl.t.Helper()
	_, err := tl.step(date(md), b)
	var rej *RejectError
	if !errors.As(err, &rej) || rej.Reason != reason {
		tl.t.Fatalf("%s: %v, want the rejection %s", b.Kind(), err, reason)
	}
}

// TestAgencyPlacementPartialRecovery: the agency stage (30 days past due,
// 2026-04-14) places I1's 1,000.00 with acme (commission 15 %). While
// placed the late notice (40 days, 04-24) is not sent. P1 400.00 on 04-20
// is the agency's: AGENCY_RECOVERY 400.00 (statistical, 9150/9150) and
// commission 400.00 x 0.15 = 60.00 (6150/2150); P2 123.45 on 04-28:
// 123.45 x 0.15 = 18.5175, rounded half up to 18.52. acme returns the
// account PARTIALLY_RECOVERED on 05-01 (523.45 of 1,000.00 recovered,
// 78.52 commission): the account is in dunning again and P3 100.00 on
// 05-05 books no agency entry; a recall after the return is rejected.
func TestAgencyPlacementPartialRecovery(t *testing.T) {
	for _, reload := range []bool{false, true} {
		t.Run(fmt.Sprintf("reload=%v", reload), func(t *testing.T) {
			tl := newTimeline(t, financeLadder+financeAgencies)
			tl.reload = reload
			tl.wakeTo(date("04-19"))
			tl.expect("actions to 04-19", tl.types(), []string{"03-20 NOTIFY  0.0000", "04-14 AGENCY_PLACEMENT acme 1000.0000"})
			tl.status(date("04-19"), CollectionsPlaced, event.MustAmount("1000"))

			tl.applyOn("04-20", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("400")})
			tl.expect("P1", tl.entries(), []string{"04-20 AGENCY_RECOVERY 400.0000 9150/9150", "04-20 AGENCY_COMMISSION 60.0000 6150/2150"})
			tl.applyOn("04-28", &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: event.MustAmount("123.45")})
			tl.expect("P2", tl.entries(), []string{"04-28 AGENCY_RECOVERY 123.4500 9150/9150", "04-28 AGENCY_COMMISSION 18.5200 6150/2150"})
			tl.expect("actions while placed", tl.types(), nil)
			tl.status(date("04-28"), CollectionsPlaced, event.MustAmount("476.55"))

			out := tl.applyOn("05-01", &event.AgencyReturned{AgencyID: "acme", Outcome: event.AgencyPartiallyRecovered})
			if p := tl.st.Dunning.Finance.Placement; p.Recovered != event.MustAmount("523.45") || p.Commission != event.MustAmount("78.52") || p.Active() {
				t.Fatalf("placement after the return: %+v", p)
			}
			if !strings.Contains(out.Explanation, "returned by agency acme: PARTIALLY_RECOVERED") {
				t.Errorf("explanation %q", out.Explanation)
			}
			tl.status(date("05-01"), CollectionsInDunning, event.MustAmount("476.55"))
			tl.applyOn("05-05", &event.PaymentReceived{PaymentID: "P3", Currency: "EUR", Amount: event.MustAmount("100")})
			tl.expect("P3 after the return", tl.entries(), nil)
			tl.rejected("05-06", &event.AgencyRecalled{AgencyID: "acme"}, ReasonNotPlaced)
		})
	}
}

// TestLegalCaseToJudgement: placed on 04-14 as above; acme returns the
// account UNCOLLECTABLE on 04-20 and finance.on_uncollectable refers it
// to legal: LEGAL_REFERRAL of the 1,000.00 overdue and the legal fee
// 45.00 (1200/4150, a debit note on I1: 1,045.00 open). The case opens
// (reference CV-26-0042) and ends in a judgement for 1,180.00; no notice
// goes out meanwhile (late_notice is due on 04-24). The parties settle
// for 800.00: on_settlement write_off writes off 1,045.00 - 800.00 =
// 245.00 (6800/1200, reference C1), 800.00 stays open; after CLOSED the
// account is written off (245.00 unrecovered). A step of another case is
// rejected.
func TestLegalCaseToJudgement(t *testing.T) {
	tl := newTimeline(t, financeLadder+financeAgencies)
	tl.reload = true
	tl.applyOn("04-20", &event.AgencyReturned{AgencyID: "acme", Outcome: event.AgencyUncollectable})
	tl.expect("actions to 04-20", tl.types(), []string{"03-20 NOTIFY  0.0000", "04-14 AGENCY_PLACEMENT acme 1000.0000",
		"04-20 LEGAL_REFERRAL  1000.0000"})
	tl.expect("GL of the referral", tl.entries(), []string{"04-20 LEGAL_FEE 45.0000 1200/4150"})
	tl.status(date("04-20"), CollectionsLegal, event.MustAmount("1045"))

	tl.applyOn("04-22", &event.LegalCaseUpdated{CaseID: "C1", Status: event.LegalOpened, Reference: "CV-26-0042"})
	out := tl.applyOn("05-20", &event.LegalCaseUpdated{CaseID: "C1", Status: event.LegalJudgement, Currency: "EUR", Amount: event.MustAmount("1180")})
	if c := tl.st.Dunning.Finance.Legal; c.Reference != "CV-26-0042" || c.Awarded != event.MustAmount("1180") || c.Status != event.LegalJudgement {
		t.Fatalf("case after the judgement: %+v", c)
	}
	if !strings.Contains(out.Explanation, "judgement for 1180.0000 EUR") {
		t.Errorf("explanation %q", out.Explanation)
	}
	tl.expect("actions in legal", tl.types(), nil)
	tl.status(date("05-20"), CollectionsLegal, event.MustAmount("1045"))
	tl.rejected("05-21", &event.LegalCaseUpdated{CaseID: "C2", Status: event.LegalClosed}, ReasonNoLegalCase)

	tl.applyOn("06-01", &event.LegalCaseUpdated{CaseID: "C1", Status: event.LegalSettled, Currency: "EUR", Amount: event.MustAmount("800")})
	tl.expect("GL of the settlement", tl.entries(), []string{"06-01 WRITE_OFF 245.0000 6800/1200"})
	tl.status(date("06-01"), CollectionsWrittenOff, event.MustAmount("800"))
	tl.applyOn("06-10", &event.LegalCaseUpdated{CaseID: "C1", Status: event.LegalClosed})
	if tl.st.Dunning.InLegal() {
		t.Fatal("the case is still open after CLOSED")
	}
	tl.applyOn("06-15", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("800")})
	tl.expect("the settlement paid", tl.entries(), nil)
	tl.status(date("06-15"), CollectionsWrittenOff, 0)
}

const financeReminder = `
name: fin
selection: {segments: [corporate]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 5, actions: [{type: notify, channel: email, template: r}]}
gl: {receivables: "1200", fee_income: "4100", bad_debt: "6800"}
finance:
  gl: {interest_income: "4200", impairment_expense: "6900", loss_allowance: "1290"}
`

// TestLateInterest: 8 % a year, grace 10 days, posted on the 1st. I1
// (1,000.00, due 03-15) accrues from 03-26 (due + 10 + 1). P1 pays 500.00
// on 04-11; an interest debit note lands on I1.
//
//	ACT/365: to 04-01, 03-26..03-31 = 6 days: 1000.00 x 0.08 x 6/365 =
//	  1.315068 -> 1.32 (I1 1,001.32); to 05-01, 04-01..04-10 = 10 days on
//	  1,001.32 and 04-11..04-30 = 20 days on 501.32: (10,013.20 +
//	  10,026.40) x 0.08/365 = 4.392241 -> 4.39.
//	30/360: 03-26 to 04-01 counts 30 + 1 - 26 = 5 days: 1000.00 x 0.08 x
//	  5/360 = 1.1111 -> 1.11; then 04-01 to 04-11 = 10 and 04-11 to 05-01 =
//	  30 + 1 - 11 = 20 days: (10 x 1,001.11 + 20 x 501.11) x 0.08/360 =
//	  4.451844 -> 4.45.
//	minimum 2.00, cap 4.00 (ACT/365): 1.32 < 2.00 is waived (I1 stays
//	  1,000.00); then (10 x 1,000.00 + 20 x 500.00) x 0.08/365 = 4.383562,
//	  capped to 4.00.
//	dispute: 400.00 of I1 disputed from 04-05: April is 04-01..04-04 = 4
//	  days on 1,001.32, 04-05..04-10 = 6 days on 601.32 and, after P1,
//	  04-11..04-30 = 20 days on 501.32 - 400.00 = 101.32: (4,005.28 +
//	  3,607.92 + 2,026.40) x 0.08/365 = 2.112789 -> 2.11.
//	arrangement (not during_arrangement): a promise from 04-05 until its
//	  cancellation on 04-21 stops the accrual: April is 04-01..04-04 = 4
//	  days on 1,001.32 and 04-21..04-30 = 10 days on 501.32: (4,005.28 +
//	  5,013.20) x 0.08/365 = 1.976653 -> 1.98.
func TestLateInterest(t *testing.T) {
	for _, c := range []struct {
		name, rules string
		arrangement bool
		dispute     bool
		want        []string
	}{
		{"ACT/365", `day_count: ACT/365`, false, false, []string{"04-01 INTEREST 1.3200 1200/4200", "05-01 INTEREST 4.3900 1200/4200"}},
		{"30/360", `day_count: 30/360`, false, false, []string{"04-01 INTEREST 1.1100 1200/4200", "05-01 INTEREST 4.4500 1200/4200"}},
		{"minimum and cap", `minimum: {EUR: "2.00"}, cap: {EUR: "4.00"}`, false, false, []string{"05-01 INTEREST 4.0000 1200/4200"}},
		{"dispute", `day_count: ACT/365`, false, true, []string{"04-01 INTEREST 1.3200 1200/4200", "05-01 INTEREST 2.1100 1200/4200"}},
		{"arrangement", `day_count: ACT/365`, true, false, []string{"04-01 INTEREST 1.3200 1200/4200", "05-01 INTEREST 1.9800 1200/4200"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var runs [2][]event.GLEntry
			for i, reload := range []bool{false, true} {
				tl := newTimeline(t, financeReminder+`  interest: {annual_rate: "0.08", grace_days: 10, posting_day: 1, `+c.rules+"}\n")
				tl.reload = reload
				if c.dispute {
					tl.applyOn("04-05", &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I1", Currency: "EUR", Amount: event.MustAmount("400")})
				}
				if c.arrangement {
					tl.applyOn("04-05", &event.ArrangementCreated{ArrangementID: "A", Type: event.Promise, Currency: "EUR",
						Installments: []event.Installment{{DueDate: event.DateOf(date("04-30")), Amount: event.MustAmount("1000")}}})
				}
				tl.applyOn("04-11", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("500")})
				if c.arrangement {
					tl.applyOn("04-21", &event.ArrangementCancelled{ArrangementID: "A"})
				}
				tl.wakeTo(date("05-02"))
				// The posting day's timer again: a period is posted once.
				tl.take(Wake(tl.st, "A1", time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), tl.env))
				tl.expect("interest", tl.entries(), c.want)
				runs[i] = tl.all
			}
			if !reflect.DeepEqual(runs[0], runs[1]) {
				t.Fatalf("a restart before every step changed the entries:\n%v\n%v", runs[0], runs[1])
			}
		})
	}
}

// TestProvisions: LGD 0.45 for corporate; the PD is the risk state's
// (no scorecard here: set by hand). The account is first seen in March,
// so February's end is not provisioned.
//
//	03-31: EAD 1,000.00 x PD 0.123456 x 0.45 = 55.5552 -> 55.56:
//	  PROVISION_INCREASE 55.56 (6900/1290).
//	P1 400.00 on 04-10, PD 0.25. 04-30: 600.00 x 0.25 x 0.45 = 67.50:
//	  increase 67.50 - 55.56 = 11.94.
//	I2 200.00 issued 05-02, disputed in full; P2 600.00 pays I1 on 05-10.
//	  05-31: EAD is I2's 200.00 (disputed amounts count): 200.00 x 0.25 x
//	  0.45 = 22.50: PROVISION_RELEASE 67.50 - 22.50 = 45.00 (1290/6900).
//	I2 cancelled 06-05: 06-30 releases the last 22.50.
func TestProvisions(t *testing.T) {
	tl := newTimeline(t, financeReminder+`  provisions: {lgd: {corporate: "0.45"}}`+"\n")
	tl.reload = true
	tl.st.Risk.PD = 0.123456
	tl.wakeTo(date("04-02"))
	tl.expect("March", tl.entries(), []string{"04-01 PROVISION_INCREASE 55.5600 6900/1290"})
	tl.applyOn("04-10", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("400")})
	tl.st.Risk.PD = 0.25
	tl.wakeTo(date("05-02"))
	tl.expect("April", tl.entries(), []string{"05-01 PROVISION_INCREASE 11.9400 6900/1290"})
	tl.applyOn("05-02", &event.InvoiceIssued{InvoiceID: "I2", Currency: "EUR", Amount: event.MustAmount("200"), IssueDate: event.DateOf(date("05-02")), DueDate: event.DateOf(date("05-20"))})
	tl.applyOn("05-03", &event.DisputeOpened{DisputeID: "D1", InvoiceID: "I2", Currency: "EUR", Amount: event.MustAmount("200")})
	tl.applyOn("05-10", &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: event.MustAmount("600")})
	tl.wakeTo(date("06-02"))
	tl.expect("May", tl.entries(), []string{"06-01 PROVISION_RELEASE 45.0000 1290/6900"})
	tl.applyOn("06-05", &event.InvoiceCancelled{InvoiceID: "I2"})
	tl.wakeTo(date("07-02"))
	tl.expect("June", tl.entries(), []string{"07-01 PROVISION_RELEASE 22.5000 1290/6900"})
	tl.wakeTo(date("09-02"))
	if got := tl.entries(); len(got) != 0 || len(tl.st.Dunning.Finance.Provisions) != 0 {
		t.Fatalf("nothing booked and nothing open, yet %v (booked %v)", got, tl.st.Dunning.Finance.Provisions)
	}
}

// financeSeed is an encoded state with every finance part: placed, then
// referred, with interest accrued and a provision booked.
func financeSeed(tb testing.TB) []byte {
	st := &State{Account: "A1", Dunning: dunning.State{Finance: &dunning.Finance{
		Placement: &dunning.Placement{Agency: "acme", Currency: "EUR", Placed: 1000_0000, Since: day0, Recovered: 400_0000,
			Commission: 60_0000, Ended: day0.AddDate(0, 1, 0), Outcome: event.AgencyUncollectable},
		Legal: &dunning.LegalCase{Referred: day0.AddDate(0, 1, 0), CaseID: "C1", Reference: "CV-1", Status: event.LegalJudgement,
			Currency: "EUR", Awarded: 1180_0000},
		Interest: dunning.Interest{Through: event.DateOf(day0) + 40, Posted: event.DateOf(day0) + 31, DueFor: event.DateOf(day0) + 31,
			Accruals: []dunning.Accrual{{Currency: "EUR", Open: 9_000_0000, InvoiceID: "I1"}}},
		Provisions: []dunning.Provision{{Currency: "EUR", Amount: 55_5600}}, ProvisionedFor: event.DateOf(day0) + 30,
	}}}
	return mustMarshal(tb, st)
}

// TestLateInterestPaidOff: as TestLateInterest (ACT/365), but P1 pays
// I1's 1,001.32 in full on 04-11: April's interest is 10 days on 1,001.32
// x 0.08/365 = 2.194674 -> 2.19. On 05-01 nothing is overdue: it lands on
// I2 (100.00, issued 04-20, due 05-20), the open item left; without I2
// nothing is open and it is waived.
func TestLateInterestPaidOff(t *testing.T) {
	for _, withI2 := range []bool{true, false} {
		tl := newTimeline(t, financeReminder+`  interest: {annual_rate: "0.08", grace_days: 10}`+"\n")
		tl.applyOn("04-11", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("1001.32")})
		want, open := []string{"04-01 INTEREST 1.3200 1200/4200"}, event.Amount(0)
		if withI2 {
			tl.applyOn("04-20", &event.InvoiceIssued{InvoiceID: "I2", Currency: "EUR", Amount: event.MustAmount("100"),
				IssueDate: event.DateOf(date("04-20")), DueDate: event.DateOf(date("05-20"))})
			want, open = append(want, "05-01 INTEREST 2.1900 1200/4200"), event.MustAmount("102.19")
		}
		tl.wakeTo(date("05-02"))
		tl.expect(fmt.Sprintf("interest (I2 %v)", withI2), tl.entries(), want)
		tl.status(date("05-02"), CollectionsNone, open)
	}
}

// TestAgencyPaymentReversed: placed on 04-14 as in
// TestAgencyPlacementPartialRecovery; P1 400.00 on 04-20 (commission
// 60.00) bounces on 04-22: AGENCY_RECOVERY_REVERSED 400.00 and
// AGENCY_COMMISSION_REVERSED 60.00 (debit 2150, credit 6150); P2 100.00
// on 04-23 is recovered and commissioned (15.00) as usual. The state
// round-trips before every step.
func TestAgencyPaymentReversed(t *testing.T) {
	tl := newTimeline(t, financeLadder+financeAgencies)
	tl.reload = true
	tl.applyOn("04-20", &event.PaymentReceived{PaymentID: "P1", Currency: "EUR", Amount: event.MustAmount("400")})
	tl.applyOn("04-22", &event.PaymentReversed{PaymentID: "P1", Reason: "bounced"})
	tl.applyOn("04-23", &event.PaymentReceived{PaymentID: "P2", Currency: "EUR", Amount: event.MustAmount("100")})
	tl.expect("GL", tl.entries(), []string{"04-20 AGENCY_RECOVERY 400.0000 9150/9150", "04-20 AGENCY_COMMISSION 60.0000 6150/2150",
		"04-22 AGENCY_RECOVERY_REVERSED 400.0000 9150/9150", "04-22 AGENCY_COMMISSION_REVERSED 60.0000 2150/6150",
		"04-23 AGENCY_RECOVERY 100.0000 9150/9150", "04-23 AGENCY_COMMISSION 15.0000 6150/2150"})
	p := tl.st.Dunning.Finance.Placement
	if p.Recovered != event.MustAmount("100") || p.Commission != event.MustAmount("15") || len(p.Payments) != 1 {
		t.Fatalf("placement %+v", p)
	}
	tl.status(date("04-23"), CollectionsPlaced, event.MustAmount("900"))
}
