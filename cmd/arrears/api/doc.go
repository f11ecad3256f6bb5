// Package api is the operator HTTP API of `arrears serve`, mounted at
// /api/v1: bearer-token authentication with roles (auth.go), per-token
// rate limits, problem+json errors (RFC 9457), the write routes that turn a
// collector's or supervisor's request into one event on ar.events keyed by
// the account (writes*.go, idempotent by Idempotency-Key), supervisor
// approvals of collectors' plans (approvals.go), read-your-writes waiting
// on the partition's applied offset (wait.go), an audit trail in ClickHouse
// (audit.go) and the read routes (reads*.go, worklist*.go).
//
// It does IO: Kafka (produce), Redis (account state, idempotency keys,
// approvals under its own key prefix) and ClickHouse (audit, history),
// each behind a small interface declared in server.go. The processor stays
// the single writer of account state: nothing here writes it.
package api
