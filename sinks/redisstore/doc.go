// Package redisstore keeps arrears' per-partition state in Redis (standalone
// or Redis Cluster) and implements processor.Store. It does network IO.
//
// Layout for partition N (every key carries the hash tag {pN}, so a
// partition's keys live in one slot and one Lua call updates them atomically):
//
//	arrears:{pN}:meta    hash: epoch, clock, changelog, off:<topic> (last applied input offset)
//	arrears:{pN}:acct    hash: account id -> encoded account state (compact binary)
//	arrears:{pN}:timers  sorted set: account id scored by its next wake-up (unix ms)
//
// Connections (config.go) take an ACL user, a password and TLS
// (redis.tls); an ACL user needs ~PREFIX:* and the commands the Lua scripts
// and the direct reads use, listed in docs/security.md. Connect fails at
// once on a refused login, a missing permission or an untrusted certificate
// (errors.go: Cause).
package redisstore
