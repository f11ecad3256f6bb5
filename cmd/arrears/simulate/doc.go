// Package simulate is `arrears simulate`: it replays the input history the
// sink landed in ClickHouse (table event_records: every accepted record's
// value, in the order each partition applied it) through the pure core
// twice, once under the active policies and once under a candidate, with
// the processor's partition clock semantics (processor/replay), and
// compares what each decided: actions by type and channel, contacts and
// their cost, suspensions, accounts reaching agency, legal and write-off,
// mean days past due at first contact and contact-rule deferrals; with
// Options.Historical it also estimates each arm's cures and cash from the
// last-touch cure rates the active replay observed (response.go,
// ResponseMethod).
//
// It owns the comparison (Run, Summary, Result and their table and JSON
// forms), its Config (simulate.contact_cost) and the ClickHouse history
// reader (source.go). Run, the tally and the estimate are pure; source.go reads
// ClickHouse.
package simulate
