package policy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// Load parses and validates one policy; file names it in errors. On failure
// the error is an Errors listing every problem found. The format (see
// deploy/policies for complete files):
//
//	name: postpaid-standard          # required, unique in a Set
//	description: free text
//	selection:
//	  segments: [postpaid]           # required: prepaid|postpaid|corporate|wholesale
//	  credit_classes: [standard]     # optional; empty matches any
//	  risk_tiers: [LOW, MEDIUM]      # optional; empty matches any
//	  priority: 10                   # optional tie-break, higher wins
//	min_overdue: {EUR: "5.00"}       # required; every currency used below must be here
//	grace_days: 3
//	contact:
//	  quiet_hours: "21:00-08:00"     # or {window: "21:00-08:00", channels: [sms, push]}
//	  holidays: [2024-12-25]         # local days without any contact
//	  closed_weekdays: {letter: [sunday]}
//	  cap: {max: 3, days: 7}         # at most 3 contacts per rolling 7 days
//	stages:                          # ordered; days_past_due never decreases
//	  - name: reminder
//	    days_past_due: 4             # of the oldest unpaid, non-disputed item
//	    min_overdue: {EUR: "20.00"}  # optional extra threshold
//	    min_invoices: 1              # optional
//	    risk_tiers: [HIGH]           # optional: other tiers skip the stage
//	    actions:
//	      - {type: notify, channel: email, template: reminder, fallback: [sms]}
//	      - {type: agent_task, queue: collections, priority: 2}
//	      - {type: suspend}          # also bar_outgoing, throttle, restore, legal
//	      - {type: agency, agency: acme-collect}
//	      - {type: write_off}        # writes off the overdue amount (GL entry)
//	      - {type: fee, amount: "5.00", currency: EUR}   # GL entry + debit note
//	      - {type: manual_review, queue: review}
//	arrangements: {grace_days: 3, resume_stage: suspension, restore_on_plan: true, restore_on_promise: false}
//	disputes: {grace_days: 7}        # after a rejected dispute
//	reversals: {resume_stage: final_notice}
//	exemptions: {flags: [VIP, GOVERNMENT], queue: manual_review}
//	gl: {receivables: "1200", fee_income: "4100", bad_debt: "6800", bad_debt_recovery: "4900"}
//	                                 # bad_debt_recovery: credited by cash recovered after a write-off
//	                                 # (default: bad_debt, i.e. the write-off's expense is reversed)
//	challenger: {experiment: EXP-2026-12, policy: postpaid-soft, share: 0.10}
//	                                 # champion/challenger: experiment.go
//	group: {level: group}            # account (default) | group: collections groups dunned at their top (group.go)
func Load(data []byte, file string) (*Policy, error) {
	file = cmp.Or(file, "policy")
	root, err := strictyaml.Parse(data, file)
	if err != nil {
		return nil, Errors{err.(*ConfigError)} // Parse fails only with a *ConfigError
	}
	p := &parser{Reader: strictyaml.Reader{File: file}}
	pol := p.policy(strictyaml.Deref(root))
	if err := p.Err(); err != nil {
		return nil, err
	}
	v, err := version(root)
	if err != nil {
		return nil, Errors{{File: file, Msg: "canonical form: " + err.Error()}}
	}
	pol.Version = v
	return pol, nil
}

// version hashes the canonical form: the document decoded and re-encoded,
// which sorts mapping keys and drops comments and layout.
func version(root *yaml.Node) (string, error) {
	var v any
	if err := root.Decode(&v); err != nil {
		return "", err
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6]), nil
}

var topFields = []string{"name", "description", "selection", "min_overdue", "grace_days", "contact",
	"stages", "arrangements", "disputes", "reversals", "exemptions", "gl", "challenger", "finance", "blacklist", "group"}

func (p *parser) policy(root *yaml.Node) *Policy {
	pol := &Policy{
		MinOverdue: map[event.Currency]event.Amount{},
		GL:         GLAccounts{Receivables: "accounts_receivable", FeeIncome: "fee_income", BadDebt: "bad_debt_expense"},
	}
	curLines := map[event.Currency]*yaml.Node{}
	have := map[string]*yaml.Node{}
	for _, e := range p.mapping(root, "", topFields) {
		have[e.Key] = e.KeyNode
		switch e.Key {
		case "name":
			pol.Name, _ = p.nonEmpty(e.Value, "name")
		case "description":
			pol.Description, _ = p.str(e.Value, "description")
		case "selection":
			pol.Selection = p.selection(e.Value)
		case "min_overdue":
			pol.MinOverdue = p.amounts(e.Value, "min_overdue", curLines)
			if len(pol.MinOverdue) == 0 {
				p.Errorf(e.Value, "min_overdue", "needs at least one currency")
			}
		case "grace_days":
			pol.GraceDays, _ = p.integer(e.Value, "grace_days", 0, 3650)
		case "contact":
			pol.Contact = p.contact(e.Value)
		case "stages":
			pol.Stages = p.stages(e.Value)
		case "arrangements":
			pol.Arrangements = p.arrangements(e.Value)
		case "disputes":
			for _, d := range p.mapping(e.Value, "disputes", []string{"grace_days"}) {
				pol.Disputes.GraceDays, _ = p.integer(d.Value, "disputes.grace_days", 0, 3650)
			}
		case "reversals":
			for _, r := range p.mapping(e.Value, "reversals", []string{"resume_stage"}) {
				pol.Reversals.ResumeStage, _ = p.nonEmpty(r.Value, "reversals.resume_stage")
				p.ref("reversals.resume_stage", r.Value)
			}
		case "exemptions":
			pol.Exemptions = p.exemptions(e.Value)
		case "gl":
			p.gl(e.Value, &pol.GL)
		case "challenger":
			pol.Challenger = p.challenger(e.Value) // experiment.go
		case "finance":
			pol.Finance = p.finance(e.Value) // finance.go
		case "group":
			pol.Group = p.group(e.Value) // group.go
		case "blacklist":
			pol.Blacklist = p.blacklist(e.Value) // blacklist.go
		}
	}
	for _, req := range []string{"name", "selection", "min_overdue", "stages"} {
		if have[req] == nil {
			p.Errorf(root, req, "is required")
		}
	}
	p.crossCheck(pol, root, have, curLines)
	p.checkFinance(pol)
	return pol
}

