-- Risk feature snapshots: the risk features of an account after each change
-- (one row per account status record, computed by the sink from the state
-- the record carries), for `arrears risk train`'s labelled snapshots.
CREATE TABLE IF NOT EXISTS {db}.risk_features (
    account_id        String,
    snapshot_time     DateTime('UTC'),
    segment           String,
    days_past_due     Int32,
    overdue_ratio     Float64,
    utilisation       Float64,
    late_payments_12m Int32,
    avg_days_to_pay   Float64,
    reversals         Int32,
    broken_promises   Int32,
    disputes_opened   Int32,
    tenure_days       Int32,
    open_invoices     Int32,
    overdue_amount    Decimal(18, 4),
    oldest_due_date   Date,
    kafka_partition   Int32,
    kafka_offset      Int64,
    ingested_at       DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(snapshot_time)
ORDER BY (account_id, snapshot_time, kafka_partition, kafka_offset);
