package analytics

import (
	"fmt"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/ledger"
)

// The report SQL. Fragments are Go functions of the dates they need, so
// each report reads as one query; the formulas are in docs/analytics.md.
// Everything here runs on ClickHouse 18.16: no window functions, no WITH
// subqueries, explicit ANY/ALL join strictness, UNION ALL branches with
// identical column types, and no alias that shadows a column it reads. They
// also run on current ClickHouse (chdb_test.go compares the results): every
// subquery on either side of a JOIN has an alias (joined_subquery_requires_alias
// is on by default since 20.x), and no text depends on how a release prints
// a Decimal (decimalText).
//
// Money is summed as Int64 units of 10^-4 (18.16's arrayCumSum does not take
// Decimals) and returned as Decimal(38, 4) via toDecimal128(units, 4) / 10000,
// which is exact. An amount becomes units through Decimal128 (units): in
// Decimal64, amount * 10000 fails with "Decimal math overflow" from about 92
// billion on, and a Decimal(18, 4) column can hold more than its 18 digits.
// Input facts (invoices, debit and credit notes, payments, refunds,
// disputes, arrangements) whose amount exceeds ledger.MaxAmount are left out
// of every report (factInBound): the processor rejects them, so only a row
// that landed before the sink read accepted facts only can carry one, and
// it must not break or distort the book. With every item within the bound,
// an Int64 sum overflows only past 922 trillion currency units.

// units renders the Int64 units (10^-4) of a Decimal(18, 4) column. It goes
// through Decimal128, so it cannot overflow whatever the column holds.
func units(col string) string { return "toInt64(toDecimal128(" + col + ", 4) * 10000)" }

// maxFactAmount is ledger.MaxAmount as a Decimal128 literal.
var maxFactAmount = "toDecimal128('" + event.Amount(ledger.MaxAmount).String() + "', 4)"

// factInBound is a WHERE condition keeping input facts whose amount columns
// are all within ledger.MaxAmount (see the package comment above).
func factInBound(cols ...string) string {
	conds := make([]string, len(cols))
	for i, c := range cols {
		conds[i] = "abs(toDecimal128(" + c + ", 4)) <= " + maxFactAmount
	}
	return strings.Join(conds, " AND ")
}

// params are a report's rendered literals.
type params struct {
	db                     string
	d, end                 string // as-of date and the instant after it (exclusive)
	d0, end0               string // period start date (AsOf - Days) and the instant after it
	days, cureDays, grace  int
	defaultDPD, limit      int
	segment, account       string // quoted string literals
	segmentSet, accountSet bool
	asOf                   time.Time
	experiment             string // quoted; "" when not set
	group                  string // quoted (group_exposure)
	groupSet               bool
	top                    int
}

func newParams(db string, o ReportOptions) params {
	day := time.Date(o.AsOf.Year(), o.AsOf.Month(), o.AsOf.Day(), 0, 0, 0, 0, time.UTC)
	start := day.AddDate(0, 0, -o.Days)
	return params{
		db: db, asOf: day,
		d: dateLit(day), end: instantLit(day.AddDate(0, 0, 1)),
		d0: dateLit(start), end0: instantLit(start.AddDate(0, 0, 1)),
		days: o.Days, cureDays: o.CureDays, grace: o.GraceDays, defaultDPD: o.DefaultDPD, limit: o.Limit,
		segment: quote(o.Segment), segmentSet: o.Segment != "",
		account: quote(o.Account), accountSet: o.Account != "",
		experiment: quoteSet(o.Experiment),
		group:      quote(o.Group), groupSet: o.Group != "", top: o.Top,
	}
}

func dateLit(t time.Time) string { return "toDate('" + t.Format("2006-01-02") + "')" }
func instantLit(t time.Time) string {
	return "toDateTime('" + t.Format("2006-01-02 15:04:05") + "', 'UTC')"
}

// quote renders s as a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// sql replaces {db} and the other named placeholders.
func (p params) sql(q string) string {
	return strings.NewReplacer(
		"{db}", p.db, "{D}", p.d, "{END}", p.end, "{D0}", p.d0, "{END0}", p.end0,
		"{days}", fmt.Sprint(p.days), "{cure_days}", fmt.Sprint(p.cureDays), "{grace_days}", fmt.Sprint(p.grace),
		"{default_dpd}", fmt.Sprint(p.defaultDPD), "{limit}", fmt.Sprint(p.limit),
		"{segment}", p.segment, "{account}", p.account, "{experiment}", p.experiment,
	).Replace(q)
}

