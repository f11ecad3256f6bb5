// Package workload generates a deterministic, realistic telecom receivables
// book for demos, benchmarks and simulations: accounts over the four
// segments, bill cycles, payments driven by a latent risk per account
// (on time, late, partial, never, bounced), promises and installment plans,
// disputes, credit notes, and ClockTick records so simulated months pass in
// minutes. It is pure (seeded math/rand, no IO) and streams: memory grows
// with accounts and pending events, not with the events generated.
package workload
