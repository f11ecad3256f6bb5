// Package bench is `arrears bench`: it runs a generated workload through the
// real stack (Kafka, Redis, ClickHouse) with `arrears run` and `arrears sink`
// as child processes, and measures end-to-end throughput, the parts'
// ceilings on the same data and payment-to-action latency at half load.
//
// It owns the bench's Options, its Run and its Result. Each run lives in a
// private world on the shared services (its own topics, Redis prefix,
// consumer groups and ClickHouse database, see stack.go); each child is
// configured by a config.Config written to a YAML file passed with -config
// (child.go), and its /metrics are read with the Prometheus text parser
// (metrics.go). See docs/bench.md.
//
// It does IO of every kind: Kafka, Redis, ClickHouse, child processes, HTTP
// to the children and files for their configs, logs and profiles.
package bench