// bucketExpr labels a days-past-due expression with its aging bucket.
func bucketExpr(dpd string) string {
	return fmt.Sprintf("multiIf(%[1]s <= 0, 'current', %[1]s <= 30, '1-30', %[1]s <= 60, '31-60', %[1]s <= 90, '61-90', %[1]s <= 120, '91-120', '120+')", dpd)
}

const bucketOrder = "['current', '1-30', '31-60', '61-90', '91-120', '120+', 'paid']"

// reversedSQL lists (account_id, payment_id) of payments reversed before end.
func reversedSQL(end string) string {
	return "(SELECT account_id, payment_id FROM {db}.events FINAL WHERE kind = 'PaymentReversed' AND event_time < " + end + ")"
}

// paymentsSQL is cash that stayed in (not reversed before end): account_id,
// currency, pay_time, pay_units.
func paymentsSQL(end string) string {
	return `(SELECT account_id, currency, event_time AS pay_time, ` + units("amount") + ` AS pay_units
    FROM {db}.payments FINAL
    WHERE event_time < ` + end + ` AND ` + factInBound("amount") + ` AND (account_id, payment_id) NOT IN ` + reversedSQL(end) + `)`
}

// openItemsSQL reconstructs open items as of date (facts with event_time <
// end): per invoice the issued amount plus debit notes minus credit notes
// and upheld-dispute credits (0 when cancelled), then the account's cash
// pool (payments not reversed - refunds + write-offs) allocated oldest due
// first. Columns: account_id, currency, invoice_id, due_date, open (units),
// dpd (days past due at date; <= 0 is not yet due).
func openItemsSQL(date, end string) string {
	return `(SELECT account_id, currency, tupleElement(it, 2) AS invoice_id, tupleElement(it, 1) AS due_date,
        toInt64(greatest(toInt64(0), least(tupleElement(it, 3), cum - pool))) AS open,
        toInt32(` + date + ` - tupleElement(it, 1)) AS dpd
    FROM (
        SELECT account_id, currency, items, arrayCumSum(arrayMap(x -> x.3, items)) AS cums, pool
        FROM (
            SELECT account_id, currency, arraySort(groupArray((due_date, invoice_id, net))) AS items
            FROM (
                SELECT account_id, invoice_id, max(cur) AS currency, max(due) AS due_date,
                    if(max(cancelled) = 1, toInt64(0), greatest(toInt64(0), sum(units))) AS net
                FROM (
                    SELECT account_id, invoice_id, currency AS cur, due_date AS due, ` + units("amount") + ` AS units,
                        toUInt8(0) AS cancelled, toUInt8(1) AS issued
                    FROM {db}.invoices FINAL WHERE event_time < ` + end + ` AND ` + factInBound("amount") + `
                    UNION ALL
                    SELECT account_id, invoice_id, '', toDate(0), if(detail LIKE 'CREDIT%', -1, 1) * ` + units("amount") + `, toUInt8(0), toUInt8(0)
                    FROM {db}.events FINAL WHERE kind = 'InvoiceAdjusted' AND event_time < ` + end + ` AND ` + factInBound("amount") + `
                    UNION ALL
                    SELECT account_id, invoice_id, '', toDate(0), toInt64(0), toUInt8(1), toUInt8(0)
                    FROM {db}.events FINAL WHERE kind = 'InvoiceCancelled' AND event_time < ` + end + `
                    UNION ALL
                    SELECT account_id, disputed_invoice, '', toDate(0), -credit_units, toUInt8(0), toUInt8(0)
                    FROM (
                        SELECT account_id, dispute_id, anyIf(invoice_id, status = 'OPEN') AS disputed_invoice,
                            sumIf(` + units("credit_amount") + `, status = 'UPHELD') AS credit_units
                        FROM {db}.disputes FINAL WHERE event_time < ` + end + ` AND ` + factInBound("amount", "credit_amount") + `
                        GROUP BY account_id, dispute_id
                    ) WHERE credit_units > 0
                )
                GROUP BY account_id, invoice_id
                HAVING max(issued) = 1
            )
            GROUP BY account_id, currency
        ) AS open_items
        ANY LEFT JOIN (
            SELECT account_id, currency, sum(u) AS pool
            FROM (
                SELECT account_id, currency, pay_units AS u FROM ` + paymentsSQL(end) + `
                UNION ALL
                SELECT account_id, currency, -` + units("amount") + ` FROM {db}.events FINAL WHERE kind = 'Refund' AND event_time < ` + end + ` AND ` + factInBound("amount") + `
                UNION ALL
                SELECT account_id, currency, ` + units("amount") + ` FROM {db}.gl_entries FINAL WHERE kind = 'WRITE_OFF' AND entry_time < ` + end + `
            )
            GROUP BY account_id, currency
        ) AS cash_pool USING account_id, currency
    )
    ARRAY JOIN items AS it, cums AS cum)`
}

