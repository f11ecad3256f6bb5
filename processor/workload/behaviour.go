package workload

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// termsDays is the payment term per segment.
func termsDays(s event.Segment, r float64) int {
	switch s {
	case event.Corporate:
		return 30
	case event.Wholesale:
		if r < 0.5 {
			return 45
		}
		return 60
	}
	return 14
}

// bill issues the account's invoice of the cycle and schedules how the
// customer reacts, drawn from the latent risk.
func (g *Generator) bill(a *Account, day time.Time, out *[]event.Event) {
	g.billAt(a, day.Add(time.Duration(6*60+g.r.IntN(120))*time.Minute), "C"+itoa(a.CycleDay), out)
}

// billAt issues the account's invoice at the instant at in the bill cycle.
func (g *Generator) billAt(a *Account, at time.Time, cycle string, out *[]event.Event) {
	amt := a.MeanBill + event.Amount(g.r.IntN(int(a.MeanBill/5)+1)) - a.MeanBill/10
	amt = amt / 100 * 100 // cents
	terms := termsDays(a.Segment, g.r.Float64())
	due := event.DateOf(at) + event.Date(terms)
	inv := g.id("inv")
	*out = append(*out, event.Event{ID: inv, Time: at, Source: "billing", Account: a.ID, Body: &event.InvoiceIssued{
		InvoiceID: "INV-" + inv, Currency: a.Currency, Amount: amt, IssueDate: event.DateOf(at), DueDate: due,
		BillCycle: cycle}})
	invoiceID := "INV-" + inv
	dueAt := due.Time().Add(time.Duration(9+g.r.IntN(10)) * time.Hour)
	risk := a.LatentRisk
	if g.armBill(a, amt, invoiceID, dueAt, terms) { // experiment.go
		return
	}

	// Occasional credit note (billing correction) or dispute.
	if g.r.Float64() < 0.02 {
		g.later(event.Event{ID: g.id("cn"), Time: at.Add(time.Duration(1+g.r.IntN(5)) * 24 * time.Hour), Source: "billing", Account: a.ID,
			Body: &event.InvoiceAdjusted{AdjustmentID: g.id("adj"), InvoiceID: invoiceID, Type: event.Credit, Currency: a.Currency, Amount: amt / 1000 * 100, Reason: "billing correction"}})
		amt -= amt / 1000 * 100 // a tenth, in whole cents
	}
	if g.r.Float64() < 0.02+0.03*risk {
		g.dispute(a, invoiceID, amt, at)
		if g.r.IntN(2) == 0 {
			return // the disputer waits for the outcome
		}
	}

	u := g.r.Float64()
	switch {
	case u < 0.85*(1-risk)+0.05: // pays on time (a few days before due)
		g.pay(a, dueAt.Add(-time.Duration(g.r.IntN(terms*24))*time.Hour), amt, invoiceID)
	case u < 0.85*(1-risk)+0.05+0.6*risk*(1-risk)+0.1: // pays late, later for riskier
		late := 1 + int(float64(g.r.IntN(40))*risk) + g.r.IntN(10)
		p := g.pay(a, dueAt.Add(time.Duration(late)*24*time.Hour), amt, invoiceID)
		if g.r.Float64() < 0.08*risk { // the payment bounces
			g.later(event.Event{ID: g.id("rev"), Time: p.Add(time.Duration(2+g.r.IntN(4)) * 24 * time.Hour), Source: "gateway", Account: a.ID,
				Body: &event.PaymentReversed{PaymentID: lastPayment(g), Reason: "BOUNCED"}})
		}
	case u < 0.92: // partial now, the rest later or never
		part := amt / 2 / 100 * 100
		g.pay(a, dueAt.Add(time.Duration(g.r.IntN(10))*24*time.Hour), part, "")
		if g.r.Float64() > risk {
			g.pay(a, dueAt.Add(time.Duration(15+g.r.IntN(20))*24*time.Hour), amt-part, "")
		}
	default: // does not pay: some promise, some get a plan, some never pay
		switch v := g.r.Float64(); {
		case v < 0.35:
			g.promise(a, dueAt.Add(time.Duration(8+g.r.IntN(6))*24*time.Hour), amt)
		case v < 0.55:
			g.plan(a, dueAt.Add(time.Duration(26+g.r.IntN(6))*24*time.Hour), amt)
		}
	}
}

