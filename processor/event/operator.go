package event

import "time"

// The events below are written by people rather than by billing: the
// operator API (`arrears serve`, /api/v1) turns each collector or
// supervisor request into one of them on ar.events, keyed by the account,
// so the processor stays the single writer of account state. Their Source
// is "api:<actor>" (the token's name), which is how every decision they
// cause names who asked for it. Agencies and law firms report back with
// AgencyReturned and LegalCaseUpdated.

// ExemptionSet flags the account (e.g. "VIP", "DECEASED", "HARDSHIP"):
// while set, automatic dunning routes the account to manual review, as an
// exemption from AccountUpserted does. Until, when not zero, ends it.
type ExemptionSet struct {
	Exemption string
	Until     time.Time
	Reason    string
}

// ExemptionCleared removes a flag set by ExemptionSet or AccountUpserted.
type ExemptionCleared struct {
	Exemption string
	Reason    string
}

// ContactPreferencesChanged replaces the channels the customer consented
// to and, optionally, the one they prefer (empty: no preference).
type ContactPreferencesChanged struct {
	Consents  []Channel
	Preferred Channel
}

// CeaseContact records a cease-contact request (Active) or its withdrawal:
// while active no NOTIFY action reaches the customer; agent tasks and
// service actions continue.
type CeaseContact struct {
	Active bool
	Reason string
}

// CallOutcome is how a collector's call ended.
type CallOutcome uint8

const (
	CallReached CallOutcome = iota + 1
	CallNoAnswer
	CallWrongNumber
	CallRefused
	CallPromised
)

var callOutcomeNames = [...]string{"UNKNOWN", "REACHED", "NO_ANSWER", "WRONG_NUMBER", "REFUSED", "PROMISED"}

func (o CallOutcome) String() string {
	if int(o) < len(callOutcomeNames) {
		return callOutcomeNames[o]
	}
	return "UNKNOWN"
}

// CallOutcomes lists the valid outcomes in Avro symbol order.
func CallOutcomes() []CallOutcome {
	return []CallOutcome{CallReached, CallNoAnswer, CallWrongNumber, CallRefused, CallPromised}
}

// CallLogged records one call a collector made and its outcome.
type CallLogged struct {
	CallID  string
	Outcome CallOutcome
	Note    string
}

// CallbackScheduled is the customer asking to be called at At: it becomes
// an agent task due then (moved out of quiet hours, counted against the
// contact cap) in Queue, or the account's current queue when empty.
type CallbackScheduled struct {
	CallbackID string
	At         time.Time
	Queue      string
	Note       string
}

// NoteAdded is a free-text note on the account's timeline; it changes no
// decision.
type NoteAdded struct {
	NoteID string
	Text   string
}

// WriteOffRequested is a manual write-off approved by a person. Amount zero
// writes off the whole open balance in Currency.
type WriteOffRequested struct {
	WriteOffID string
	Currency   Currency
	Amount     Amount
	Reason     string
}

// AgencyRecalled takes the account back from its collection agency.
type AgencyRecalled struct {
	AgencyID string
	Reason   string
}

// AgencyOutcome is what an agency reports when it returns an account.
type AgencyOutcome uint8

const (
	AgencyRecovered AgencyOutcome = iota + 1
	AgencyPartiallyRecovered
	AgencyUncollectable
	AgencyDisputed
)

var agencyOutcomeNames = [...]string{"UNKNOWN", "RECOVERED", "PARTIALLY_RECOVERED", "UNCOLLECTABLE", "DISPUTED"}

func (o AgencyOutcome) String() string {
	if int(o) < len(agencyOutcomeNames) {
		return agencyOutcomeNames[o]
	}
	return "UNKNOWN"
}

// AgencyOutcomes lists the valid outcomes in Avro symbol order.
func AgencyOutcomes() []AgencyOutcome {
	return []AgencyOutcome{AgencyRecovered, AgencyPartiallyRecovered, AgencyUncollectable, AgencyDisputed}
}

// AgencyReturned is the agency handing the account back with its outcome.
type AgencyReturned struct {
	AgencyID string
	Outcome  AgencyOutcome
	Reason   string
}

// LegalStatus is a step of a legal case.
type LegalStatus uint8

const (
	LegalOpened LegalStatus = iota + 1
	LegalJudgement
	LegalSettled
	LegalClosed
)

var legalStatusNames = [...]string{"UNKNOWN", "OPENED", "JUDGEMENT", "SETTLED", "CLOSED"}

func (s LegalStatus) String() string {
	if int(s) < len(legalStatusNames) {
		return legalStatusNames[s]
	}
	return "UNKNOWN"
}

// LegalStatuses lists the valid statuses in Avro symbol order.
func LegalStatuses() []LegalStatus {
	return []LegalStatus{LegalOpened, LegalJudgement, LegalSettled, LegalClosed}
}

// LegalCaseUpdated reports a step of the legal case opened after a
// LEGAL_REFERRAL: OPENED (Reference is the court's), JUDGEMENT (Amount
// awarded), SETTLED (Amount agreed), CLOSED.
type LegalCaseUpdated struct {
	CaseID    string
	Status    LegalStatus
	Reference string
	Currency  Currency
	Amount    Amount
	Reason    string
}

// AccountErased is a right-to-erasure request (GDPR art. 17): the processor
// drops the account's state and timers and tombstones its status; the sink
// deletes its rows. Reason must not hold personal data.
type AccountErased struct{ Reason string }

func (*ExemptionSet) Kind() Kind              { return KindExemptionSet }
func (*ExemptionCleared) Kind() Kind          { return KindExemptionCleared }
func (*ContactPreferencesChanged) Kind() Kind { return KindContactPreferencesChanged }
func (*CeaseContact) Kind() Kind              { return KindCeaseContact }
func (*CallLogged) Kind() Kind                { return KindCallLogged }
func (*CallbackScheduled) Kind() Kind         { return KindCallbackScheduled }
func (*NoteAdded) Kind() Kind                 { return KindNoteAdded }
func (*WriteOffRequested) Kind() Kind         { return KindWriteOffRequested }
func (*AgencyRecalled) Kind() Kind            { return KindAgencyRecalled }
func (*AgencyReturned) Kind() Kind            { return KindAgencyReturned }
func (*LegalCaseUpdated) Kind() Kind          { return KindLegalCaseUpdated }
func (*AccountErased) Kind() Kind             { return KindAccountErased }
