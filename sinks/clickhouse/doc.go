// Package chsink is the ClickHouse sink: its own Kafka consumer group
// (read_committed) over ar.events and the output topics (actions, risk,
// status, gl, dlq). It decodes each record with the schemas codec, turns it
// into rows of the analytics tables (analytics.EventRows, ActionRow, ...),
// buffers them per table and inserts each table's rows as one batch with an
// explicit column list when the buffer holds Config.BatchRows rows or
// Config.FlushInterval has passed since the first buffered record.
//
// Offsets are committed only after ClickHouse acknowledged every insert of
// the flush, so a crash re-delivers at most one flush; the tables are
// ReplacingMergeTree keyed by record identity, so re-delivery is harmless
// (read with FINAL). An insert that fails for an infrastructure reason
// (network, server down, too many parts, unknown table...) is retried with
// exponential backoff while fetching is paused: the sink holds its position
// with at most one flush in memory and drains once ClickHouse is back.
// Records that do not decode, and rows ClickHouse (or the client encoder)
// rejects as data errors, are produced to the DLQ topic with the reason and
// their source topic/partition/offset, then skipped: they never block the
// pipeline. Records read from the DLQ topic itself are never re-dead-lettered
// (they are logged and counted instead), so a bad dead letter cannot loop.
//
// The whole data path is in sink.go: poll -> decode -> buffer -> insert ->
// dead-letter -> commit. The package does network IO (Kafka, ClickHouse).
package chsink
