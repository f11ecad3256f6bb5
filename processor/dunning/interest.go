package dunning

import (
	"fmt"
	"math/big"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// Late-payment interest (policy finance.interest). Interest accrues per
// whole local day on each item's open, non-disputed amount from the day
// after due date + grace_days, on the balance each day ended with, not
// while an arrangement is active (unless during_arrangement). The core
// calls Accrue before every step with the account as it was since the
// last one (the balance cannot have changed in between), so accrual needs
// no daily timer; what accrued is kept as principal-days per currency
// (amount x days under the day-count convention).
//
// On the posting day (local midnight of posting_day; the account has a
// timer for it) the days before it are posted: interest = principal-days x
// annual_rate / basis (365 or 360), rounded half up to the currency's
// minor unit, capped at cap; below minimum the period's interest is
// waived. It is a debit note on the oldest overdue invoice of its currency
// (else the last that accrued if still open, else any open one; with
// nothing open it is waived) and a GL entry INTEREST (debit receivables,
// credit gl.interest_income): the path fees take. Entry ids are a hash of
// the account, currency and posting date, so a replay posts the same
// entries and a period is posted once.

// Interest is an account's accrual.
type Interest struct {
	// Through is the first day not accrued yet (0: never accrued).
	Through event.Date
	// Posted is the last posting date posted; DueFor the posting date the
	// Due principal-days are for.
	Posted, DueFor event.Date
	Accruals       []Accrual
}

// Accrual is one currency's principal-days: Due (before DueFor, to post)
// and Open (the period running), and the invoice that last accrued.
type Accrual struct {
	Currency  event.Currency
	Due, Open int64
	InvoiceID string
}

// Accrue accrues interest under pol from the state's last accrual through
// the day before today (local), on items as they stood since (open amounts
// net of disputes). Without interest rules, or with nothing to change, it
// returns false; st is not modified (WithInterest keeps the result).
func Accrue(st State, items []Item, pol *policy.Policy, today event.Date) (Interest, bool) {
	if pol == nil || pol.Finance.Interest == nil {
		return Interest{}, false
	}
	r := pol.Finance.Interest
	var in Interest
	if st.Finance != nil {
		in = st.Finance.Interest
	}
	if in.Through == 0 {
		in.Through = today
		if in.Posted == 0 {
			in.Posted = lastPosting(today, r.PostingDay)
		}
		return in, true
	}
	if in.Through >= today {
		return Interest{}, false
	}
	in.Accruals = append([]Accrual(nil), in.Accruals...)
	active := st.Arrangement == nil || r.DuringArrangement
	p := lastPosting(today, r.PostingDay)
	if p > in.Posted && p > in.DueFor {
		// A posting day passed: what accrued before it is due.
		for i := range in.Accruals {
			in.Accruals[i].Due += in.Accruals[i].Open
			in.Accruals[i].Open = 0
		}
		in.DueFor = p
	}
	for _, it := range items {
		from := max(in.Through, it.DueDate+event.Date(r.GraceDays)+1)
		if !active || it.Open <= 0 || from >= today {
			continue
		}
		a := in.accrual(it.Currency)
		if from < in.DueFor {
			a.Due += int64(it.Open) * r.DayCount.Days(from, min(today, in.DueFor))
		}
		if today > in.DueFor {
			a.Open += int64(it.Open) * r.DayCount.Days(max(from, in.DueFor), today)
		}
		a.InvoiceID = it.InvoiceID
	}
	in.Through = today
	return in, true
}

// WithInterest is s with its accrual replaced by in.
func (s State) WithInterest(in Interest) State {
	n := s.clone()
	f := s.Finance.clone()
	f.Interest = in
	n.Finance = f
	return n
}

func (in *Interest) accrual(c event.Currency) *Accrual {
	for i := range in.Accruals {
		if in.Accruals[i].Currency == c {
			return &in.Accruals[i]
		}
	}
	in.Accruals = append(in.Accruals, Accrual{Currency: c})
	return &in.Accruals[len(in.Accruals)-1]
}

// lastPosting is the latest posting date (day pd of a month) <= d.
func lastPosting(d event.Date, pd int) event.Date {
	y, m, day := d.Time().Date()
	if day < pd {
		m--
	}
	return event.DateOf(time.Date(y, m, pd, 0, 0, 0, 0, time.UTC))
}

// postInterest posts the due interest when its posting date has come.
func (e *evaluator) postInterest() {
	r := e.finance().Interest
	if r == nil || e.st.Finance == nil {
		return
	}
	in := e.st.Finance.Interest
	if in.DueFor <= in.Posted || in.DueFor > e.today {
		return
	}
	f := e.st.Finance.clone()
	for i := range f.Interest.Accruals {
		a := &f.Interest.Accruals[i]
		pd := a.Due
		a.Due = 0
		if pd <= 0 {
			continue
		}
		amt := mulDivMinor(pd, int64(r.AnnualRate), r.DayCount.Basis()*policy.RateScale, a.Currency)
		if c := r.Cap[a.Currency]; c > 0 && amt > c {
			e.note("interest %s %s capped at %s", amt, a.Currency, c)
			amt = c
		}
		if amt <= 0 || amt < r.Minimum[a.Currency] {
			e.note("interest %s %s for the period to %s waived: below the minimum %s", amt, a.Currency, in.DueFor, r.Minimum[a.Currency])
			continue
		}
		inv := e.oldestIn(a.Currency)
		if inv == "" {
			inv = e.openIn(a.Currency, a.InvoiceID)
		}
		id := entryID(e.in.Account, "interest", string(a.Currency), in.DueFor.String())
		desc := fmt.Sprintf("late-payment interest to %s, %s %s a year on %d principal-days (1e-4 units), policy %s",
			in.DueFor, r.DayCount, r.AnnualRate, pd, e.policyRef())
		if e.charge(charge{id: id, kind: "INTEREST", cur: a.Currency, amt: amt, credit: e.finance().GL.InterestIncome, desc: desc, inv: inv}) {
			e.note("interest %s %s posted for the period to %s", amt, a.Currency, in.DueFor)
		}
	}
	f.Interest.Posted = in.DueFor
	e.st.Finance = f
}

// openIn is invoice inv when it is still open, else the first open item
// in currency c ("" when none: the interest is waived).
func (e *evaluator) openIn(c event.Currency, inv string) string {
	first := ""
	for _, it := range e.in.Items {
		if it.Currency != c {
			continue
		}
		if it.InvoiceID == inv {
			return inv
		}
		if first == "" {
			first = it.InvoiceID
		}
	}
	return first
}

// Provision is the loss allowance booked for a currency.
type Provision struct {
	Currency event.Currency
	Amount   event.Amount
}

// provision books the month-end expected-credit-loss movement (policy
// finance.provisions): ECL = exposure at default (open amount, disputed
// included) x PD (the risk state's, in millionths) x LGD of the segment,
// rounded half up to the minor unit; the difference from what is booked is
// a PROVISION_INCREASE (debit gl.impairment_expense, credit
// gl.loss_allowance) or a PROVISION_RELEASE (the reverse). It runs at the
// first evaluation of a month (the account has a timer at local midnight
// of the 1st) for the month that ended; the first month an account is
// seen is not provisioned.
func (e *evaluator) provision() {
	pr := e.finance().Provisions
	if pr == nil {
		return
	}
	monthEnd := firstOfMonth(e.today) - 1
	if f := e.st.Finance; f != nil && f.ProvisionedFor >= monthEnd {
		return
	}
	f := e.st.Finance.clone()
	first := f.ProvisionedFor == 0
	f.ProvisionedFor = monthEnd
	e.st.Finance = f
	if first {
		return
	}
	var ead amounts
	for _, it := range e.in.Items {
		ead.add(it.Currency, it.Open)
	}
	for c, d := range e.in.Disputed {
		ead.add(c, d)
	}
	for _, p := range f.Provisions {
		ead.add(p.Currency, 0)
	}
	pd := int64(e.in.PD*policy.RateScale + 0.5)
	lgd := int64(pr.LGD[e.in.Segment])
	var booked []Provision
	for _, x := range ead {
		ecl := mulDivMinor(int64(x.Amount), pd*lgd, policy.RateScale*policy.RateScale, x.Currency)
		var before event.Amount
		for _, p := range f.Provisions {
			if p.Currency == x.Currency {
				before = p.Amount
			}
		}
		if ecl > 0 {
			booked = append(booked, Provision{x.Currency, ecl})
		}
		mv := ecl - before
		if mv == 0 {
			continue
		}
		kind, dr, cr := "PROVISION_INCREASE", e.finance().GL.ImpairmentExpense, e.finance().GL.LossAllowance
		if mv < 0 {
			kind, dr, cr, mv = "PROVISION_RELEASE", cr, dr, -mv
		}
		id := entryID(e.in.Account, "provision", string(x.Currency), monthEnd.String())
		e.d.GL = append(e.d.GL, event.GLEntry{
			EntryID: "gl-" + id, Account: e.in.Account, Time: e.now, Kind: kind, Currency: x.Currency, Amount: mv,
			DebitAccount: dr, CreditAccount: cr, Reference: monthEnd.String(),
			Description: fmt.Sprintf("ECL at %s: EAD %s x PD %s x LGD %s = %s (was %s), policy %s", monthEnd, x.Amount,
				policy.Rate(pd), policy.Rate(lgd), ecl, before, e.policyRef()),
		})
		e.note("%s %s %s at %s (ECL %s)", kind, mv, x.Currency, monthEnd, ecl)
	}
	f.Provisions = booked
}

func firstOfMonth(d event.Date) event.Date {
	y, m, _ := d.Time().Date()
	return event.DateOf(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
}

// financeWake asks for the next interest posting and month end when the
// policy has them and the account has something to post.
func (e *evaluator) financeWake() {
	if e.pol == nil || e.today == 0 {
		return
	}
	fr := e.finance()
	f := e.st.Finance
	if r := fr.Interest; r != nil && f != nil && (len(e.in.Items) > 0 || f.Interest.DueFor > f.Interest.Posted || hasAccrual(f)) {
		next := lastPosting(e.today, r.PostingDay)
		if next <= e.today {
			y, m, _ := next.Time().Date()
			next = event.DateOf(time.Date(y, m+1, r.PostingDay, 0, 0, 0, 0, time.UTC))
		}
		e.wakeAt(e.localMidnight(next))
	}
	if fr.Provisions != nil && (len(e.in.Items) > 0 || len(e.in.Disputed) > 0 || (f != nil && len(f.Provisions) > 0)) {
		y, m, _ := e.today.Time().Date()
		e.wakeAt(e.localMidnight(event.DateOf(time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC))))
	}
}

func hasAccrual(f *Finance) bool {
	for _, a := range f.Interest.Accruals {
		if a.Due > 0 || a.Open > 0 {
			return true
		}
	}
	return false
}

// mulDiv is a*b/d rounded half up, exactly (a*b may exceed 64 bits);
// a, b >= 0, d > 0.
func mulDiv(a, b, d int64) int64 {
	x := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	x.Add(x, big.NewInt(d/2))
	return x.Quo(x, big.NewInt(d)).Int64()
}

// mulDivMinor is a*b/d (in 1e-4 units) rounded once, half up, to c's
// minor unit (2 decimals when c has no known minor unit).
func mulDivMinor(a, b, d int64, c event.Currency) event.Amount {
	minor, ok := c.MinorUnits()
	if !ok {
		minor = 2
	}
	step := int64(1)
	for i := minor; i < event.Scale; i++ {
		step *= 10
	}
	return event.Amount(mulDiv(a, b, d*step) * step)
}
