// Package varint is the one varint codec of arrears' binary state
// encodings (ledger accounts, dunning states, risk states and the core
// State envelope): appenders for unsigned and zigzag varints, strings and
// fixed 64-bit words, and a bounded Reader.
//
// The Reader never panics and never allocates more than its input allows:
// every length or count it returns was checked against the bytes left (a
// forged length fails instead of allocating), errors are sticky (after the
// first failure every read returns zero values), and Err names the first
// field that failed.
//
// It is pure: no IO.
package varint
