package dunning

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/policy"
)

// escalate enters the stages that are due. It walks the stages after the
// one reached: a stage whose day has not come stops the walk (and sets the
// wake-up); a stage whose day has come but whose other conditions (amount,
// invoices, risk tier) are not met is passed over; every other stage is
// entered. When several stages are entered at once (a first evaluation
// late in the ladder, a reversal, the end of a pause), only the
// notifications of the last of them that notifies are sent: one letter,
// not three, and never a suspension without its notice.
func (e *evaluator) escalate() {
	stages := e.pol.Stages
	e.unpause()
	cur := e.pol.StageIndex(e.st.Stage)
	var entered []int
	forced := -1
	if e.in.Trigger.Kind == event.KindPaymentReversed && e.pol.Reversals.ResumeStage != "" {
		if i := e.pol.StageIndex(e.pol.Reversals.ResumeStage); i > cur {
			e.st.Resume = e.pol.Reversals.ResumeStage
			e.note("payment reversed: resuming at stage %s", e.st.Resume)
		}
	}
	if e.st.Resume != "" {
		if i := e.pol.StageIndex(e.st.Resume); i >= 0 {
			// The named stage and those after it may run again, timed from now.
			kept := e.st.Actioned[:0]
			for _, name := range e.st.Actioned {
				if j := e.pol.StageIndex(name); j >= 0 && j < i {
					kept = append(kept, name)
				}
			}
			e.st.Actioned = kept
			e.st.ShiftDays = int32(max(e.dpd-stages[i].DaysPastDue, 0))
			entered, forced, cur = append(entered, i), i, i
		} else {
			e.note("resume stage %q not in policy %s: re-evaluating by days past due", e.st.Resume, e.pol.Name)
		}
		e.st.Resume = ""
	}
	eff := e.effectiveDPD()
	for i := cur + 1; i < len(stages); i++ {
		s := &stages[i]
		if eff < s.DaysPastDue || e.dpd <= e.pol.GraceDays {
			day := max(s.DaysPastDue+int(e.st.ShiftDays), e.pol.GraceDays+1)
			at := e.localMidnight(e.oldest + event.Date(day))
			e.wakeAt(at)
			if len(entered) == 0 {
				e.note("stage %s due at day %d past due (%s); now %d", s.Name, day, at.Format("2006-01-02 15:04 MST"), e.dpd)
			}
			break
		}
		if ok, why := e.met(s); !ok {
			e.note("stage %s passed over: %s", s.Name, why)
			continue
		}
		if e.groupHold(s) { // group_hold.go: a group condition holds it back
			break
		}
		entered = append(entered, i)
	}
	// Only the last entered stage that notifies sends its notifications.
	notifier := -1
	for _, i := range entered {
		for _, a := range stages[i].Actions {
			if a.Type == event.ActionNotify {
				notifier = i
			}
		}
	}
	last := -1
	if len(entered) > 0 {
		last = entered[len(entered)-1]
	}
	for _, i := range entered {
		e.enter(i, notifier >= 0 && i != notifier, i == last, i == forced)
	}
}

func (e *evaluator) effectiveDPD() int { return e.dpd - int(e.st.ShiftDays) }

// met checks a stage's conditions other than days past due.
func (e *evaluator) met(s *policy.Stage) (bool, string) {
	if len(s.MinOverdue) > 0 {
		ok := false
		for c, min := range s.MinOverdue {
			if e.overdue.get(c) >= min {
				ok = true
			}
		}
		if !ok {
			return false, fmt.Sprintf("overdue %s %s below the stage minimum", e.overdue.get(e.cur), e.cur)
		}
	}
	if s.MinInvoices > 0 && len(e.items) < s.MinInvoices {
		return false, fmt.Sprintf("%d unpaid invoices < %d", len(e.items), s.MinInvoices)
	}
	if len(s.RiskTiers) > 0 && !containsString(s.RiskTiers, e.in.RiskTier) {
		return false, fmt.Sprintf("risk tier %q not in %v", e.in.RiskTier, s.RiskTiers)
	}
	return true, ""
}

// conditions lists the values that met the stage's conditions.
func (e *evaluator) conditions(s *policy.Stage, forced bool) []event.Condition {
	cs := make([]event.Condition, 0, 4)
	dpdRule := ">= " + strconv.Itoa(s.DaysPastDue)
	if forced {
		dpdRule = "resumed at this stage"
	} else if e.st.ShiftDays > 0 {
		dpdRule = dpdRule + " + " + strconv.Itoa(int(e.st.ShiftDays)) + " (ladder resumed)"
	}
	cs = append(cs, event.Condition{Name: "days_past_due", Value: strconv.Itoa(e.dpd), Rule: dpdRule})
	if e.pol.GraceDays > 0 {
		// The grace days themselves, passed once days_past_due exceeds them.
		cs = append(cs, event.Condition{Name: "grace_days", Value: fmt.Sprint(e.pol.GraceDays), Rule: fmt.Sprintf("< days_past_due %d", e.dpd)})
	}
	overdue := e.overdue.get(e.cur).String() + " " + string(e.cur)
	cs = append(cs, event.Condition{Name: "overdue_amount", Value: overdue,
		Rule: ">= " + e.pol.MinOverdue[e.cur].String() + " (policy minimum)"})
	if min, ok := s.MinOverdue[e.cur]; ok {
		cs = append(cs, event.Condition{Name: "overdue_amount", Value: overdue,
			Rule: ">= " + min.String() + " (stage minimum)"})
	}
	if s.MinInvoices > 0 {
		cs = append(cs, event.Condition{Name: "unpaid_invoices", Value: fmt.Sprint(len(e.items)), Rule: fmt.Sprintf(">= %d", s.MinInvoices)})
	}
	if len(s.RiskTiers) > 0 {
		cs = append(cs, event.Condition{Name: "risk_tier", Value: e.in.RiskTier, Rule: "in " + strings.Join(s.RiskTiers, ",")})
	}
	return e.groupHoldConditions(s, e.groupConditions(cs)) // group.go, group_hold.go
}

