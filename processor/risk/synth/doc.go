// Package synth generates synthetic labelled risk history: accounts with a
// latent default propensity, features drawn from it with noise, and a
// default label drawn from the true probability. Tests use it to check that
// the trainer recovers the signal; the workload generator can use it to
// give synthetic accounts plausible behaviour. It is pure and deterministic
// for a given Config.
package synth
