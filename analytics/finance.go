package analytics

import "time"

// The finance reports (issue 15 items 4 and 6), over what the processor
// landed: the GL entries on ar.gl (gl_entries) and the dunning actions.
// Both run on ClickHouse 18.16 and current (chdb_test.go and
// finance_chdb_test.go compare them).
//
// provisions: per aging bucket and risk tier of each account's latest
// status as of D (and currency), the loss allowance at the period start,
// the PROVISION_INCREASE and PROVISION_RELEASE movements in the period
// (dated by the month end in their reference, not by the instant they
// were booked, the first step of the next month),
// the allowance at D, and difference = closing - (opening + increases -
// releases), which is zero when every movement is landed once; exposure is
// the open amount of the accounts' latest status in the provision's
// currency and coverage the allowance over it.
//
// agencies: per agency (an AGENCY_PLACEMENT action's queue, the
// AGENCY_RECOVERY and AGENCY_COMMISSION entries' reference) and currency:
// placements and the amount placed in the period, what the agency
// recovered and the commission booked in the period (net of their
// _REVERSED entries: payments that bounced), the recovery rate
// (recovered / placed), and the same to date (every placement and
// recovery before D's end).

func init() {
	reports["provisions"] = report{ReportInfo{"provisions",
		"loss allowance by aging bucket and risk tier: opening, PROVISION_INCREASE and _RELEASE in the period, closing, the reconciling difference, exposure and coverage", 31}, provisionsSQL}
	reports["agencies"] = report{ReportInfo{"agencies",
		"per collection agency: placements and amount placed, recovered, commission and recovery rate in the period and to date", 90}, agenciesSQL}
}

func provisionsSQL(p params) string {
	// A provision belongs to the month end in its reference (booked at the
	// first step of the next month): ISO dates compare as strings.
	d, d0 := quote(p.asOf.Format(time.DateOnly)), quote(p.asOf.AddDate(0, 0, -p.days).Format(time.DateOnly))
	return `SELECT ` + bucketExpr("dpd") + ` AS bucket, tier, currency, uniqExact(account_id) AS accounts,
    ` + money("sum(opening)") + ` AS opening_allowance, ` + money("sum(inc)") + ` AS increases,
    ` + money("sum(rel)") + ` AS releases, ` + money("sum(closing)") + ` AS closing_allowance,
    ` + money("sum(closing) - sum(opening) - sum(inc) + sum(rel)") + ` AS difference,
    ` + money("sum(exposure_u)") + ` AS exposure,
    round(sum(closing) / nullIf(sum(exposure_u), 0), 4) AS coverage
FROM (
    SELECT account_id, currency, opening, inc, rel, closing, dpd, tier, if(st_currency = currency, open_units, toInt64(0)) AS exposure_u
    FROM (
        SELECT account_id, currency,
            sumIf(signed, reference <= ` + d0 + `) AS opening,
            sumIf(u, kind = 'PROVISION_INCREASE' AND reference > ` + d0 + `) AS inc,
            sumIf(u, kind = 'PROVISION_RELEASE' AND reference > ` + d0 + `) AS rel,
            sum(signed) AS closing
        FROM (
            SELECT account_id, currency, reference, kind, ` + units("amount") + ` AS u,
                if(kind = 'PROVISION_INCREASE', u, -u) AS signed
            FROM {db}.gl_entries FINAL
            WHERE kind IN ('PROVISION_INCREASE', 'PROVISION_RELEASE') AND reference <= ` + d + ` AND ` + p.inSegment() + `
        )
        GROUP BY account_id, currency
    ) AS movements
    ANY LEFT JOIN (
        SELECT account_id, argMax(days_past_due, status_time) AS dpd, argMax(risk_tier, status_time) AS tier,
            argMax(currency, status_time) AS st_currency, argMax(` + units("open_amount") + `, status_time) AS open_units
        FROM {db}.account_status FINAL
        WHERE status_time < {END}
        GROUP BY account_id
    ) AS latest USING account_id
)
GROUP BY bucket, tier, currency
ORDER BY indexOf(` + bucketOrder + `, bucket), tier, currency`
}

// agenciesSQL: the zero columns of the placements branch are u * 0, not
// toInt64(0): 18.16 refuses a UNION ALL whose first branch has a constant
// where the second has a column ("must be constant in result").
func agenciesSQL(p params) string {
	return `SELECT agency, currency, sum(n_placed) AS placements, ` + money("sum(placed_u)") + ` AS placed,
    ` + money("sum(recovered_u)") + ` AS recovered, ` + money("sum(commission_u)") + ` AS commission,
    round(sum(recovered_u) / nullIf(sum(placed_u), 0), 4) AS recovery_rate,
    ` + money("sum(placed_all_u)") + ` AS placed_to_date, ` + money("sum(recovered_all_u)") + ` AS recovered_to_date,
    round(sum(recovered_all_u) / nullIf(sum(placed_all_u), 0), 4) AS recovery_rate_to_date
FROM (
    SELECT queue AS agency, currency, toUInt64(in_period) AS n_placed, if(in_period = 1, u, toInt64(0)) AS placed_u,
        u * 0 AS recovered_u, u * 0 AS commission_u, u AS placed_all_u, u * 0 AS recovered_all_u
    FROM (
        SELECT queue, currency, toUInt8(action_time >= {END0}) AS in_period, ` + units("amount") + ` AS u
        FROM {db}.dunning_actions FINAL
        WHERE action_type = 'AGENCY_PLACEMENT' AND action_time < {END} AND ` + p.inSegment() + `
    )
    UNION ALL
    SELECT reference, currency, toUInt64(0), toInt64(0),
        if(recovery = 1 AND in_period = 1, u, toInt64(0)), if(recovery = 0 AND in_period = 1, u, toInt64(0)),
        toInt64(0), if(recovery = 1, u, toInt64(0))
    FROM (
        SELECT reference, currency, toUInt8(kind IN ('AGENCY_RECOVERY', 'AGENCY_RECOVERY_REVERSED')) AS recovery,
            toUInt8(entry_time >= {END0}) AS in_period, if(kind LIKE '%_REVERSED', -1, 1) * ` + units("amount") + ` AS u
        FROM {db}.gl_entries FINAL
        WHERE kind IN ('AGENCY_RECOVERY', 'AGENCY_COMMISSION', 'AGENCY_RECOVERY_REVERSED', 'AGENCY_COMMISSION_REVERSED')
            AND entry_time < {END} AND ` + p.inSegment() + `
    )
)
GROUP BY agency, currency
ORDER BY agency, currency`
}