// pay schedules a payment and returns its time.
func (g *Generator) pay(a *Account, at time.Time, amt event.Amount, invoice string) time.Time {
	if amt <= 0 {
		return at
	}
	id := g.id("pay")
	var inv []string
	if invoice != "" && g.r.IntN(3) == 0 {
		inv = []string{invoice}
	}
	method := []string{"card", "direct_debit", "bank_transfer", "cash"}[g.r.IntN(4)]
	g.later(event.Event{ID: id, Time: at, Source: "gateway", Account: a.ID, Body: &event.PaymentReceived{
		PaymentID: "PAY-" + id, Currency: a.Currency, Amount: amt, Method: method, InvoiceIDs: inv}})
	g.lastPay = "PAY-" + id
	return at
}

func lastPayment(g *Generator) string { return g.lastPay }

// promise: the customer promises to pay in a week; kept unless risk says no.
func (g *Generator) promise(a *Account, at time.Time, amt event.Amount) {
	due := at.Add(7 * 24 * time.Hour)
	id := g.id("ptp")
	g.later(event.Event{ID: id, Time: at, Source: "crm", Account: a.ID, Body: &event.ArrangementCreated{
		ArrangementID: "PTP-" + id, Type: event.Promise, Currency: a.Currency,
		Installments: []event.Installment{{DueDate: event.DateOf(due), Amount: amt}}}})
	if g.r.Float64() > a.LatentRisk*0.8 {
		g.pay(a, due.Add(-time.Duration(g.r.IntN(72))*time.Hour), amt, "")
	}
}

// plan: three monthly installments; each paid unless risk says no.
func (g *Generator) plan(a *Account, at time.Time, amt event.Amount) {
	id := g.id("plan")
	third := amt / 3 / 100 * 100
	ins := []event.Installment{}
	for i := 1; i <= 3; i++ {
		v := third
		if i == 3 {
			v = amt - 2*third
		}
		ins = append(ins, event.Installment{DueDate: event.DateOf(at.AddDate(0, i, 0)), Amount: v})
	}
	g.later(event.Event{ID: id, Time: at, Source: "crm", Account: a.ID, Body: &event.ArrangementCreated{
		ArrangementID: "PLAN-" + id, Type: event.InstallmentPlan, Currency: a.Currency, Installments: ins}})
	for _, in := range ins {
		if g.r.Float64() > a.LatentRisk*0.7 {
			g.pay(a, in.DueDate.Time().Add(-time.Duration(g.r.IntN(96))*time.Hour+10*time.Hour), in.Amount, "")
		} else {
			break
		}
	}
}

// dispute opens a dispute and resolves it 10-25 days later: upheld with a
// credit, or rejected and then paid late.
func (g *Generator) dispute(a *Account, invoice string, amt event.Amount, at time.Time) {
	id := g.id("dsp")
	open := at.Add(time.Duration(2+g.r.IntN(8)) * 24 * time.Hour)
	part := amt / 2 / 100 * 100
	g.later(event.Event{ID: id, Time: open, Source: "crm", Account: a.ID, Body: &event.DisputeOpened{
		DisputeID: "DSP-" + id, InvoiceID: invoice, Currency: a.Currency, Amount: part, Reason: "roaming charges"}})
	res := open.Add(time.Duration(10+g.r.IntN(15)) * 24 * time.Hour)
	if g.r.IntN(2) == 0 {
		g.later(event.Event{ID: g.id("dspr"), Time: res, Source: "crm", Account: a.ID, Body: &event.DisputeResolved{
			DisputeID: "DSP-" + id, Outcome: event.Upheld, CreditAmount: part}})
		g.pay(a, res.Add(time.Duration(1+g.r.IntN(10))*24*time.Hour), amt-part, invoice)
	} else {
		g.later(event.Event{ID: g.id("dspr"), Time: res, Source: "crm", Account: a.ID, Body: &event.DisputeResolved{
			DisputeID: "DSP-" + id, Outcome: event.Rejected}})
		if g.r.Float64() > a.LatentRisk {
			g.pay(a, res.Add(time.Duration(3+g.r.IntN(20))*24*time.Hour), amt, invoice)
		}
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return string(rune('0'+n/10)) + string(rune('0'+n%10))
}
