-- The processor's outputs: dunning actions, risk events, account status
-- snapshots, GL entries and dead letters. Same conventions as 0001.

CREATE TABLE IF NOT EXISTS {db}.dunning_actions (
    action_id       String,
    account_id      String,
    action_time     DateTime('UTC'),
    policy_name     String,
    policy_version  String,
    stage           String,
    action_type     String,            -- event.ActionType
    channel         String,
    template        String,
    queue           String,
    priority        Int32,
    currency        String,
    overdue_amount  Decimal(18, 4),
    amount          Decimal(18, 4),
    oldest_due_date Date,
    days_past_due   Int32,
    invoice_ids     Array(String),
    reason          String,
    cond_names      Array(String),
    cond_values     Array(String),
    cond_rules      Array(String),
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(action_time)
ORDER BY (account_id, action_id);

CREATE TABLE IF NOT EXISTS {db}.risk_events (
    event_id        String,
    account_id      String,
    event_time      DateTime('UTC'),
    score           Int32,
    pd              Float64,
    tier            String,
    previous_tier   String,
    reason_codes    Array(String),
    reason_weights  Array(Float64),
    model_version   String,
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, event_id);

-- Account status snapshots. The primary (first) currency is flattened into
-- scalar columns; every currency is in the parallel bal_* arrays.
CREATE TABLE IF NOT EXISTS {db}.account_status (
    account_id       String,
    status_time      DateTime('UTC'),
    segment          String,
    closed           UInt8,
    currency         String,
    open_amount      Decimal(18, 4),
    overdue_amount   Decimal(18, 4),
    disputed_amount  Decimal(18, 4),
    unapplied_amount Decimal(18, 4),
    aging_current    Decimal(18, 4),
    aging_1_30       Decimal(18, 4),
    aging_31_60      Decimal(18, 4),
    aging_61_90      Decimal(18, 4),
    aging_91_120     Decimal(18, 4),
    aging_120_plus   Decimal(18, 4),
    bal_currency     Array(String),
    bal_open         Array(Decimal(18, 4)),
    bal_overdue      Array(Decimal(18, 4)),
    bal_disputed     Array(Decimal(18, 4)),
    bal_unapplied    Array(Decimal(18, 4)),
    bal_aging_current  Array(Decimal(18, 4)),
    bal_aging_1_30     Array(Decimal(18, 4)),
    bal_aging_31_60    Array(Decimal(18, 4)),
    bal_aging_61_90    Array(Decimal(18, 4)),
    bal_aging_91_120   Array(Decimal(18, 4)),
    bal_aging_120_plus Array(Decimal(18, 4)),
    open_items       Int32,
    oldest_due_date  Date,
    days_past_due    Int32,
    stage            String,
    service_state    String,
    risk_tier        String,
    pd               Float64,
    arrangement_id   String,
    on_hold          UInt8,
    source_partition Int32,
    source_offset    Int64,
    kafka_partition  Int32,
    kafka_offset     Int64,
    ingested_at      DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(status_time)
ORDER BY (account_id, status_time, source_partition, source_offset);

CREATE TABLE IF NOT EXISTS {db}.gl_entries (
    entry_id        String,
    account_id      String,
    entry_time      DateTime('UTC'),
    kind            String,            -- WRITE_OFF, FEE, BAD_DEBT_PROVISION
    currency        String,
    amount          Decimal(18, 4),
    debit_account   String,
    credit_account  String,
    reference       String,
    description     String,
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(entry_time)
ORDER BY (account_id, entry_id);

-- Dead letters, from the processor (ar.dlq) and from the sink itself
-- (error_class 'sink'), keyed by the rejected record's coordinates.
CREATE TABLE IF NOT EXISTS {db}.dead_letters (
    source_topic     String,
    source_partition Int32,
    source_offset    Int64,
    error_class      String,
    reason           String,
    dead_time        DateTime('UTC'),
    record_key       String,
    record_value     String,
    kafka_partition  Int32,
    kafka_offset     Int64,
    ingested_at      DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(dead_time)
ORDER BY (source_topic, source_partition, source_offset, error_class);