// segmentsSQL maps account_id to acct_segment, the latest AccountUpserted
// segment before end.
func segmentsSQL(end string) string {
	return `(SELECT account_id, argMax(segment, event_time) AS acct_segment FROM {db}.accounts WHERE event_time < ` + end + ` GROUP BY account_id)`
}

// inSegment is a WHERE condition on account_id for the Segment option.
func (p params) inSegment() string {
	if !p.segmentSet {
		return "1"
	}
	return "account_id IN (SELECT account_id FROM " + segmentsSQL("{END}") + " WHERE acct_segment = {segment})"
}

// joinSegments adds acct_segment to a subquery with account_id (aliased
// facts, as current ClickHouse wants every joined subquery named).
var joinSegments = "AS facts ANY LEFT JOIN " + segmentsSQL("{END}") + " AS segments USING account_id"

func (p params) segmentFilter() string {
	if !p.segmentSet {
		return "1"
	}
	return "acct_segment = {segment}"
}

// decimalText prints a Decimal(18, 4) column with its four decimals
// ("-5.0000"), as 18.16's toString does; current releases drop trailing
// zeros, so the digits are put together from the units.
func decimalText(col string) string {
	u := units(col)
	return "concat(if(" + u + " < 0, '-', ''), toString(intDiv(abs(" + u + "), 10000)), '.', substring(toString(10000 + abs(" + u + ") % 10000), 2))"
}

func money(u string) string { return "toDecimal128(" + u + ", 4) / 10000" }

// agingColumns are aging's columns after segment and currency: the
// accounts, then open units u by days past due dpd (also the snapshot
// fast path's).
func agingColumns(accounts, u string) string {
	return accounts + ` AS accounts,
    ` + money("sumIf("+u+", dpd <= 0)") + ` AS not_due,
    ` + money("sumIf("+u+", dpd > 0 AND dpd <= 30)") + ` AS dpd_1_30,
    ` + money("sumIf("+u+", dpd > 30 AND dpd <= 60)") + ` AS dpd_31_60,
    ` + money("sumIf("+u+", dpd > 60 AND dpd <= 90)") + ` AS dpd_61_90,
    ` + money("sumIf("+u+", dpd > 90 AND dpd <= 120)") + ` AS dpd_91_120,
    ` + money("sumIf("+u+", dpd > 120)") + ` AS dpd_120_plus,
    ` + money("sum("+u+")") + ` AS total`
}

