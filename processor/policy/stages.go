package policy

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// actionTypes maps the YAML action names to event action types.
var actionTypes = map[string]event.ActionType{
	"notify":        event.ActionNotify,
	"agent_task":    event.ActionAgentTask,
	"suspend":       event.ActionSuspend,
	"bar_outgoing":  event.ActionBarOutgoing,
	"throttle":      event.ActionThrottle,
	"restore":       event.ActionRestore,
	"agency":        event.ActionAgency,
	"legal":         event.ActionLegal,
	"write_off":     event.ActionWriteOff,
	"fee":           event.ActionFee,
	"manual_review": event.ActionManualReview,
}

const actionTypeList = "notify, agent_task, suspend, bar_outgoing, throttle, restore, agency, legal, write_off, fee, manual_review"

// actionFields lists the fields each action type takes besides "type".
var actionFields = map[event.ActionType][]string{
	event.ActionNotify:       {"channel", "template", "fallback"},
	event.ActionAgentTask:    {"queue", "priority"},
	event.ActionManualReview: {"queue", "priority"},
	event.ActionAgency:       {"agency"},
	event.ActionFee:          {"amount", "currency"},
}

var stageFields = []string{"name", "days_past_due", "min_overdue", "min_invoices", "risk_tiers", "actions"}

func (p *parser) stages(n *yaml.Node) []Stage {
	items := p.sequence(n, "stages")
	if len(items) == 0 {
		p.Errorf(n, "stages", "needs at least one stage")
		return nil
	}
	out := make([]Stage, 0, len(items))
	seen := map[string]int{}
	prevDPD, prevName := -1, ""
	for i, item := range items {
		field := strictyaml.Index("stages", i)
		st, dpdNode := p.stage(item, field)
		if st.Name != "" {
			if first, dup := seen[st.Name]; dup {
				p.Errorf(item, strictyaml.Join(field, "name"), "duplicate stage name %q (first at stages[%d])", st.Name, first)
			} else {
				seen[st.Name] = i
			}
		}
		if dpdNode != nil {
			if st.DaysPastDue < prevDPD {
				p.Errorf(dpdNode, strictyaml.Join(field, "days_past_due"),
					"stages out of order: %d is before stage %q at %d (days past due must not decrease)",
					st.DaysPastDue, prevName, prevDPD)
			}
			prevDPD, prevName = st.DaysPastDue, st.Name
		}
		out = append(out, st)
	}
	return out
}

func (p *parser) stage(n *yaml.Node, field string) (Stage, *yaml.Node) {
	st := Stage{Line: n.Line}
	var dpdNode *yaml.Node
	have := map[string]bool{}
	for _, e := range p.mapping(n, field, stageFields) {
		sub := strictyaml.Join(field, e.Key)
		have[e.Key] = true
		switch e.Key {
		case "name":
			st.Name, _ = p.nonEmpty(e.Value, sub)
		case "days_past_due":
			if v, ok := p.integer(e.Value, sub, 0, 36500); ok {
				st.DaysPastDue, dpdNode = v, e.Value
			}
		case "min_overdue":
			st.MinOverdue = p.amounts(e.Value, sub, nil)
		case "min_invoices":
			st.MinInvoices, _ = p.integer(e.Value, sub, 0, 1000000)
		case "risk_tiers":
			st.RiskTiers = p.strings(e.Value, sub)
		case "actions":
			items := p.sequence(e.Value, sub)
			if len(items) == 0 {
				p.Errorf(e.Value, sub, "needs at least one action")
			}
			for j, a := range items {
				if act, ok := p.action(a, strictyaml.Index(sub, j)); ok {
					st.Actions = append(st.Actions, act)
				}
			}
		}
	}
	if strictyaml.Deref(n) != nil && strictyaml.Deref(n).Kind == yaml.MappingNode {
		for _, req := range []string{"name", "days_past_due", "actions"} {
			if !have[req] {
				p.Errorf(n, strictyaml.Join(field, req), "is required")
			}
		}
	}
	return st, dpdNode
}

func (p *parser) action(n *yaml.Node, field string) (Action, bool) {
	var a Action
	n = strictyaml.Deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.Errorf(n, field, "must be a mapping with a type")
		return a, false
	}
	// Find the type first so the other fields can be checked against it.
	var typeNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strictyaml.Deref(n.Content[i]).Value == "type" {
			typeNode = strictyaml.Deref(n.Content[i+1])
		}
	}
	if typeNode == nil {
		p.Errorf(n, strictyaml.Join(field, "type"), "is required (one of %s)", actionTypeList)
		return a, false
	}
	name, ok := p.str(typeNode, strictyaml.Join(field, "type"))
	if !ok {
		return a, false
	}
	t, ok := actionTypes[strings.ToLower(name)]
	if !ok {
		p.Errorf(typeNode, strictyaml.Join(field, "type"), "unknown action type %q (want one of %s)", name, actionTypeList)
		return a, false
	}
	a.Type = t
	good := true
	allowed := append([]string{"type"}, actionFields[t]...)
	have := map[string]bool{}
	for _, e := range p.mapping(n, field, allowed) {
		sub := strictyaml.Join(field, e.Key)
		have[e.Key] = true
		var ok bool
		switch e.Key {
		case "type":
			ok = true
		case "channel":
			a.Channel, ok = p.channel(e.Value, sub)
		case "template":
			a.Template, ok = p.nonEmpty(e.Value, sub)
		case "fallback":
			a.Fallback = p.channels(e.Value, sub)
			ok = true
		case "queue":
			a.Queue, ok = p.nonEmpty(e.Value, sub)
		case "priority":
			var v int
			v, ok = p.integer(e.Value, sub, 0, 1000)
			a.Priority = int32(v)
		case "agency":
			a.Agency, ok = p.nonEmpty(e.Value, sub)
		case "amount":
			a.Amount, ok = p.amount(e.Value, sub)
			if ok && a.Amount == 0 {
				p.Errorf(e.Value, sub, "fee amount must be > 0")
				ok = false
			}
		case "currency":
			a.Currency, ok = p.currency(e.Value, sub)
		}
		good = good && ok
	}
	var required []string
	switch t {
	case event.ActionNotify:
		required = []string{"channel", "template"}
	case event.ActionAgentTask:
		required = []string{"queue"}
	case event.ActionAgency:
		required = []string{"agency"}
	case event.ActionFee:
		required = []string{"amount", "currency"}
	}
	for _, r := range required {
		if !have[r] {
			p.Errorf(n, strictyaml.Join(field, r), "is required for %s", strings.ToLower(name))
			good = false
		}
	}
	for i, fb := range a.Fallback {
		if fb == a.Channel {
			p.Errorf(n, strictyaml.Index(strictyaml.Join(field, "fallback"), i), "fallback %q repeats the channel", fb)
			good = false
		}
	}
	if t == event.ActionManualReview && a.Queue == "" {
		a.Queue = "manual_review"
	}
	return a, good
}
