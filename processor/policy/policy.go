package policy

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Policy is one validated dunning policy. It is immutable after Load and
// safe to share between goroutines.
type Policy struct {
	Name        string
	Description string
	// Version is the content hash of the canonical YAML (12 hex digits).
	Version   string
	Selection Selection
	// MinOverdue is the smallest overdue amount (net of disputes) that is
	// dunned, per currency. An account's overdue amount in a currency the
	// policy does not list is never dunned by this policy.
	MinOverdue map[event.Currency]event.Amount
	// GraceDays: no stage is entered while days past due <= GraceDays.
	GraceDays int
	Contact   ContactRules
	Stages    []Stage
	// Arrangements governs promises to pay and installment plans.
	Arrangements ArrangementRules
	// Disputes governs what happens after a dispute is resolved.
	Disputes DisputeRules
	// Reversals governs a payment reversal.
	Reversals ReversalRules
	// Exemptions lists the account flags that route to manual review.
	Exemptions ExemptionRules
	// GL names the general-ledger accounts of fee and write-off entries.
	GL GLAccounts
	// Finance: agencies, legal, late interest, provisions (finance.go).
	Finance Finance
	// Blacklist says when the status record's blacklisted flag is set
	// (blacklist.go).
	Blacklist Blacklist
	// Challenger, when set, runs a champion/challenger experiment on the
	// accounts this policy selects (experiment.go).
	Challenger *Challenger
	// Group says whether collections groups are dunned at their top
	// account (group.go).
	Group GroupRules
}

// Selection says which accounts a policy applies to. Empty CreditClasses
// or RiskTiers match any value.
type Selection struct {
	Segments      []event.Segment
	CreditClasses []string
	RiskTiers     []string
	// Priority breaks ties between equally specific policies (higher wins).
	Priority int
}

// ContactRules restrict when a NOTIFY may reach the customer. A contact
// that is not allowed is deferred to the next allowed instant, never
// dropped.
type ContactRules struct {
	// QuietHours, when set, forbid contacts on QuietChannels inside the
	// daily window, in the account's time zone.
	QuietHours    *Window
	QuietChannels []event.Channel
	// Holidays are local calendar days with no contact on any channel.
	Holidays []event.Date
	// ClosedWeekdays lists, per channel, the weekdays on which that channel
	// is not used (e.g. no letters on Sunday).
	ClosedWeekdays map[event.Channel][]time.Weekday
	// Cap limits contacts to Cap.Max per rolling Cap.Days days (Max 0: none).
	Cap Cap
}

// Window is a daily local time window [Start, End) in minutes after
// midnight. Start > End wraps midnight (21:00-08:00).
type Window struct {
	Start, End int
}

// Cap is a contact cap: at most Max contacts in any rolling Days days.
type Cap struct {
	Max  int
	Days int
}

// Period is the cap's rolling window as a duration.
func (c Cap) Period() time.Duration { return time.Duration(c.Days) * 24 * time.Hour }

// Stage is one dunning step. It is entered when every condition is met;
// stages are ordered by DaysPastDue.
type Stage struct {
	Name string
	// DaysPastDue is the minimum days past due of the oldest unpaid item.
	DaysPastDue int
	// MinOverdue, per currency, is an extra overdue threshold (empty: none).
	MinOverdue map[event.Currency]event.Amount
	// MinInvoices is the minimum number of unpaid overdue invoices (0: none).
	MinInvoices int
	// RiskTiers, when not empty, limits the stage to accounts in these
	// tiers; other accounts skip it.
	RiskTiers []string
	Actions   []Action
	// Line is the stage's line in its file, for explanations and errors.
	Line int
}

// Action is one thing a stage does. Which fields are used depends on Type.
type Action struct {
	Type event.ActionType
	// Channel, Template and Fallback are for NOTIFY: when the customer has
	// not consented to Channel the first consented Fallback channel is
	// used; with none the notification is skipped (and explained).
	Channel  event.Channel
	Template string
	Fallback []event.Channel
	// Queue and Priority are for AGENT_TASK (and MANUAL_REVIEW).
	Queue    string
	Priority int32
	// Agency is the collections agency for AGENCY_PLACEMENT.
	Agency string
	// Amount and Currency are the FEE.
	Amount   event.Amount
	Currency event.Currency
}

// ArrangementRules: an active promise or installment plan pauses
// escalation until each installment's due date + GraceDays.
type ArrangementRules struct {
	GraceDays int
	// ResumeStage is where dunning resumes when an arrangement is broken
	// (empty: re-evaluate by days past due from the stage reached).
	ResumeStage string
	// RestoreOnPlan restores suspended, barred or throttled service when
	// an installment plan is created; RestoreOnPromise does so for a promise.
	RestoreOnPlan    bool
	RestoreOnPromise bool
}

// DisputeRules: after a rejected dispute dunning waits GraceDays before
// escalating again.
type DisputeRules struct {
	GraceDays int
}

// ReversalRules: a payment reversal that re-opens an account enters
// ResumeStage at once (empty: re-evaluate by days past due).
type ReversalRules struct {
	ResumeStage string
}

// ExemptionRules: an account carrying any of Flags gets one MANUAL_REVIEW
// action (to Queue) per stage instead of the stage's automatic actions.
type ExemptionRules struct {
	Flags []string
	Queue string
}

// GLAccounts are the ledger accounts used in GL entries.
type GLAccounts struct {
	Receivables string // debited by fees, credited by write-offs
	FeeIncome   string // credited by fees
	BadDebt     string // debited by write-offs
	// BadDebtRecovery is credited by cash recovered after a write-off
	// (the receivable is reinstated and settled by that cash). Empty: the
	// recovery reverses the write-off's expense, crediting BadDebt.
	BadDebtRecovery string
}

// RecoveryAccount is the account a recovery credits (BadDebtRecovery, else
// BadDebt).
func (g GLAccounts) RecoveryAccount() string {
	if g.BadDebtRecovery != "" {
		return g.BadDebtRecovery
	}
	return g.BadDebt
}

// StageIndex returns the index of the named stage, or -1.
func (p *Policy) StageIndex(name string) int {
	for i := range p.Stages {
		if p.Stages[i].Name == name {
			return i
		}
	}
	return -1
}

// ExemptFlag returns the first of flags that the policy routes to manual
// review, or "".
func (p *Policy) ExemptFlag(flags []string) string {
	for _, f := range flags {
		for _, g := range p.Exemptions.Flags {
			if f == g {
				return f
			}
		}
	}
	return ""
}

// Currencies returns the currencies the policy has thresholds for, sorted.
func (p *Policy) Currencies() []event.Currency {
	return sortedCurrencies(p.MinOverdue)
}
