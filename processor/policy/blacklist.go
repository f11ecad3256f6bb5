package policy

import (
	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/strictyaml"
)

// Blacklist is a policy's optional `blacklist:` section: when the status
// record's CRM flag `blacklisted` is set (issue 15 item 7,
// docs/policies.md "Blacklist"). The zero value never blacklists. The
// flag is derived from the account at every status, so each condition
// ends on its own:
//
//	blacklist:
//	  on: [written_off, legal]   # while written off (until payments recover it all),
//	                             # in a legal case (until it closes) or placed with an agency
//	  broken_promises: 2         # from the 2nd broken promise or missed installment,
//	                             # while anything is overdue (ends when paid in full)
type Blacklist struct {
	// On are the collections statuses that blacklist the account while it
	// is in them (core.CollectionsWrittenOff, CollectionsLegal,
	// CollectionsPlaced).
	On []string
	// BrokenPromises (0: off) blacklists an account whose broken promises
	// (over its lifetime) reached it, while it has an overdue amount.
	BrokenPromises int
}

// blacklistStatuses maps the YAML names to the collections statuses.
var blacklistStatuses = map[string]string{"written_off": "WRITTEN_OFF", "legal": "LEGAL", "placed": "PLACED"}

// Blacklists reports whether an account in collections status status,
// with broken broken promises and (overdue) something overdue, is
// blacklisted.
func (b *Blacklist) Blacklists(status string, broken int, overdue bool) bool {
	for _, s := range b.On {
		if s == status {
			return true
		}
	}
	return b.BrokenPromises > 0 && broken >= b.BrokenPromises && overdue
}

func (p *parser) blacklist(n *yaml.Node) Blacklist {
	var b Blacklist
	for _, e := range p.mapping(n, "blacklist", []string{"on", "broken_promises"}) {
		field := strictyaml.Join("blacklist", e.Key)
		switch e.Key {
		case "on":
			for i, c := range p.sequence(e.Value, field) {
				v, ok := p.str(c, strictyaml.Index(field, i))
				if !ok {
					continue
				}
				if s, ok := blacklistStatuses[v]; ok {
					b.On = append(b.On, s)
				} else {
					p.Errorf(c, strictyaml.Index(field, i), "unknown status %q (want written_off, legal or placed)", v)
				}
			}
		case "broken_promises":
			b.BrokenPromises, _ = p.integer(e.Value, field, 1, 1000)
		}
	}
	return b
}
