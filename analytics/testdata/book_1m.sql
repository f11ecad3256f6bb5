-- A synthetic book of 1M accounts over 3 months (Jan-Mar 2026), as the sink
-- lands it: 1M AccountUpserted, 3M invoices (one a month, due 14 days
-- later), 2.55M payments (85% of invoices, 10% of them half), 5% credit
-- notes, 1% cancellations, 1% reversals, 0.5% refunds, 2% disputes (half
-- upheld with a credit of 20), 0.5% write-offs: 6.8M events rows. For timing
-- the reports (docs/analytics.md, The receivables snapshot):
--   arrears migrate -config C   (C: clickhouse.database = the database)
--   sed 's/{db}/DATABASE/g' analytics/testdata/book_1m.sql | clickhouse-client --multiquery
INSERT INTO {db}.accounts (account_id, event_id, event_time, segment, parent_id, credit_class, currency, timezone, credit_limit, consents, exemptions, ingested_at)
SELECT concat('acct', toString(number)), concat('eva', toString(number)), toDateTime('2025-12-01 09:00:00', 'UTC'),
  ['prepaid', 'postpaid', 'corporate', 'wholesale'][number % 4 + 1], '', 'B', 'EUR', 'UTC', toDecimal64(1000, 4), [], [], now()
FROM numbers(1000000);

INSERT INTO {db}.invoices (account_id, invoice_id, event_id, event_time, currency, amount, issue_date, due_date, bill_cycle, ingested_at)
SELECT concat('acct', toString(intDiv(number, 3))), concat('inv', toString(number)), concat('evi', toString(number)),
  toDateTime(addMonths(toDate('2026-01-01'), toInt32(number % 3))) + 32400, 'EUR', toDecimal64(10 + (cityHash64(number, 1) % 49000) / 100, 4),
  addMonths(toDate('2026-01-01'), toInt32(number % 3)), addMonths(toDate('2026-01-01'), toInt32(number % 3)) + 14, 'M1', now()
FROM numbers(3000000);

INSERT INTO {db}.payments (account_id, payment_id, event_id, event_time, currency, amount, method, invoice_ids, ingested_at)
SELECT account_id, concat('pay', substring(invoice_id, 4)), concat('evp', substring(invoice_id, 4)),
  toDateTime(due_date) + 36000 + (toInt64(cityHash64(invoice_id, 2) % 30) - 10) * 86400, currency,
  if(cityHash64(invoice_id, 3) % 10 = 0, amount / 2, amount), 'card', [invoice_id], now()
FROM {db}.invoices WHERE cityHash64(invoice_id, 4) % 100 < 85;

INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT event_id, event_time, account_id, 'AccountUpserted', 'gen', currency, credit_limit, '', '', '', toDate(0), toDate(0), segment, [], 'ar.events', 0, 0, now() FROM {db}.accounts;

INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT event_id, event_time, account_id, 'InvoiceIssued', 'gen', currency, amount, invoice_id, '', '', issue_date, due_date, bill_cycle, [], 'ar.events', 0, 0, now() FROM {db}.invoices;

INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT event_id, event_time, account_id, 'PaymentReceived', 'gen', currency, amount, '', payment_id, '', toDate(0), toDate(0), method, invoice_ids, 'ar.events', 0, 0, now() FROM {db}.payments;

-- credit notes on 5% of invoices, cancellations of 1%
INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT concat('evc', invoice_id), event_time + 5 * 86400, account_id, 'InvoiceAdjusted', 'gen', currency, amount / 10, invoice_id, '', concat('adj', invoice_id), toDate(0), toDate(0), 'CREDIT', [], 'ar.events', 0, 0, now()
FROM {db}.invoices WHERE cityHash64(invoice_id, 5) % 100 < 5;
INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT concat('evx', invoice_id), event_time + 86400, account_id, 'InvoiceCancelled', 'gen', '', toDecimal64(0, 4), invoice_id, '', '', toDate(0), toDate(0), 'duplicate', [], 'ar.events', 0, 0, now()
FROM {db}.invoices WHERE cityHash64(invoice_id, 6) % 100 < 1;

-- reversals of 1% of payments, refunds on 0.5%
INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT concat('evr', payment_id), event_time + 3 * 86400, account_id, 'PaymentReversed', 'gen', '', toDecimal64(0, 4), '', payment_id, '', toDate(0), toDate(0), 'bounce', [], 'ar.events', 0, 0, now()
FROM {db}.payments WHERE cityHash64(payment_id, 7) % 100 < 1;
INSERT INTO {db}.events (event_id, event_time, account_id, kind, source, currency, amount, invoice_id, payment_id, ref_id, issue_date, due_date, detail, invoice_ids, kafka_topic, kafka_partition, kafka_offset, ingested_at)
SELECT concat('evf', payment_id), event_time + 7 * 86400, account_id, 'Refund', 'gen', currency, toDecimal64(5, 4), '', payment_id, concat('ref', payment_id), toDate(0), toDate(0), '', [], 'ar.events', 0, 0, now()
FROM {db}.payments WHERE cityHash64(payment_id, 8) % 1000 < 5;

-- disputes on 2% of invoices, half upheld with a credit of 20
INSERT INTO {db}.disputes (account_id, dispute_id, event_id, event_time, status, invoice_id, currency, amount, credit_amount, reason, ingested_at)
SELECT account_id, concat('dsp', invoice_id), concat('evd', invoice_id), event_time + 3 * 86400, 'OPEN', invoice_id, currency, amount, toDecimal64(0, 4), 'quality', now()
FROM {db}.invoices WHERE cityHash64(invoice_id, 9) % 100 < 2;
INSERT INTO {db}.disputes (account_id, dispute_id, event_id, event_time, status, invoice_id, currency, amount, credit_amount, reason, ingested_at)
SELECT account_id, dispute_id, concat('evu', invoice_id), event_time + 7 * 86400, 'UPHELD', '', '', toDecimal64(0, 4), toDecimal64(20, 4), '', now()
FROM {db}.disputes WHERE status = 'OPEN' AND cityHash64(dispute_id, 10) % 2 = 0;

-- write-offs on 0.5% of accounts
INSERT INTO {db}.gl_entries (entry_id, account_id, entry_time, kind, currency, amount, debit_account, credit_account, reference, description, kafka_partition, kafka_offset, ingested_at)
SELECT concat('gl', account_id), account_id, toDateTime('2026-03-15 09:00:00', 'UTC'), 'WRITE_OFF', 'EUR', toDecimal64(30, 4), 'bad_debt', 'receivables', '', 'write-off', 0, 0, now()
FROM {db}.accounts WHERE cityHash64(account_id, 11) % 1000 < 5;