func agingSQL(p params) string {
	return `SELECT acct_segment AS segment, currency, ` + agingColumns("uniqExact(account_id)", "open") + `
FROM (SELECT account_id, currency, open, dpd FROM ` + openItemsSQL("{D}", "{END}") + ` WHERE open > 0)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// salesSQL is credit sales: invoices issued in (D0, D] and not cancelled
// by AsOf, as units (with the issue date, for the receivables snapshot).
var salesSQL = `SELECT account_id, currency, issue_date, ` + units("amount") + ` AS units FROM {db}.invoices FINAL
    WHERE issue_date > {D0} AND issue_date <= {D} AND event_time < {END} AND ` + factInBound("amount") + `
        AND (account_id, invoice_id) NOT IN (
            SELECT account_id, invoice_id FROM {db}.events FINAL WHERE kind = 'InvoiceCancelled' AND event_time < {END})`

// dsoColumns are DSO's columns after segment and currency, over rows of
// receivables ar, current receivables cur, sales and dpd (also the
// snapshot fast path's).
var dsoColumns = money("sum(ar)") + ` AS receivables,
    ` + money("sum(cur)") + ` AS current_receivables,
    ` + money("sum(sales)") + ` AS credit_sales,
    {days} AS days,
    if(sum(sales) = 0, NULL, round(sum(ar) / sum(sales) * {days}, 2)) AS dso,
    if(sum(sales) = 0, NULL, round(sum(cur) / sum(sales) * {days}, 2)) AS best_possible_dso,
    if(sum(sales) = 0, NULL, round((sum(ar) - sum(cur)) / sum(sales) * {days}, 2)) AS average_days_delinquent,
    if(sumIf(ar, dpd > 0) = 0, NULL, round(sumIf(ar * dpd, dpd > 0) / sumIf(ar, dpd > 0), 2)) AS weighted_days_past_due`

func dsoSQL(p params) string {
	return `SELECT acct_segment AS segment, currency,
    ` + dsoColumns + `
FROM (
    SELECT account_id, currency, open AS ar, if(dpd <= 0, open, toInt64(0)) AS cur, toInt64(0) AS sales, dpd
    FROM ` + openItemsSQL("{D}", "{END}") + `
    UNION ALL
    SELECT account_id, currency, toInt64(0), toInt64(0), units, toInt32(0) FROM (` + salesSQL + `)
)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// ceiColumns are CEI's columns after segment and currency, over rows of
// beginning b, sales s, ending e and ending current ec receivables (also
// the snapshot fast path's).
var ceiColumns = money("sum(b)") + ` AS beginning_receivables,
    ` + money("sum(s)") + ` AS credit_sales,
    ` + money("sum(e)") + ` AS ending_receivables,
    ` + money("sum(ec)") + ` AS ending_current,
    if(sum(b) + sum(s) - sum(ec) = 0, NULL, round(100 * (sum(b) + sum(s) - sum(e)) / (sum(b) + sum(s) - sum(ec)), 2)) AS cei`

func ceiSQL(p params) string {
	return `SELECT acct_segment AS segment, currency,
    ` + ceiColumns + `
FROM (
    SELECT account_id, currency, open AS b, toInt64(0) AS s, toInt64(0) AS e, toInt64(0) AS ec FROM ` + openItemsSQL("{D0}", "{END0}") + `
    UNION ALL
    SELECT account_id, currency, toInt64(0), units, toInt64(0), toInt64(0) FROM (` + salesSQL + `)
    UNION ALL
    SELECT account_id, currency, toInt64(0), toInt64(0), open, if(dpd <= 0, open, toInt64(0)) FROM ` + openItemsSQL("{D}", "{END}") + `
)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY segment, currency
ORDER BY segment, currency`
}

// rollBaseSQL pairs each account's delinquency bucket (of its oldest
// open item) one month before AsOf with its bucket at AsOf ('paid' when
// nothing is open any more).
func rollBaseSQL(p params) string {
	prev := p.asOf.AddDate(0, -1, 0)
	if prev.Day() != p.asOf.Day() { // 31 March -> 28/29 February, like subtractMonths
		prev = time.Date(p.asOf.Year(), p.asOf.Month(), 0, 0, 0, 0, 0, time.UTC)
	}
	d0, end0 := dateLit(prev), instantLit(prev.AddDate(0, 0, 1))
	return `(SELECT account_id, currency, bal0, from_bucket, if(bal1 = 0, 'paid', b1) AS to_bucket
    FROM (
        SELECT account_id, currency, sum(open) AS bal0, ` + bucketExpr("max(dpd)") + ` AS from_bucket
        FROM ` + openItemsSQL(d0, end0) + ` WHERE open > 0 GROUP BY account_id, currency
    ) AS before
    ANY LEFT JOIN (
        SELECT account_id, currency, sum(open) AS bal1, ` + bucketExpr("max(dpd)") + ` AS b1
        FROM ` + openItemsSQL("{D}", "{END}") + ` WHERE open > 0 GROUP BY account_id, currency
    ) AS after USING account_id, currency
    WHERE ` + p.inSegment() + `)`
}

func rollRatesSQL(p params) string {
	return `SELECT from_bucket, to_bucket, accounts, ` + money("bal") + ` AS from_balance,
    round(accounts / from_accounts, 4) AS account_rate, round(bal / from_bal, 4) AS balance_rate
FROM (
    SELECT from_bucket, to_bucket, count() AS accounts, sum(bal0) AS bal FROM ` + rollBaseSQL(p) + ` GROUP BY from_bucket, to_bucket
) AS moves
ANY LEFT JOIN (
    SELECT from_bucket, count() AS from_accounts, sum(bal0) AS from_bal FROM ` + rollBaseSQL(p) + ` GROUP BY from_bucket
) AS froms USING from_bucket
ORDER BY indexOf(` + bucketOrder + `, from_bucket), indexOf(` + bucketOrder + `, to_bucket)`
}

func cureRateSQL(p params) string {
	return `SELECT stage_group AS stage, action_type, channel, count() AS actions, sum(cured) AS cured_actions,
    round(sum(cured) / count(), 4) AS cure_rate
FROM (
    SELECT action_id, stage_group, action_type, channel,
        sumIf(pay_units, pay_time > action_time AND pay_time <= action_time + {cure_days} * 86400) >= due_units AS cured
    FROM (
        SELECT action_id, account_id, currency, action_type, channel, action_time,
            ` + units("overdue_amount") + ` AS due_units,
            if(stage LIKE 'arrangement:%', 'arrangement', stage) AS stage_group
        FROM {db}.dunning_actions FINAL
        WHERE toDate(action_time) > {D0} AND toDate(action_time) <= {D} - {cure_days} AND overdue_amount > 0
            AND ` + p.inSegment() + `
    ) AS actions
    ALL LEFT JOIN ` + paymentsSQL("{END}") + ` AS payments USING account_id, currency
    GROUP BY action_id, stage_group, action_type, channel, action_time, due_units
)
GROUP BY stage_group, action_type, channel
ORDER BY stage_group, action_type, channel`
}

func promiseKeptSQL(p params) string {
	return `SELECT type, count() AS arrangements, sum(is_kept) AS kept, sum(is_broken) AS broken, sum(is_cancelled) AS cancelled,
    if(sum(is_kept) + sum(is_broken) = 0, NULL, round(sum(is_kept) / (sum(is_kept) + sum(is_broken)), 4)) AS kept_rate
FROM (
    SELECT type, is_cancelled, toUInt8(paid_enough AND NOT is_cancelled) AS is_kept,
        toUInt8(NOT paid_enough AND NOT is_cancelled) AS is_broken
    FROM (
        SELECT account_id, arrangement_id, type,
            toUInt8((account_id, arrangement_id) IN (
                SELECT account_id, ref_id FROM {db}.events FINAL WHERE kind = 'ArrangementCancelled' AND event_time < {END})) AS is_cancelled,
            sumIf(pay_units, pay_time >= created AND toDate(pay_time) <= deadline) >= total_units AS paid_enough
        FROM (
            SELECT account_id, currency, arrangement_id, type, event_time AS created,
                last_due_date + {grace_days} AS deadline, ` + units("total_amount") + ` AS total_units
            FROM {db}.arrangements FINAL
            WHERE toDate(event_time) > {D0} AND last_due_date + {grace_days} <= {D} AND event_time < {END}
                AND ` + factInBound("total_amount") + `
                AND ` + p.inSegment() + `
        ) AS arrangements
        ALL LEFT JOIN ` + paymentsSQL("{END}") + ` AS payments USING account_id, currency
        GROUP BY account_id, arrangement_id, type, created, deadline, total_units
    )
)
GROUP BY type
ORDER BY type`
}

func disputesSQL(p params) string {
	return `SELECT if(outcome_status = '', 'OPEN', outcome_status) AS outcome, count() AS disputes, ` + money("sum(amt)") + ` AS amount,
    if(countIf(closed_at > 0) = 0, NULL, round(avgIf((closed_at - opened_at) / 86400, closed_at > 0), 2)) AS avg_cycle_days,
    if(countIf(closed_at > 0) = 0, NULL, round(maxIf((closed_at - opened_at) / 86400, closed_at > 0), 2)) AS max_cycle_days
FROM (
    SELECT account_id, dispute_id, toUInt32(minIf(event_time, status = 'OPEN')) AS opened_at,
        argMaxIf(status, event_time, status != 'OPEN') AS outcome_status,
        toUInt32(maxIf(event_time, status != 'OPEN')) AS closed_at,
        sumIf(` + units("amount") + `, status = 'OPEN') AS amt
    FROM {db}.disputes FINAL
    WHERE event_time < {END} AND ` + factInBound("amount", "credit_amount") + ` AND ` + p.inSegment() + `
    GROUP BY account_id, dispute_id
    HAVING countIf(status = 'OPEN') > 0 AND opened_at >= toUInt32({END0})
)
GROUP BY outcome
ORDER BY outcome`
}

func writeOffsSQL(p params) string {
	return `SELECT toStartOfMonth(toDate(entry_time)) AS period_month, acct_segment AS segment, currency,
    count() AS entries, uniqExact(account_id) AS accounts, ` + money("sum(u)") + ` AS amount
FROM (
    SELECT account_id, entry_time, currency, ` + units("amount") + ` AS u FROM {db}.gl_entries FINAL
    WHERE kind = 'WRITE_OFF' AND entry_time >= {END0} AND entry_time < {END}
)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY period_month, segment, currency
ORDER BY period_month, segment, currency`
}

func riskCalibrationSQL(p params) string {
	return `SELECT last_tier AS tier, count() AS accounts, round(avg(last_pd), 4) AS predicted_pd,
    sum(defaulted) AS defaults, round(sum(defaulted) / count(), 4) AS realised_default_rate,
    round(sum(defaulted) / count() - avg(last_pd), 4) AS gap
FROM (
    SELECT account_id, argMax(tier, event_time) AS last_tier, argMax(pd, event_time) AS last_pd
    FROM {db}.risk_events FINAL WHERE event_time < {END0} AND ` + p.inSegment() + `
    GROUP BY account_id
) AS tiers
ANY LEFT JOIN (
    SELECT account_id, toUInt8(1) AS defaulted
    FROM (
        SELECT account_id FROM {db}.account_status FINAL
        WHERE status_time >= {END0} AND status_time < {END} AND days_past_due >= {default_dpd}
        UNION ALL
        SELECT account_id FROM {db}.gl_entries FINAL
        WHERE kind = 'WRITE_OFF' AND entry_time >= {END0} AND entry_time < {END}
    )
    GROUP BY account_id
) AS defaults USING account_id
GROUP BY tier
ORDER BY tier`
}

func timelineSQL(params) string {
	return `SELECT at, type, kind, id, currency, amt AS amount, detail
FROM (
    SELECT at, type, kind, id, currency, amt, detail
    FROM (
        SELECT event_time AS at, 'event' AS type, kind, event_id AS id, currency, ` + decimalText("amount") + ` AS amt, detail
        FROM {db}.events FINAL WHERE account_id = {account} AND event_time < {END}
        UNION ALL
        SELECT action_time, 'action', action_type, action_id, currency, ` + decimalText("overdue_amount") + `,
            concat(stage, if(channel = '', '', concat(' via ', channel)), ' dpd=', toString(days_past_due))
        FROM {db}.dunning_actions FINAL WHERE account_id = {account} AND action_time < {END}
        UNION ALL
        SELECT event_time, 'risk', tier, event_id, '', toString(pd), concat(previous_tier, ' -> ', tier, ' score=', toString(score))
        FROM {db}.risk_events FINAL WHERE account_id = {account} AND event_time < {END}
        UNION ALL
        SELECT entry_time, 'gl', kind, entry_id, currency, ` + decimalText("amount") + `, description
        FROM {db}.gl_entries FINAL WHERE account_id = {account} AND entry_time < {END}
    )
    ORDER BY at DESC, id DESC
    LIMIT {limit}
    UNION ALL
    SELECT status_time, 'state', stage, toString(source_offset), currency, ` + decimalText("open_amount") + `,
        concat('dpd=', toString(days_past_due), ' overdue=', ` + decimalText("overdue_amount") + `, ' service=', service_state,
            ' tier=', risk_tier, if(arrangement_id = '', '', concat(' arrangement=', arrangement_id)), if(on_hold = 1, ' on_hold', ''))
    FROM (
        SELECT * FROM {db}.account_status FINAL WHERE account_id = {account} AND status_time < {END}
        ORDER BY status_time DESC, source_partition DESC, source_offset DESC LIMIT 1
    )
)
ORDER BY type = 'state', at, id`
}

// actionsSQL: dunning actions decided in the period, by type and channel,
// with the accounts they reached and the overdue amount they covered.
func actionsSQL(p params) string {
	return `SELECT action_type, channel, count() AS actions, uniqExact(account_id) AS accounts, ` + money("sum(u)") + ` AS overdue_covered
FROM (
    SELECT account_id, action_type, channel, ` + units("overdue_amount") + ` AS u FROM {db}.dunning_actions FINAL
    WHERE action_time >= {END0} AND action_time < {END}
)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY action_type, channel
ORDER BY actions DESC, action_type, channel`
}

// actionsDailySQL: dunning actions per day and type in the period.
func actionsDailySQL(p params) string {
	return `SELECT toDate(action_time) AS day, action_type, count() AS actions
FROM (
    SELECT account_id, action_time, action_type FROM {db}.dunning_actions FINAL
    WHERE action_time >= {END0} AND action_time < {END}
)
` + joinSegments + `
WHERE ` + p.segmentFilter() + `
GROUP BY day, action_type
ORDER BY day, action_type`
}
