package api

import (
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// The write routes on contact and the operator's record: exemptions,
// contact preferences, cease-contact, calls, call-backs, notes, agency
// recalls.

func itoa(i int) string { return strconv.Itoa(i) }

var exemptionRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,31}$`)

// exemption checks a flag name such as VIP or HARDSHIP.
func (f *fieldErrs) exemption(field, s string) string {
	if !exemptionRE.MatchString(s) {
		f.add(field, "1 to 32 of A-Z 0-9 _, starting with a letter (VIP, HARDSHIP)")
	}
	return s
}

// maxCallbackDays bounds how far ahead a call-back may be booked.
const maxCallbackDays = 90

type exemptionReq struct {
	Exemption string `json:"exemption"`
	Until     string `json:"until"`
	Reason    string `json:"reason"`
}

func (q *exemptionReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	b := &event.ExemptionSet{Exemption: f.exemption("exemption", q.Exemption), Reason: f.text("reason", q.Reason, true, maxReasonBytes)}
	if q.Until != "" {
		b.Until = f.instant("until", q.Until, c.now, c.now.AddDate(10, 0, 0))
	}
	return b, nil
}

type clearExemptionReq struct {
	Reason string `json:"reason"`
}

func (q *clearExemptionReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	ex := f.exemption("exemption", c.r.PathValue("exemption"))
	f.text("reason", q.Reason, false, maxReasonBytes)
	if len(*f) > 0 {
		return nil, nil
	}
	if !slices.Contains(effectiveExemptions(&c.loaded.State, c.now), ex) {
		return nil, conflictErr{"the account has no such exemption"}
	}
	return &event.ExemptionCleared{Exemption: ex, Reason: q.Reason}, nil
}

// effectiveExemptions are the account's flags as the processor sees them
// at now (dunning's evaluator, operator_eval.go): the master flags less
// those an operator cleared while the master list was the one cleared
// from, plus the operator's flags whose Until has not passed.
func effectiveExemptions(st *core.State, now time.Time) []string {
	master := st.Ledger.Master().Exemptions
	o := st.Dunning.Operator
	if o == nil {
		return slices.Clone(master)
	}
	var flags []string
	for _, f := range master {
		if !slices.Contains(o.Cleared, f) || !slices.Equal(o.ClearedBase, master) {
			flags = append(flags, f)
		}
	}
	for _, x := range o.Exemptions {
		if (x.Until.IsZero() || x.Until.After(now)) && !slices.Contains(flags, x.Flag) {
			flags = append(flags, x.Flag)
		}
	}
	return flags
}

var channels = []string{string(event.Email), string(event.SMS), string(event.Letter), string(event.Push)}

type contactReq struct {
	Consents  []string `json:"consents"`
	Preferred string   `json:"preferred"`
}

func (q *contactReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	b := &event.ContactPreferencesChanged{Consents: []event.Channel{}}
	if q.Consents == nil {
		f.add("consents", "required (an empty list withdraws every consent)")
	}
	for i, ch := range q.Consents {
		at := "consents[" + itoa(i) + "]"
		if f.enum(at, ch, channels) >= 0 && slices.Contains(b.Consents, event.Channel(ch)) {
			f.add(at, "listed twice")
		}
		b.Consents = append(b.Consents, event.Channel(ch))
	}
	if q.Preferred != "" {
		if f.enum("preferred", q.Preferred, channels) >= 0 && !slices.Contains(q.Consents, q.Preferred) {
			f.add("preferred", "must be one of consents")
		}
		b.Preferred = event.Channel(q.Preferred)
	}
	return b, nil
}

type ceaseReq struct {
	Active *bool  `json:"active"`
	Reason string `json:"reason"`
}

func (q *ceaseReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	if q.Active == nil {
		f.add("active", "required: true records a cease-contact request, false withdraws it")
		return nil, nil
	}
	return &event.CeaseContact{Active: *q.Active, Reason: f.text("reason", q.Reason, true, maxReasonBytes)}, nil
}

func callOutcomeNames() []string {
	var ns []string
	for _, o := range event.CallOutcomes() {
		ns = append(ns, o.String())
	}
	return ns
}

type callReq struct {
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (q *callReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	o := f.enum("outcome", q.Outcome, callOutcomeNames())
	return &event.CallLogged{CallID: c.entityID, Outcome: event.CallOutcome(o + 1), Note: f.text("note", q.Note, false, maxNoteBytes)}, nil
}

type callbackReq struct {
	At    string `json:"at"`
	Queue string `json:"queue"`
	Note  string `json:"note"`
}

// build: a collector books call-backs into their own queues only (403).
func (q *callbackReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	b := &event.CallbackScheduled{CallbackID: c.entityID,
		At:    f.instant("at", q.At, c.now, c.now.Add(maxCallbackDays*24*time.Hour)),
		Queue: f.id("queue", q.Queue, false), Note: f.text("note", q.Note, false, maxNoteBytes)}
	if len(*f) == 0 && q.Queue != "" && !c.p.InQueue(q.Queue) {
		return nil, forbiddenErr{"the queue is not one of this token's queues"}
	}
	return b, nil
}

type noteReq struct {
	Text string `json:"text"`
}

func (q *noteReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	return &event.NoteAdded{NoteID: c.entityID, Text: f.text("text", q.Text, true, maxNoteBytes)}, nil
}

type recallReq struct {
	AgencyID string `json:"agency_id"`
	Reason   string `json:"reason"`
}

func (q *recallReq) build(c *writeCall, f *fieldErrs) (event.Body, error) {
	return &event.AgencyRecalled{AgencyID: f.id("agency_id", q.AgencyID, false), Reason: f.text("reason", q.Reason, true, maxReasonBytes)}, nil
}
