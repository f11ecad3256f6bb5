package core

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
)

// Explanation is a human account of an account's collections state: where
// it stands, what happens next and why. It is computed by a dry run of the
// very step the processor would take at the next wake-up.
type Explanation struct {
	Account     string
	AsOf        time.Time
	Status      event.AccountStatus
	Items       []string
	Policy      string // name@version, or "" when none applies
	NextAt      time.Time
	NextActions []event.DunningAction
	NextWhy     string
	Risk        *risk.Result
	Features    risk.Features
	// Operator is what collectors recorded: exemptions, consents, the
	// preferred channel, a cease-contact request, the last call,
	// call-backs (dunning.State.OperatorSummary).
	Operator []string
}

// Explain describes st as of now (the partition clock) without changing it.
func Explain(st *State, now time.Time, env *Env) Explanation {
	e := Explanation{Account: st.Account, AsOf: now, Status: st.Status(now),
		Operator: st.Dunning.OperatorSummary(env.zone(st.Ledger.Master().Timezone))}
	for _, it := range st.Ledger.Items() {
		if it.Open <= 0 {
			continue
		}
		dpd := int(event.DateOf(now) - it.DueDate)
		s := fmt.Sprintf("%s %s %s open of %s, due %s", it.InvoiceID, it.Currency, it.Open, it.Amount, it.DueDate)
		if dpd > 0 {
			s += fmt.Sprintf(" (%d days past due)", dpd)
		}
		if it.Disputed > 0 {
			s += fmt.Sprintf(", %s disputed", min(it.Disputed, it.Open))
		}
		e.Items = append(e.Items, s)
	}
	if pol := env.policy(st, now); pol != nil {
		e.Policy = pol.Name + "@" + pol.Version
	}
	if env != nil && env.Scorecard != nil && st.Ledger.Known() {
		e.Features = st.features(now)
		r := env.Scorecard.Score(e.Features)
		e.Risk = &r
	}
	if w := st.WakeAt(); !w.IsZero() {
		cp := *st
		cp.Ledger = *st.Ledger.Clone()
		at := w
		if at.Before(now) {
			at = now
		}
		out, _ := Wake(&cp, st.Account, at, env)
		e.NextAt, e.NextActions, e.NextWhy = at, out.Actions, out.Explanation
	}
	return e
}

// String renders the explanation for a terminal.
func (e Explanation) String() string {
	var b strings.Builder
	s := e.Status
	fmt.Fprintf(&b, "account %s as of %s\n", e.Account, e.AsOf.Format(time.RFC3339))
	fmt.Fprintf(&b, "  segment %s  service %s  stage %q  days past due %d", s.Segment, s.ServiceState, s.Stage, s.DaysPastDue)
	if s.Arrangement != "" {
		fmt.Fprintf(&b, "  arrangement %s", s.Arrangement)
	}
	if s.OnHold {
		b.WriteString("  ON HOLD")
	}
	if s.Closed {
		b.WriteString("  CLOSED")
	}
	b.WriteString("\n")
	for _, cb := range s.Balances {
		fmt.Fprintf(&b, "  %s open %s overdue %s disputed %s credit %s | aging current %s 1-30 %s 31-60 %s 61-90 %s 91-120 %s 120+ %s\n",
			cb.Currency, cb.Open, cb.Overdue, cb.Disputed, cb.Unapplied,
			cb.Aging[0], cb.Aging[1], cb.Aging[2], cb.Aging[3], cb.Aging[4], cb.Aging[5])
	}
	if len(e.Items) > 0 {
		b.WriteString("  open items:\n")
		for _, it := range e.Items {
			b.WriteString("    " + it + "\n")
		}
	}
	for _, line := range e.Operator {
		b.WriteString("  operator: " + line + "\n")
	}
	if e.Policy == "" {
		b.WriteString("  policy: none applies\n")
	} else {
		b.WriteString("  policy: " + e.Policy + "\n")
	}
	if e.NextAt.IsZero() {
		b.WriteString("  next: nothing scheduled\n")
	} else {
		fmt.Fprintf(&b, "  next: at %s\n", e.NextAt.Format(time.RFC3339))
		for _, a := range e.NextActions {
			fmt.Fprintf(&b, "    %s %s %s stage %q: %s\n", a.Type, a.Channel, a.Template, a.Stage, a.Reason)
		}
		if e.NextWhy != "" {
			b.WriteString("    why: " + e.NextWhy + "\n")
		}
	}
	if e.Risk != nil {
		b.WriteString(e.RiskString())
	}
	return b.String()
}

// RiskString renders the score and each feature's contribution to the logit.
func (e Explanation) RiskString() string {
	if e.Risk == nil {
		return "  risk: no scorecard\n"
	}
	r := e.Risk
	var b strings.Builder
	fmt.Fprintf(&b, "  risk: score %d  PD %.4f  tier %s  model %s\n", r.Score, r.PD, r.Tier, r.ModelVersion)
	fmt.Fprintf(&b, "    logit %.4f = intercept %.4f + segment %.4f", r.Logit, r.Intercept, r.SegmentOffset)
	type contrib struct {
		f risk.Feature
		c float64
	}
	cs := make([]contrib, 0, risk.NumFeatures)
	for f := risk.Feature(0); f < risk.NumFeatures; f++ {
		cs = append(cs, contrib{f, r.Contributions[f]})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].c > cs[j].c })
	b.WriteString(" + features:\n")
	for _, c := range cs {
		fmt.Fprintf(&b, "      %-18s value %-10.4g contribution %+.4f\n", c.f.String(), e.Features.Value(c.f), c.c)
	}
	for _, rc := range r.TopReasons() {
		fmt.Fprintf(&b, "    reason %s (%+.4f)\n", rc.Code, rc.Contribution)
	}
	return b.String()
}
