-- Collections group exposure history (issue 15 item 2, docs/analytics.md
-- "group_exposure"), landed by the sink from the group stage's compacted
-- changelog (kafka.topics.group_changelog): one row per changelog record,
-- i.e. per change of a group node. as_of is the record's time; ended = 1 on
-- a tombstone (the node was left with nothing: the group's end). level is
-- the group levels summed below the node (0: a node holding only a parent
-- link), parent the node's own parent ('' for a top group). The figures are
-- the node's group.Totals: accounts and those not ACTIVE, the highest PD,
-- and per currency (parallel arrays currency, exposure, ...) the exposure,
-- disputed, expected loss, overdue and its aging buckets as of as_of's UTC
-- day; worst_dpd is as of that day too. due_currency/due_date/due_amount
-- keep the undisputed open amount by due date, so a report ages a group
-- exactly as of any later day. The key is the record's coordinates: a
-- re-delivery collapses under FINAL (exactly once with read_committed).
CREATE TABLE IF NOT EXISTS {db}.group_exposure (
    group_id         String,
    parent           String,
    as_of            DateTime('UTC'),
    as_of_ms         Int64,
    ended            UInt8,
    level            UInt8,
    children         UInt32,
    accounts         Int64,
    not_active       Int64,
    max_pd           Float64,
    worst_dpd        Int32,
    currency         Array(String),
    exposure         Array(Decimal(18, 4)),
    disputed         Array(Decimal(18, 4)),
    expected_loss    Array(Decimal(18, 4)),
    overdue          Array(Decimal(18, 4)),
    overdue_1_30     Array(Decimal(18, 4)),
    overdue_31_60    Array(Decimal(18, 4)),
    overdue_61_90    Array(Decimal(18, 4)),
    overdue_91_120   Array(Decimal(18, 4)),
    overdue_over_120 Array(Decimal(18, 4)),
    due_currency     Array(String),
    due_date         Array(Date),
    due_amount       Array(Decimal(18, 4)),
    kafka_partition  Int32,
    kafka_offset     Int64,
    ingested_at      DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(as_of)
ORDER BY (group_id, kafka_partition, kafka_offset);
