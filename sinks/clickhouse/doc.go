// Package chsink is the ClickHouse sink: its own Kafka consumer group
// (read_committed) over the accepted-events topic (ar.events.accepted) and
// the processor's output topics (actions, risk, status, gl, dlq), the
// published policy versions and, when it exists, the group stage's changelog
// (group exposure history, groups.go). It never
// reads the raw input topics: the processor copies, inside its Kafka
// transaction, exactly the input records it applied to the accepted topic
// (value unchanged; headers src_topic, src_partition, src_offset name the
// input), so a record the processor rejected goes to ar.dlq only and can
// never land in a fact table. Rows keep the input's coordinates from those
// headers, so the events table and the timeline point at the original
// input offset.
//
// It decodes each record with the schemas codec, turns it into rows of the
// analytics tables (analytics.EventRows, ActionRow, ...), buffers them per
// table and inserts each table's rows as one batch with an explicit column
// list when the buffer holds Config.BatchRows rows or Config.FlushInterval
// has passed since the first buffered record.
//
// Offsets are committed only after ClickHouse acknowledged every insert of
// the flush, so a crash re-delivers at most one flush; the tables are
// ReplacingMergeTree keyed by record identity, so re-delivery is harmless
// (read with FINAL). One classifier (errors.go: classify) decides every
// error: transient (ClickHouse or Kafka unavailable, network, the schema
// registry) is retried with exponential backoff and a metric while fetching
// is paused, never dead-lettered; a record that is bad itself (does not
// decode, its row is refused as data) is dead-lettered once and skipped;
// configuration and credentials errors stop Run. Dead letters are built by
// event.NewDeadLetter, bounded by Config.DLQMaxPayload, so one always fits
// a Kafka record; records read from the DLQ topic itself are never
// re-dead-lettered (logged and counted), so a bad dead letter cannot loop.
// Stalled reports records waiting longer than Config.StallTimeout without a
// commit, for /readyz.
//
// The whole data path is in sink.go: poll -> decode -> buffer -> insert ->
// dead-letter (deadletter.go) -> commit. tooling.go exports the decoder for
// `arrears bench`. The package does network IO (Kafka, ClickHouse).
package chsink
