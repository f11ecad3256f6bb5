-- Published dunning policy versions (issue 14 item 1, docs/policies.md
-- "Lifecycle"), landed from ar.policies: one row per (name, version,
-- effective_from); a record repeats the policy's earlier versions, which
-- collapse here. effective_ms and applied_ms keep the instants to the
-- millisecond (the partition clock's unit; DateTime has seconds).
CREATE TABLE IF NOT EXISTS {db}.policies (
    name           String,
    version        String,
    effective_from DateTime('UTC'),
    effective_ms   Int64,
    applied_at     DateTime('UTC'),
    applied_ms     Int64,
    yaml           String,
    ingested_at    DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
ORDER BY (name, effective_ms, version);
