// Package faults is the churn and network-fault suite's harness: it builds
// the arrears binary, runs `arrears run` and `arrears sink` instances as child
// processes on a test's own topics, Redis prefix and ClickHouse database,
// starts private Kafka brokers it may SIGKILL (deploy/local/kafka-private.sh)
// and TCP fault proxies (toxiproxy, embedded) between the children and Kafka,
// Redis and ClickHouse, and compares what a disturbed run produced (dunning
// action ids, risk events, GL entries, final account states) with an
// undisturbed run of the same input.
//
// It does process, file and network IO and is imported only by its tests
// (faults_test.go). `make faults` runs the full-size suite (ARREARS_FAULTS=full);
// `go test ./processor/faults/` runs a reduced one. docs/processing.md has the
// last measured summary table.
package faults
