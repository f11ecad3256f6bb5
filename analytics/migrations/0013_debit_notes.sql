-- The debit notes the processor's core posts to its own ledger (docs/analytics.md
-- "Debit notes the core posts"): late-payment interest (INTEREST), dunning fees
-- (FEE) and legal fees (LEGAL_FEE). They are outputs, not input facts: the core
-- derives them from the account and its policy, so `arrears simulate` re-derives
-- them under each arm and the input tables (events, event_records) must not hold
-- them. The sink lands one row per ar.gl entry of those kinds, with the invoice
-- the note is on (the entry's description ends ", invoice <id>"); adjustment_id
-- is the ledger's ('fee-' || the entry's reference). A re-delivery collapses
-- under FINAL.
CREATE TABLE IF NOT EXISTS {db}.debit_notes (
    adjustment_id   String,
    account_id      String,
    invoice_id      String,
    note_time       DateTime('UTC'),
    kind            String,            -- INTEREST, FEE, LEGAL_FEE
    currency        String,
    amount          Decimal(18, 4),
    entry_id        String,
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(note_time)
ORDER BY (account_id, adjustment_id);