// reason is the one-line explanation carried by a stage's actions.
func (e *evaluator) reason(s *policy.Stage, conds []event.Condition) string {
	var stack [256]byte
	b := append(stack[:0], e.policyRef()...)
	b = append(append(append(b, " stage "...), s.Name...), ": "...)
	for i, c := range conds {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(append(append(append(append(b, c.Name...), ' '), c.Value...), ' '), c.Rule...)
	}
	return string(b)
}

// enter moves the account to stage i and runs its actions unless they ran
// already in this episode. A superseded stage skips its notifications; an
// exempt account gets one MANUAL_REVIEW for the last stage entered.
func (e *evaluator) enter(i int, superseded, last, forced bool) {
	s := &e.pol.Stages[i]
	e.st.Stage, e.st.StageEntered = s.Name, e.now
	if e.st.actioned(s.Name) {
		e.note("stage %s reached again: its actions already ran in episode %d", s.Name, e.st.Episode)
		return
	}
	e.st.Actioned = append(e.st.Actioned, s.Name)
	conds := e.conditions(s, forced)
	reason := e.reason(s, conds)
	if flag := e.pol.ExemptFlag(e.in.Exemptions); flag != "" {
		if !last {
			e.note("stage %s entered (exempt %s, a later stage was entered too)", s.Name, flag)
			return
		}
		types := make([]string, len(s.Actions))
		for j, a := range s.Actions {
			types[j] = string(a.Type)
		}
		a := e.action(s.Name, 0, e.now, event.ActionManualReview, conds,
			fmt.Sprintf("exemption %s: %s; automatic actions withheld: %s", flag, reason, strings.Join(types, ",")))
		a.Queue = e.pol.Exemptions.Queue
		e.emit(a)
		e.note("stage %s entered: exempt (%s), manual review", s.Name, flag)
		return
	}
	e.note("stage %s entered", s.Name)
	for j := range s.Actions {
		e.stageAction(s, j, superseded, conds, reason)
	}
}

// severity orders service restrictions; dunning never loosens one except
// by RESTORE.
func severity(s ServiceState) int {
	switch s {
	case ServiceThrottled:
		return 1
	case ServiceBarred:
		return 2
	case ServiceSuspended:
		return 3
	}
	return 0
}

func (e *evaluator) stageAction(s *policy.Stage, j int, superseded bool, conds []event.Condition, reason string) {
	pa := &s.Actions[j]
	if e.groupWithheld(s.Name, pa.Type) { // group.go: dunned by its group's top
		return
	}
	switch pa.Type {
	case event.ActionNotify:
		if superseded {
			e.note("%s %s of stage %s not sent: a later stage was entered at the same time", pa.Type, pa.Channel, s.Name)
			return
		}
		if e.withPartner(s.Name) { // partner.go: the agency or the lawyers contact the customer
			return
		}
		e.notify(s, j, conds, reason)
	case event.ActionSuspend, event.ActionBarOutgoing, event.ActionThrottle:
		target := map[event.ActionType]ServiceState{
			event.ActionSuspend: ServiceSuspended, event.ActionBarOutgoing: ServiceBarred, event.ActionThrottle: ServiceThrottled,
		}[pa.Type]
		if severity(e.st.Service) >= severity(target) {
			e.groupOwn(target) // group.go
			e.note("%s of stage %s skipped: service already %s", pa.Type, s.Name, e.st.Service)
			return
		}
		e.emit(e.action(s.Name, j, e.now, pa.Type, conds, reason))
		e.st.Service = target
	case event.ActionRestore:
		if e.st.Service == ServiceActive || e.groupHeld() { // group.go
			return
		}
		e.emit(e.action(s.Name, j, e.now, pa.Type, conds, reason))
		e.st.Service = ServiceActive
	case event.ActionAgentTask, event.ActionManualReview:
		a := e.action(s.Name, j, e.now, pa.Type, conds, reason)
		a.Queue, a.Priority = pa.Queue, pa.Priority
		e.emit(a)
	case event.ActionAgency:
		e.place(s, j, conds, reason)
	case event.ActionLegal:
		e.referral(s, j, conds, reason)
	case event.ActionFee:
		e.fee(s, j, conds, reason)
	case event.ActionWriteOff:
		e.writeOff(s, j, conds, reason)
	default:
		e.emit(e.action(s.Name, j, e.now, pa.Type, conds, reason))
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
