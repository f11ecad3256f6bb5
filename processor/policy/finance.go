package policy

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// Finance is a policy's optional `finance:` section: collection agencies
// and their commission, the legal route, late-payment interest and
// bad-debt provisions (docs/policies.md "Finance"). The zero value turns
// all of it off. The format:
//
//	finance:
//	  agencies:                          # commission on what each agency recovers
//	    - {id: acme-collect, commission_rate: "0.15"}
//	  on_uncollectable: legal            # after an agency returns UNCOLLECTABLE: legal | write_off | none
//	  legal:
//	    fee: {amount: "45.00", currency: EUR}   # charged at referral (debit note + GL LEGAL_FEE)
//	    on_settlement: write_off         # the rest beyond the amount agreed: write_off | keep
//	  interest:
//	    annual_rate: "0.08"              # 8 % a year
//	    day_count: ACT/365               # or 30/360
//	    grace_days: 14                   # an item accrues from day grace_days+1 past due
//	    minimum: {EUR: "1.00"}           # a period's interest below it is waived
//	    cap: {EUR: "50.00"}              # at most this much posted per period
//	    posting_day: 1                   # day of month (1-28) the month's interest is posted
//	    during_arrangement: false        # accrue while a promise or plan is active
//	  provisions:
//	    lgd: {postpaid: "0.45"}          # loss given default per segment the policy selects
//	  gl: {agency_commission: "6150", agency_payable: "2150", agency_recoveries: "9150",
//	       legal_fees: "4150", interest_income: "4200", impairment_expense: "6900", loss_allowance: "1290"}
type Finance struct {
	Agencies []Agency
	// OnUncollectable is what follows an agency's UNCOLLECTABLE return:
	// event.ActionLegal, event.ActionWriteOff or "" (nothing: dunning
	// resumes from the stage reached).
	OnUncollectable event.ActionType
	Legal           LegalRules
	// Interest and Provisions are nil when not configured.
	Interest   *InterestRules
	Provisions *ProvisionRules
	GL         FinanceGL
}

// Agency is a collections agency the policy places accounts with.
type Agency struct {
	ID             string
	CommissionRate Rate
}

// Agency returns the agency with id (nil if not listed).
func (f *Finance) Agency(id string) *Agency {
	for i := range f.Agencies {
		if f.Agencies[i].ID == id {
			return &f.Agencies[i]
		}
	}
	return nil
}

// LegalRules govern a legal referral and its case.
type LegalRules struct {
	// FeeAmount in FeeCurrency is charged when the account is referred
	// (zero: none).
	FeeAmount   event.Amount
	FeeCurrency event.Currency
	// WriteOffOnSettlement writes off what is overdue beyond the amount
	// agreed in a settlement; false keeps it owed.
	WriteOffOnSettlement bool
}

// DayCount is a day-count convention.
type DayCount uint8

// Day-count conventions.
const (
	// ACT365 counts actual days over a 365-day year.
	ACT365 DayCount = iota + 1
	// Thirty360 counts 30-day months over a 360-day year (30/360 US bond
	// basis: a 31st counts as the 30th).
	Thirty360
)

func (d DayCount) String() string {
	switch d {
	case ACT365:
		return "ACT/365"
	case Thirty360:
		return "30/360"
	}
	return "UNKNOWN"
}

// Basis is the days in the convention's year.
func (d DayCount) Basis() int64 {
	if d == Thirty360 {
		return 360
	}
	return 365
}

// Days counts the days from a to b (a <= b) under the convention.
func (d DayCount) Days(a, b event.Date) int64 {
	if d != Thirty360 {
		return int64(b - a)
	}
	y1, m1, d1 := a.Time().Date()
	y2, m2, d2 := b.Time().Date()
	if d1 == 31 {
		d1 = 30
	}
	if d2 == 31 && d1 == 30 {
		d2 = 30
	}
	return int64(360*(y2-y1) + 30*(int(m2)-int(m1)) + (d2 - d1))
}

// InterestRules configure late-payment interest.
type InterestRules struct {
	AnnualRate Rate
	DayCount   DayCount
	// GraceDays: an item accrues from the day after due date + GraceDays.
	GraceDays int
	// Minimum is the smallest period interest posted per currency (below
	// it the period's interest is waived); Cap the largest (0: no cap).
	Minimum map[event.Currency]event.Amount
	Cap     map[event.Currency]event.Amount
	// PostingDay is the day of the month (1-28) interest accrued up to the
	// day before is posted, in the account's time zone.
	PostingDay int
	// DuringArrangement accrues while a promise or plan is active.
	DuringArrangement bool
}

