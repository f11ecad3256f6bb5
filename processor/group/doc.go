// Package group is the pure core of collections groups (docs/processing.md
// "Collections groups"): an account's contribution to its parent group, the
// records of the internal group-contributions topic, and a group node's
// aggregate (each child's latest contribution and their totals) with the
// decision of what the node forwards to its own parent. It does no IO: the
// shell (processor/group*.go) reads and writes Kafka and Redis.
package group
