// Package analytics owns arrears' history in ClickHouse: the schema (versioned
// migrations embedded from migrations/*.sql, applied by Migrate and recorded
// in <database>.schema_migrations) and the collections analytics (named
// reports run by Report: aging, DSO, CEI, average days delinquent, roll rates,
// cure rate, promise-kept rate, disputes, write-offs, risk calibration and the
// account timeline), with table, CSV and JSON formatters.
//
// It does network IO (ClickHouse, native protocol). Every table is a
// ReplacingMergeTree keyed by the record's own id (event id, action id,
// (account, time, source offset) for status snapshots), so a replayed or
// re-delivered record replaces itself; reports read with FINAL, or argMax
// where only the latest value counts. DDL and queries stay within what
// ClickHouse 18.16 understands (no TTL, DateTime64, Map, window functions or
// CTE subqueries), so they run unchanged on 18.16 and on current releases.
//
// The sink that fills the tables lives in sinks/clickhouse; the formulas of
// the reports are documented in docs/analytics.md.
package analytics