func (p *parser) selection(n *yaml.Node) Selection {
	var s Selection
	var segNode *yaml.Node
	for _, e := range p.mapping(n, "selection", []string{"segments", "credit_classes", "risk_tiers", "priority"}) {
		field := strictyaml.Join("selection", e.Key)
		switch e.Key {
		case "segments":
			segNode = e.Value
			for i, c := range p.sequence(e.Value, field) {
				v, ok := p.str(c, strictyaml.Index(field, i))
				if !ok {
					continue
				}
				if seg := event.Segment(v); seg.Valid() {
					s.Segments = append(s.Segments, seg)
				} else {
					p.Errorf(c, strictyaml.Index(field, i), "unknown segment %q (want prepaid, postpaid, corporate or wholesale)", v)
				}
			}
		case "credit_classes":
			s.CreditClasses = p.strings(e.Value, field)
		case "risk_tiers":
			s.RiskTiers = p.strings(e.Value, field)
		case "priority":
			s.Priority, _ = p.integer(e.Value, field, -1000000, 1000000)
		}
	}
	if segNode == nil && strictyaml.Deref(n) != nil && strictyaml.Deref(n).Kind == yaml.MappingNode {
		p.Errorf(n, "selection.segments", "is required")
	} else if segNode != nil && len(s.Segments) == 0 && len(p.sequence(segNode, "selection.segments")) == 0 {
		p.Errorf(segNode, "selection.segments", "needs at least one segment")
	}
	return s
}

func (p *parser) arrangements(n *yaml.Node) ArrangementRules {
	var a ArrangementRules
	for _, e := range p.mapping(n, "arrangements", []string{"grace_days", "resume_stage", "restore_on_plan", "restore_on_promise"}) {
		field := strictyaml.Join("arrangements", e.Key)
		switch e.Key {
		case "grace_days":
			a.GraceDays, _ = p.integer(e.Value, field, 0, 3650)
		case "resume_stage":
			a.ResumeStage, _ = p.nonEmpty(e.Value, field)
			p.ref(field, e.Value)
		case "restore_on_plan":
			a.RestoreOnPlan, _ = p.boolean(e.Value, field)
		case "restore_on_promise":
			a.RestoreOnPromise, _ = p.boolean(e.Value, field)
		}
	}
	return a
}

func (p *parser) exemptions(n *yaml.Node) ExemptionRules {
	x := ExemptionRules{Queue: "manual_review"}
	for _, e := range p.mapping(n, "exemptions", []string{"flags", "queue"}) {
		field := strictyaml.Join("exemptions", e.Key)
		switch e.Key {
		case "flags":
			x.Flags = p.strings(e.Value, field)
		case "queue":
			x.Queue, _ = p.nonEmpty(e.Value, field)
		}
	}
	return x
}

func (p *parser) gl(n *yaml.Node, g *GLAccounts) {
	for _, e := range p.mapping(n, "gl", []string{"receivables", "fee_income", "bad_debt", "bad_debt_recovery"}) {
		field := strictyaml.Join("gl", e.Key)
		v, ok := p.nonEmpty(e.Value, field)
		if !ok {
			continue
		}
		switch e.Key {
		case "receivables":
			g.Receivables = v
		case "fee_income":
			g.FeeIncome = v
		case "bad_debt":
			g.BadDebt = v
		case "bad_debt_recovery":
			g.BadDebtRecovery = v
		}
	}
}

// crossCheck validates what spans sections: stage references and currency
// thresholds.
func (p *parser) crossCheck(pol *Policy, root *yaml.Node, have map[string]*yaml.Node, curLines map[event.Currency]*yaml.Node) {
	ref := func(name, field string) {
		if name != "" && pol.StageIndex(name) < 0 {
			p.Errorf(p.refs[field], field, "unknown stage %q", name)
		}
	}
	ref(pol.Arrangements.ResumeStage, "arrangements.resume_stage")
	ref(pol.Reversals.ResumeStage, "reversals.resume_stage")
	if have["min_overdue"] == nil {
		return // already reported; avoid one error per stage
	}
	for i, st := range pol.Stages {
		for _, c := range sortedCurrencies(st.MinOverdue) {
			if _, ok := pol.MinOverdue[c]; !ok {
				p.ErrorfAt(st.Line, strictyaml.Index("stages", i)+".min_overdue."+string(c),
					"currency %s has no threshold in min_overdue", c)
			}
		}
		for j, a := range st.Actions {
			if a.Type != event.ActionFee {
				continue
			}
			if _, ok := pol.MinOverdue[a.Currency]; a.Currency != "" && !ok {
				p.ErrorfAt(st.Line, strictyaml.Index(strictyaml.Index("stages", i)+".actions", j)+".currency",
					"fee currency %s has no threshold in min_overdue", a.Currency)
			}
		}
	}
}
