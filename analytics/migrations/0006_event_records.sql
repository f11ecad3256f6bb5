-- The accepted input records, value unchanged, in the order the processor
-- applied them: `arrears simulate` rebuilds every event exactly from
-- record_value (the events table's wide row is lossy: second precision,
-- some fields only in detail) and replays each partition in offset order.
-- kafka_partition and kafka_offset are the record's on the accepted-events
-- topic (the processing partition, and the order within it; the events
-- table keeps the original input's coordinates); event_ms is the event time
-- in Unix milliseconds (the partition clock's unit).
CREATE TABLE IF NOT EXISTS {db}.event_records (
    kafka_partition Int32,
    kafka_offset    Int64,
    event_time      DateTime('UTC'),
    event_ms        Int64,
    account_id      String,
    event_id        String,
    record_value    String,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (kafka_partition, kafka_offset);