// ProvisionRules configure the monthly expected-credit-loss provision.
type ProvisionRules struct {
	// LGD is the loss given default per segment.
	LGD map[event.Segment]Rate
}

// FinanceGL names the GL accounts of the finance entries.
type FinanceGL struct {
	AgencyCommission  string // debited by commission (an expense)
	AgencyPayable     string // credited by commission (owed to the agency)
	AgencyRecoveries  string // the statistical AGENCY_RECOVERY entry (debit and credit)
	LegalFees         string // credited by a legal fee
	InterestIncome    string // credited by late-payment interest
	ImpairmentExpense string // debited by a provision increase
	LossAllowance     string // credited by a provision increase
}

// Rate is a non-negative fraction in millionths (0.15 is Rate(150000)).
type Rate int64

// RateScale is what a Rate of 1 (100 %) is.
const RateScale = 1_000_000

func (r Rate) String() string {
	s := strings.TrimRight(fmt.Sprintf("%d.%06d", r/RateScale, r%RateScale), "0")
	if strings.HasSuffix(s, ".") {
		s += "0"
	}
	return s
}

var financeFields = []string{"agencies", "on_uncollectable", "legal", "interest", "provisions", "gl"}

func (p *parser) finance(n *yaml.Node) Finance {
	f := Finance{GL: FinanceGL{AgencyCommission: "agency_commission", AgencyPayable: "agency_payable",
		AgencyRecoveries: "agency_recoveries", LegalFees: "legal_fee_income", InterestIncome: "interest_income",
		ImpairmentExpense: "impairment_expense", LossAllowance: "loss_allowance"}}
	for _, e := range p.mapping(n, "finance", financeFields) {
		field := strictyaml.Join("finance", e.Key)
		switch e.Key {
		case "agencies":
			f.Agencies = p.agencies(e.Value, field)
		case "on_uncollectable":
			switch v, _ := p.str(e.Value, field); v {
			case "legal":
				f.OnUncollectable = event.ActionLegal
			case "write_off":
				f.OnUncollectable = event.ActionWriteOff
			case "none":
			default:
				p.Errorf(e.Value, field, "unknown value %q (want legal, write_off or none)", v)
			}
		case "legal":
			f.Legal = p.legal(e.Value, field)
		case "interest":
			f.Interest = p.interest(e.Value, field)
		case "provisions":
			f.Provisions = &ProvisionRules{LGD: map[event.Segment]Rate{}}
			for _, x := range p.mapping(e.Value, field, []string{"lgd"}) {
				for _, s := range p.mapping(x.Value, field+".lgd", nil) {
					sub := strictyaml.Join(field+".lgd", s.Key)
					if seg := event.Segment(s.Key); !seg.Valid() {
						p.Errorf(s.KeyNode, sub, "unknown segment %q (want prepaid, postpaid, corporate or wholesale)", s.Key)
					} else if r, ok := p.rate(s.Value, sub); ok {
						f.Provisions.LGD[seg] = r
					}
				}
			}
		case "gl":
			p.financeGL(e.Value, field, &f.GL)
		}
	}
	return f
}

func (p *parser) agencies(n *yaml.Node, field string) []Agency {
	var out []Agency
	seen := map[string]bool{}
	for i, item := range p.sequence(n, field) {
		at := strictyaml.Index(field, i)
		var a Agency
		for _, e := range p.mapping(item, at, []string{"id", "commission_rate"}) {
			switch e.Key {
			case "id":
				a.ID, _ = p.nonEmpty(e.Value, at+".id")
				if seen[a.ID] {
					p.Errorf(e.Value, at+".id", "duplicate agency %q", a.ID)
				}
				seen[a.ID] = true
			case "commission_rate":
				a.CommissionRate, _ = p.rate(e.Value, at+".commission_rate")
			}
		}
		if a.ID == "" {
			p.Errorf(item, at+".id", "is required")
			continue
		}
		out = append(out, a)
	}
	return out
}

func (p *parser) legal(n *yaml.Node, field string) LegalRules {
	var l LegalRules
	for _, e := range p.mapping(n, field, []string{"fee", "on_settlement"}) {
		sub := strictyaml.Join(field, e.Key)
		switch e.Key {
		case "fee":
			for _, x := range p.mapping(e.Value, sub, []string{"amount", "currency"}) {
				if x.Key == "amount" {
					l.FeeAmount, _ = p.amount(x.Value, sub+".amount")
				} else {
					l.FeeCurrency, _ = p.currency(x.Value, sub+".currency")
				}
			}
			if l.FeeAmount > 0 && l.FeeCurrency == "" {
				p.Errorf(e.Value, sub+".currency", "is required with an amount")
			}
		case "on_settlement":
			switch v, _ := p.str(e.Value, sub); v {
			case "write_off":
				l.WriteOffOnSettlement = true
			case "keep":
			default:
				p.Errorf(e.Value, sub, "unknown value %q (want write_off or keep)", v)
			}
		}
	}
	return l
}

