-- Inbound facts from ar.events. {db} is replaced by the configured database.
-- Every table is a ReplacingMergeTree whose ORDER BY is the record's identity,
-- so a re-delivered record replaces itself; read with FINAL (or argMax).
-- Times are DateTime('UTC') (second precision: 18.16 has no DateTime64);
-- money is Decimal(18, 4) next to its ISO 4217 currency.

-- Every inbound event, normalised to one wide row.
CREATE TABLE IF NOT EXISTS {db}.events (
    event_id        String,
    event_time      DateTime('UTC'),
    account_id      String,
    kind            String,            -- event.Kind name: InvoiceIssued, PaymentReceived, ...
    source          String,
    currency        String,
    amount          Decimal(18, 4),
    invoice_id      String,
    payment_id      String,
    ref_id          String,            -- adjustment, refund, dispute, arrangement or hold id
    issue_date      Date,
    due_date        Date,
    detail          String,            -- type / outcome / method / reason, by kind
    invoice_ids     Array(String),
    kafka_topic     String,
    kafka_partition Int32,
    kafka_offset    Int64,
    ingested_at     DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, event_id);

-- Open items as issued (InvoiceIssued); adjustments, cancellations and
-- dispute credits are in events/disputes.
CREATE TABLE IF NOT EXISTS {db}.invoices (
    account_id  String,
    invoice_id  String,
    event_id    String,
    event_time  DateTime('UTC'),
    currency    String,
    amount      Decimal(18, 4),
    issue_date  Date,
    due_date    Date,
    bill_cycle  String,
    ingested_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, invoice_id);

-- Cash in (PaymentReceived); reversals and refunds are in events.
CREATE TABLE IF NOT EXISTS {db}.payments (
    account_id  String,
    payment_id  String,
    event_id    String,
    event_time  DateTime('UTC'),
    currency    String,
    amount      Decimal(18, 4),
    method      String,
    invoice_ids Array(String),
    ingested_at DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, payment_id);

-- Account master data, one row per AccountUpserted; the current value is
-- argMax(column, event_time).
CREATE TABLE IF NOT EXISTS {db}.accounts (
    account_id   String,
    event_id     String,
    event_time   DateTime('UTC'),
    segment      String,
    parent_id    String,
    credit_class String,
    currency     String,
    timezone     String,
    credit_limit Decimal(18, 4),
    consents     Array(String),
    exemptions   Array(String),
    ingested_at  DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, event_id);

-- Dispute lifecycle, one row per DisputeOpened (status OPEN) or
-- DisputeResolved (status = outcome).
CREATE TABLE IF NOT EXISTS {db}.disputes (
    account_id    String,
    dispute_id    String,
    event_id      String,
    event_time    DateTime('UTC'),
    status        String,              -- OPEN, UPHELD, REJECTED, WITHDRAWN
    invoice_id    String,
    currency      String,
    amount        Decimal(18, 4),
    credit_amount Decimal(18, 4),
    reason        String,
    ingested_at   DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, dispute_id, event_id);

-- Promises to pay and installment plans (ArrangementCreated); cancellations
-- are ArrangementCancelled rows of events (ref_id = arrangement id).
CREATE TABLE IF NOT EXISTS {db}.arrangements (
    account_id     String,
    arrangement_id String,
    event_id       String,
    event_time     DateTime('UTC'),
    type           String,             -- PROMISE, INSTALLMENT_PLAN
    currency       String,
    total_amount   Decimal(18, 4),
    installments   UInt16,
    first_due_date Date,
    last_due_date  Date,
    due_dates      Array(Date),
    due_amounts    Array(Decimal(18, 4)),
    ingested_at    DateTime('UTC')
) ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (account_id, arrangement_id);
