package policy

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// parser walks a policy and collects every problem with its line (see
// strictyaml.Reader). Its helpers return ok rather than the error, since
// Load reports them all at the end.
type parser struct {
	strictyaml.Reader
	// refs holds the nodes of stage references, checked once stages are known.
	refs map[string]*yaml.Node
}

func (p *parser) ref(field string, n *yaml.Node) {
	if p.refs == nil {
		p.refs = map[string]*yaml.Node{}
	}
	p.refs[field] = n
}

// mapping returns the entries of a mapping node; duplicate and, when
// allowed is not nil, unknown keys are reported and left out.
func (p *parser) mapping(n *yaml.Node, field string, allowed []string) []strictyaml.Entry {
	es, _ := p.Mapping(n, field, allowed)
	return es
}

// sequence returns the items of a sequence node (null is empty).
func (p *parser) sequence(n *yaml.Node, field string) []*yaml.Node {
	items, _ := p.Sequence(n, field)
	return items
}

// str reads any scalar but null and booleans as text.
func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	s, err := p.Text(n, field)
	return s, err == nil
}

// nonEmpty is str that also rejects "".
func (p *parser) nonEmpty(n *yaml.Node, field string) (string, bool) {
	s, ok := p.str(n, field)
	if ok && strings.TrimSpace(s) == "" {
		p.Errorf(n, field, "must not be empty")
		return "", false
	}
	return s, ok
}

func (p *parser) integer(n *yaml.Node, field string, min, max int) (int, bool) {
	v, err := p.Int(n, field, min, max)
	return v, err == nil
}

func (p *parser) boolean(n *yaml.Node, field string) (bool, bool) {
	b, err := p.Bool(n, field)
	return b, err == nil
}

func (p *parser) strings(n *yaml.Node, field string) []string {
	var out []string
	for i, c := range p.sequence(n, field) {
		if s, ok := p.nonEmpty(c, strictyaml.Index(field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// amount reads a decimal amount; a quoted string is preferred ("12.50")
// but a plain number is accepted as written.
func (p *parser) amount(n *yaml.Node, field string) (event.Amount, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		p.Errorf(n, field, "must be a decimal amount such as \"12.50\"")
		return 0, false
	}
	a, err := event.ParseAmount(n.Value)
	if err != nil {
		p.Errorf(n, field, "%v", err)
		return 0, false
	}
	if a < 0 {
		p.Errorf(n, field, "amount %s must not be negative", a)
		return 0, false
	}
	return a, true
}

func (p *parser) currency(n *yaml.Node, field string) (event.Currency, bool) {
	s, ok := p.str(n, field)
	if !ok {
		return "", false
	}
	c := event.Currency(s)
	if !c.Valid() {
		p.Errorf(n, field, "%q is not an ISO 4217 currency code", s)
		return "", false
	}
	return c, true
}

// amounts reads a currency -> amount mapping; lines maps each currency to
// its line for later checks.
func (p *parser) amounts(n *yaml.Node, field string, lines map[event.Currency]*yaml.Node) map[event.Currency]event.Amount {
	out := map[event.Currency]event.Amount{}
	for _, e := range p.mapping(n, field, nil) {
		sub := strictyaml.Join(field, e.Key)
		c := event.Currency(e.Key)
		if !c.Valid() {
			p.Errorf(e.KeyNode, sub, "%q is not an ISO 4217 currency code", e.Key)
			continue
		}
		if a, ok := p.amount(e.Value, sub); ok {
			out[c] = a
			if lines != nil {
				lines[c] = e.KeyNode
			}
		}
	}
	return out
}

func (p *parser) channel(n *yaml.Node, field string) (event.Channel, bool) {
	s, ok := p.str(n, field)
	if !ok {
		return "", false
	}
	switch ch := event.Channel(strings.ToLower(s)); ch {
	case event.Email, event.SMS, event.Letter, event.Push:
		return ch, true
	}
	p.Errorf(n, field, "unknown channel %q (want email, sms, letter or push)", s)
	return "", false
}

func (p *parser) channels(n *yaml.Node, field string) []event.Channel {
	var out []event.Channel
	for i, c := range p.sequence(n, field) {
		if ch, ok := p.channel(c, strictyaml.Index(field, i)); ok {
			out = append(out, ch)
		}
	}
	return out
}

func sortedCurrencies(m map[event.Currency]event.Amount) []event.Currency {
	out := make([]event.Currency, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
