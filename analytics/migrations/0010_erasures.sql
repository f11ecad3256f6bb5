-- The erasure audit (issue 13, right to erasure): one row per erasure the
-- sink carried out (sinks/clickhouse/erase.go). It holds no personal data:
-- the AccountErased event id, its time, source ("api:<actor>") and reason
-- code, the tables it deleted rows from with their counts, and the status
-- tombstone's partition and offset. Retention never drops it.
CREATE TABLE IF NOT EXISTS {db}.erasures (
    erasure_id      String,
    erased_at       DateTime('UTC'),
    source          String,
    reason          String,
    tables          Array(String),
    rows_deleted    Array(UInt64),
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (kafka_partition, kafka_offset);