var interestFields = []string{"annual_rate", "day_count", "grace_days", "minimum", "cap", "posting_day", "during_arrangement"}

func (p *parser) interest(n *yaml.Node, field string) *InterestRules {
	in := &InterestRules{DayCount: ACT365, PostingDay: 1}
	have := false
	for _, e := range p.mapping(n, field, interestFields) {
		sub := strictyaml.Join(field, e.Key)
		switch e.Key {
		case "annual_rate":
			in.AnnualRate, have = p.rate(e.Value, sub)
		case "day_count":
			switch v, _ := p.str(e.Value, sub); strings.ToUpper(v) {
			case "ACT/365":
				in.DayCount = ACT365
			case "30/360":
				in.DayCount = Thirty360
			default:
				p.Errorf(e.Value, sub, "unknown convention %q (want ACT/365 or 30/360)", v)
			}
		case "grace_days":
			in.GraceDays, _ = p.integer(e.Value, sub, 0, 3650)
		case "minimum":
			in.Minimum = p.amounts(e.Value, sub, nil)
		case "cap":
			in.Cap = p.amounts(e.Value, sub, nil)
		case "posting_day":
			in.PostingDay, _ = p.integer(e.Value, sub, 1, 28)
		case "during_arrangement":
			in.DuringArrangement, _ = p.boolean(e.Value, sub)
		}
	}
	if !have && strictyaml.Deref(n) != nil && strictyaml.Deref(n).Kind == yaml.MappingNode {
		p.Errorf(n, field+".annual_rate", "is required")
	}
	for c, cp := range in.Cap {
		if m := in.Minimum[c]; cp > 0 && cp < m {
			p.Errorf(n, field+".cap."+string(c), "cap %s is below the minimum %s", cp, m)
		}
	}
	return in
}

func (p *parser) financeGL(n *yaml.Node, field string, g *FinanceGL) {
	dst := map[string]*string{"agency_commission": &g.AgencyCommission, "agency_payable": &g.AgencyPayable,
		"agency_recoveries": &g.AgencyRecoveries, "legal_fees": &g.LegalFees, "interest_income": &g.InterestIncome,
		"impairment_expense": &g.ImpairmentExpense, "loss_allowance": &g.LossAllowance}
	keys := []string{"agency_commission", "agency_payable", "agency_recoveries", "legal_fees", "interest_income",
		"impairment_expense", "loss_allowance"}
	for _, e := range p.mapping(n, field, keys) {
		if v, ok := p.nonEmpty(e.Value, strictyaml.Join(field, e.Key)); ok {
			*dst[e.Key] = v
		}
	}
}

// rate reads a fraction between 0 and 1 with at most 6 decimal places,
// quoted ("0.15") or plain.
func (p *parser) rate(n *yaml.Node, field string) (Rate, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		p.Errorf(n, field, "must be a fraction such as \"0.15\"")
		return 0, false
	}
	whole, frac, _ := strings.Cut(strings.TrimSpace(n.Value), ".")
	if len(frac) > 6 || (whole != "0" && whole != "1" && whole != "") || strings.Trim(frac, "0123456789") != "" ||
		(whole == "" && frac == "") {
		p.Errorf(n, field, "%q is not a fraction between 0 and 1 with at most 6 decimal places", n.Value)
		return 0, false
	}
	f, _ := strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64)
	r := Rate(f)
	if whole == "1" {
		r += RateScale
	}
	if r > RateScale {
		p.Errorf(n, field, "%q is above 1", n.Value)
		return 0, false
	}
	return r, true
}

// checkFinance validates the finance section against the rest of the
// policy: the agencies stages place with, the currencies and segments.
func (p *parser) checkFinance(pol *Policy) {
	f := &pol.Finance
	for i, st := range pol.Stages {
		for j, a := range st.Actions {
			if a.Type == event.ActionAgency && len(f.Agencies) > 0 && f.Agency(a.Agency) == nil {
				p.ErrorfAt(st.Line, strictyaml.Index(strictyaml.Index("stages", i)+".actions", j)+".agency",
					"agency %q is not listed in finance.agencies", a.Agency)
			}
		}
	}
	if f.Provisions != nil {
		for _, seg := range pol.Selection.Segments {
			if _, ok := f.Provisions.LGD[seg]; !ok {
				p.ErrorfAt(0, "finance.provisions.lgd."+string(seg), "segment %s the policy selects has no LGD", seg)
			}
		}
	}
}
