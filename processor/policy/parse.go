package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
)

// parser walks a yaml.Node tree and collects every error with its line.
type parser struct {
	file string
	errs Errors
	// refs holds the nodes of stage references, checked once stages are known.
	refs map[string]*yaml.Node
}

func (p *parser) ref(field string, n *yaml.Node) {
	if p.refs == nil {
		p.refs = map[string]*yaml.Node{}
	}
	p.refs[field] = n
}

func (p *parser) errf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ConfigError{File: p.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

type entry struct {
	key   string
	kn, v *yaml.Node
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// mapping returns the entries of a mapping node. Duplicate keys and, when
// allowed is not nil, unknown keys are reported and left out.
func (p *parser) mapping(n *yaml.Node, field string, allowed []string) []entry {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.errf(n, field, "must be a mapping")
		return nil
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode {
			p.errf(k, field, "keys must be scalars")
			continue
		}
		sub := join(field, k.Value)
		if seen[k.Value] {
			p.errf(k, sub, "defined twice")
			continue
		}
		seen[k.Value] = true
		if allowed != nil && !contains(allowed, k.Value) {
			p.errf(k, sub, "unknown field (want one of %s)", strings.Join(allowed, ", "))
			continue
		}
		out = append(out, entry{key: k.Value, kn: k, v: v})
	}
	return out
}

// sequence returns the items of a sequence node (an empty or null value is
// an empty sequence).
func (p *parser) sequence(n *yaml.Node, field string) []*yaml.Node {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		p.errf(n, field, "must be a list")
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		p.errf(n, field, "must be a string")
		return "", false
	}
	return n.Value, true
}

// nonEmpty is str that also rejects "".
func (p *parser) nonEmpty(n *yaml.Node, field string) (string, bool) {
	s, ok := p.str(n, field)
	if ok && strings.TrimSpace(s) == "" {
		p.errf(n, field, "must not be empty")
		return "", false
	}
	return s, ok
}

func (p *parser) integer(n *yaml.Node, field string, min, max int) (int, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errf(n, field, "must be an integer")
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil {
		p.errf(n, field, "must be an integer: %v", err)
		return 0, false
	}
	if v < int64(min) || v > int64(max) {
		p.errf(n, field, "%d out of range [%d, %d]", v, min, max)
		return 0, false
	}
	return int(v), true
}

func (p *parser) boolean(n *yaml.Node, field string) (bool, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errf(n, field, "must be true or false")
		return false, false
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		p.errf(n, field, "must be true or false: %v", err)
		return false, false
	}
	return b, true
}

func (p *parser) strings(n *yaml.Node, field string) []string {
	var out []string
	for i, c := range p.sequence(n, field) {
		if s, ok := p.nonEmpty(c, index(field, i)); ok {
			out = append(out, s)
		}
	}
	return out
}

// amount reads a decimal amount; a quoted string is preferred ("12.50")
// but a plain number is accepted as written.
func (p *parser) amount(n *yaml.Node, field string) (event.Amount, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		p.errf(n, field, "must be a decimal amount such as \"12.50\"")
		return 0, false
	}
	a, err := event.ParseAmount(n.Value)
	if err != nil {
		p.errf(n, field, "%v", err)
		return 0, false
	}
	if a < 0 {
		p.errf(n, field, "amount %s must not be negative", a)
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
		p.errf(n, field, "%q is not an ISO 4217 currency code", s)
		return "", false
	}
	return c, true
}

// amounts reads a currency -> amount mapping; lines maps each currency to
// its line for later checks.
func (p *parser) amounts(n *yaml.Node, field string, lines map[event.Currency]*yaml.Node) map[event.Currency]event.Amount {
	out := map[event.Currency]event.Amount{}
	for _, e := range p.mapping(n, field, nil) {
		sub := join(field, e.key)
		c := event.Currency(e.key)
		if !c.Valid() {
			p.errf(e.kn, sub, "%q is not an ISO 4217 currency code", e.key)
			continue
		}
		if a, ok := p.amount(e.v, sub); ok {
			out[c] = a
			if lines != nil {
				lines[c] = e.kn
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
	p.errf(n, field, "unknown channel %q (want email, sms, letter or push)", s)
	return "", false
}

func (p *parser) channels(n *yaml.Node, field string) []event.Channel {
	var out []event.Channel
	for i, c := range p.sequence(n, field) {
		if ch, ok := p.channel(c, index(field, i)); ok {
			out = append(out, ch)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedCurrencies(m map[event.Currency]event.Amount) []event.Currency {
	out := make([]event.Currency, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
