// Package policy loads and selects dunning policies (DESIGN.md "Dunning").
//
// It is pure: no Kafka, Redis, ClickHouse, network or file IO. The caller
// reads a policy file and passes its bytes and name to Load (or several to
// LoadSet); Load validates everything at once and returns every problem as
// a *ConfigError with the file, line and field path, joined in Errors.
// Parsing and those errors come from processor/strictyaml, which also
// bounds the input (size, nesting, aliases expanded).
//
// A policy is YAML: who it applies to (selection: segments, optional credit
// classes and risk tiers, priority), the minimum overdue amount per currency
// (an account below it is not dunned), grace days, contact rules (quiet
// hours, business calendar, rolling contact cap), ordered stages with entry
// conditions and actions, and rules for arrangements, disputes, payment
// reversals and exemptions. See Load for the format and deploy/policies for
// complete examples.
//
// A policy's Version is the first 12 hex digits of the SHA-256 of its
// canonical form (the YAML re-encoded with sorted keys and no comments), so
// re-formatting or commenting a file keeps its version and any change of
// meaning makes a new one. A Set holds the loaded policies and picks one per
// account with Select.
//
// Published versions (versions.go, docs/policies.md "Lifecycle"): a Record
// is one version as the ar.policies topic carries it (YAML, version,
// effective_from); a Timeline orders every version over a base Set (the
// files) and gives the Set in force at an instant (At), which is what the
// core decides with. Diff compares two versions field by field.
package policy
