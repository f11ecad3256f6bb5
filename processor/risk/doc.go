// Package risk scores accounts for credit risk with a transparent logistic
// scorecard and decides when a score becomes a risk event
// (DESIGN.md "Risk").
//
// It is pure: no Kafka, Redis, ClickHouse, network or file IO. The processor
// fills Features from the ledger's counters, calls (*Scorecard).Score, then
// Decide with the account's State, emits the returned event.RiskEvent (if
// any) and stores the new State (MarshalBinary).
//
// A scorecard is YAML (see Load): an intercept, per-feature terms that are
// either a linear weight on a clamped, optionally log1p-transformed value,
// or bins [lower, upper) -> weight, per-segment offsets, ordered PD cut-offs
// naming the tiers, and a points scale for an integer score. The logit is
// exactly intercept + segment offset + the sum of the feature
// contributions, and the features with the largest positive contributions
// are the reason codes (DPD_HIGH, REVERSALS, BROKEN_PROMISES, ...). The
// version is a hash of the YAML. Load parses with processor/strictyaml
// (bounded input, known fields only) and stops at the first problem, a
// *ConfigError naming file, line and field.
//
// Subpackages: train fits a scorecard from labelled history (pure; the
// caller reads ClickHouse), synth generates synthetic labelled history for
// tests and workloads.
package risk
