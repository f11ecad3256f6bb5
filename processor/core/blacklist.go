package core

import "time"

// Blacklisted is the status record's CRM flag: whether the policy that
// governs the account at now blacklists it (policy.Blacklist), from its
// collections status, its broken promises and whether anything is
// overdue. It is derived, never stored: a condition that no longer holds
// (the write-off recovered, the legal case closed, paid in full) ends it.
func (env *Env) Blacklisted(st *State, now time.Time) bool {
	p := env.policy(st, now)
	if p == nil {
		return false
	}
	_, overdue := st.Ledger.OldestOverdue(now)
	return p.Blacklist.Blacklists(st.collectionsStatus(), int(st.Ledger.Counters().BrokenPromises), overdue)
}
