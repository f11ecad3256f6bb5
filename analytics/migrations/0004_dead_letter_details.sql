-- Dead letters as event.NewDeadLetter builds them: the machine-readable
-- code (FUTURE_EVENT_TIME, KEY_MISMATCH, SINK_DECODE, ...) and the size,
-- SHA-256 (hex) and truncation of the rejected value; record_value holds at
-- most dlq.max_payload_bytes of it. ClickHouse 18.16 has no ADD COLUMN IF
-- NOT EXISTS: one column per statement, and Migrate takes "column already
-- exists" for done, so an interrupted run completes the next time.
ALTER TABLE {db}.dead_letters ADD COLUMN code String DEFAULT '' AFTER reason;
ALTER TABLE {db}.dead_letters ADD COLUMN value_size Int64 DEFAULT 0 AFTER record_value;
ALTER TABLE {db}.dead_letters ADD COLUMN value_sha256 String DEFAULT '' AFTER value_size;
ALTER TABLE {db}.dead_letters ADD COLUMN truncated UInt8 DEFAULT 0 AFTER value_sha256;
