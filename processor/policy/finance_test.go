package policy

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/event"
)

const financePolicy = `name: fin
selection: {segments: [corporate, wholesale]}
min_overdue: {EUR: "5.00"}
stages:
  - {name: reminder, days_past_due: 3, actions: [{type: notify, channel: email, template: r}]}
  - {name: agency, days_past_due: 60, actions: [{type: agency, agency: acme}]}
finance:
  agencies: [{id: acme, commission_rate: "0.15"}, {id: zenith, commission_rate: 1}]
  on_uncollectable: legal
  legal: {fee: {amount: "45.00", currency: EUR}, on_settlement: write_off}
  interest: {annual_rate: "0.0825", day_count: 30/360, grace_days: 10, minimum: {EUR: "1.00"}, cap: {EUR: "50"},
             posting_day: 28, during_arrangement: true}
  provisions: {lgd: {corporate: "0.45", wholesale: "0.6"}}
  gl: {interest_income: "4200"}
`

func TestFinanceValid(t *testing.T) {
	p, err := Load([]byte(financePolicy), "fin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := p.Finance
	if a := f.Agency("acme"); a == nil || a.CommissionRate != 150000 || f.Agency("zenith").CommissionRate != RateScale || f.Agency("x") != nil {
		t.Fatalf("agencies %+v", f.Agencies)
	}
	if f.OnUncollectable != event.ActionLegal || f.Legal.FeeAmount != event.MustAmount("45") || f.Legal.FeeCurrency != "EUR" || !f.Legal.WriteOffOnSettlement {
		t.Fatalf("legal %+v, on_uncollectable %s", f.Legal, f.OnUncollectable)
	}
	in := f.Interest
	if in == nil || in.AnnualRate != 82500 || in.DayCount != Thirty360 || in.GraceDays != 10 || in.PostingDay != 28 ||
		!in.DuringArrangement || in.Minimum["EUR"] != event.MustAmount("1") || in.Cap["EUR"] != event.MustAmount("50") {
		t.Fatalf("interest %+v", in)
	}
	if f.Provisions.LGD[event.Corporate] != 450000 || f.Provisions.LGD[event.Wholesale] != 600000 {
		t.Fatalf("provisions %+v", f.Provisions)
	}
	if f.GL.InterestIncome != "4200" || f.GL.LossAllowance != "loss_allowance" {
		t.Fatalf("gl %+v (unset accounts keep their defaults)", f.GL)
	}
	if s := Rate(82500).String(); s != "0.0825" {
		t.Errorf("Rate(82500) = %s", s)
	}
	if s := Rate(RateScale).String(); s != "1.0" {
		t.Errorf("Rate(1) = %s", s)
	}
}

// TestFinanceDayCount: ACT/365 counts calendar days; 30/360 counts 30-day
// months, a 31st as the 30th.
func TestFinanceDayCount(t *testing.T) {
	d := func(s string) event.Date {
		v, err := event.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		dc       DayCount
		from, to string
		want     int64
	}{
		{ACT365, "2026-03-26", "2026-04-01", 6},
		{ACT365, "2026-02-01", "2026-03-01", 28},
		{Thirty360, "2026-03-26", "2026-04-01", 5},
		{Thirty360, "2026-02-01", "2026-03-01", 30},
		{Thirty360, "2026-01-31", "2026-03-31", 60},
		{Thirty360, "2026-03-15", "2027-03-15", 360},
	} {
		if got := c.dc.Days(d(c.from), d(c.to)); got != c.want {
			t.Errorf("%s %s..%s = %d days, want %d", c.dc, c.from, c.to, got, c.want)
		}
	}
}

// TestFinanceInvalid: every bad value is reported with its yaml path.
func TestFinanceInvalid(t *testing.T) {
	for _, c := range []struct{ old, new, field string }{
		{`commission_rate: "0.15"`, `commission_rate: "1.5"`, "finance.agencies[0].commission_rate"},
		{`commission_rate: "0.15"`, `commission_rate: "0.1234567"`, "finance.agencies[0].commission_rate"},
		{`{id: zenith, commission_rate: 1}`, `{id: acme, commission_rate: 1}`, "finance.agencies[1].id"},
		{`on_uncollectable: legal`, `on_uncollectable: sue`, "finance.on_uncollectable"},
		{`on_settlement: write_off`, `on_settlement: forgive`, "finance.legal.on_settlement"},
		{`{amount: "45.00", currency: EUR}`, `{amount: "45.00"}`, "finance.legal.fee.currency"},
		{`day_count: 30/360`, `day_count: ACT/ACT`, "finance.interest.day_count"},
		{`annual_rate: "0.0825"`, `rate: "0.0825"`, "finance.interest.rate"},
		{`annual_rate: "0.0825"`, `annual_rate: "-0.08"`, "finance.interest.annual_rate"},
		{`posting_day: 28`, `posting_day: 31`, "finance.interest.posting_day"},
		{`cap: {EUR: "50"}`, `cap: {EUR: "0.50"}`, "finance.interest.cap.EUR"},
		{`minimum: {EUR: "1.00"}`, `minimum: {EURO: "1.00"}`, "finance.interest.minimum.EURO"},
		{`wholesale: "0.6"`, `retail: "0.6"`, "finance.provisions.lgd.retail"},
		{`, wholesale: "0.6"`, ``, "finance.provisions.lgd.wholesale"},
		{`gl: {interest_income: "4200"}`, `gl: {interest: "4200"}`, "finance.gl.interest"},
		{`agency: acme}]}`, `agency: omega}]}`, "stages[1].actions[0].agency"},
		{`  legal:`, `  lawyers:`, "finance.lawyers"},
	} {
		src := strings.Replace(financePolicy, c.old, c.new, 1)
		if src == financePolicy {
			t.Fatalf("%q is not in the policy", c.old)
		}
		if err := fieldError(src, c.field); err != nil {
			t.Errorf("%s -> %s: %v", c.old, c.new, err)
		}
	}
}

// fieldError loads src and says what is wrong unless Load fails with an
// error naming field.
func fieldError(src, field string) error {
	_, err := Load([]byte(src), "p.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		return fmt.Errorf("%v, want an Errors naming %s", err, field)
	}
	for _, e := range errs {
		if e.Field == field {
			return nil
		}
	}
	return fmt.Errorf("errors %v do not name %s", err, field)
}

// TestFinanceShippedExamples: the corporate policy ships a finance
// section; postpaid's is commented out (it would change the version the
// goldens carry) and loads once uncommented.
func TestFinanceShippedExamples(t *testing.T) {
	b, err := os.ReadFile("../../deploy/policies/corporate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(b, "corporate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Finance.Interest == nil || p.Finance.Provisions == nil || p.Finance.Legal.FeeAmount == 0 {
		t.Fatalf("corporate finance %+v", p.Finance)
	}
	b, err = os.ReadFile("../../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	i := strings.Index(src, "# finance:")
	if i < 0 {
		t.Fatal("postpaid.yaml has no commented finance example")
	}
	src = src[:i] + strings.ReplaceAll(src[i:], "# ", "")
	p, err = Load([]byte(src), "postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Finance.Agency("northstar-recoveries"); a == nil || a.CommissionRate != 180000 {
		t.Fatalf("postpaid agencies %+v", p.Finance.Agencies)
	}
}
