package analytics

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
)

// GroupExposureTable is the collections-group exposure history (migration
// 0012), landed from the group stage's changelog.
var GroupExposureTable = &TableSpec{"group_exposure", []string{"group_id", "parent", "as_of", "as_of_ms", "ended", "level",
	"children", "accounts", "not_active", "max_pd", "worst_dpd", "currency", "exposure", "disputed", "expected_loss", "overdue",
	"overdue_1_30", "overdue_31_60", "overdue_61_90", "overdue_91_120", "overdue_over_120",
	"due_currency", "due_date", "due_amount", "kafka_partition", "kafka_offset", "ingested_at"}}

// overdueBuckets are the upper days-past-due bounds of the overdue aging
// buckets 1-30, 31-60, 61-90, 91-120 and 120+ (the account status's, after
// current).
var overdueBuckets = [5]int64{30, 60, 90, 120, 1 << 62}

// GroupExposureRow is the group_exposure row of one group-changelog record:
// node n of group id (nil: a tombstone, the group's end) written at time at.
// Overdue, its buckets and the worst days past due are as of at's day.
func GroupExposureRow(id string, n *group.Node, at time.Time, src Source, now time.Time) Row {
	var (
		parent                     string
		ended, level               uint8
		children                   uint32
		t                          group.Totals
		curs, dueCurs              = []string{}, []string{}
		dueDates                   = []time.Time{}
		exp, disp, el, ovd, dueAmt = []decimal.Decimal{}, []decimal.Decimal{}, []decimal.Decimal{}, []decimal.Decimal{}, []decimal.Decimal{}
		buckets                    [5][]decimal.Decimal
	)
	if n == nil {
		ended = 1
	} else {
		parent, children, t = n.Parent, uint32(len(n.Children)), n.Totals
		level = uint8(min(t.Depth, 255))
	}
	for i := range buckets {
		buckets[i] = []decimal.Decimal{}
	}
	today := event.DateOf(at.UTC())
	for _, c := range slices.Sorted(maps.Keys(t.Currencies)) {
		f := t.Currencies[c]
		var b [5]int64
		for _, d := range slices.Sorted(maps.Keys(f.Due)) {
			v := f.Due[d]
			dueCurs, dueDates, dueAmt = append(dueCurs, string(c)), append(dueDates, d.Time()), append(dueAmt, Dec(event.Amount(v)))
			if dpd := int64(today - d); dpd >= 1 {
				b[slices.IndexFunc(overdueBuckets[:], func(hi int64) bool { return dpd <= hi })] += v
			}
		}
		curs = append(curs, string(c))
		exp, disp, el = append(exp, Dec(event.Amount(f.Exposure))), append(disp, Dec(event.Amount(f.Disputed))), append(el, Dec(event.Amount(f.ExpectedLoss)))
		ovd = append(ovd, Dec(event.Amount(t.Overdue(c, today))))
		for i := range b {
			buckets[i] = append(buckets[i], Dec(event.Amount(b[i])))
		}
	}
	return Row{GroupExposureTable, []any{id, parent, utc(at), at.UnixMilli(), ended, level, children, t.Accounts, t.Suspended,
		t.MaxPD, t.WorstDPD(today), curs, exp, disp, el, ovd, buckets[0], buckets[1], buckets[2], buckets[3], buckets[4],
		dueCurs, dueDates, dueAmt, src.Partition, src.Offset, now}}
}

func init() {
	reports["group_exposure"] = report{ReportInfo{"group_exposure",
		"top collections groups (or -group G) by exposure per currency: overdue by aging bucket, expected loss, share overdue, accounts, worst days past due, and the change vs a month earlier", 0},
		groupExposureSQL}
}

// groupLatestSQL is each group's latest group_exposure row before the
// instant end (FINAL: re-delivered records collapse first).
func groupLatestSQL(end string) string {
	// the arrays renamed: an outer alias (cur AS currency) must not shadow a column it reads on 18.16
	return `(SELECT group_id, parent, ended, level, accounts, not_active, currency AS curs, exposure AS exps, expected_loss AS els,
        due_currency AS dcs, due_date AS dds, due_amount AS das
    FROM {db}.group_exposure FINAL WHERE as_of < ` + end + `
    ORDER BY group_id, as_of_ms DESC, kafka_partition DESC, kafka_offset DESC
    LIMIT 1 BY group_id)`
}

// groupExposureSQL: per currency of each top group (no parent; or the one
// -group names, at any level) as it stood at the end of the as-of date:
// exposure, overdue by aging bucket as of the date (from the due dates, so
// exact even when the group last changed long before), expected loss,
// share overdue, accounts and worst days past due; and the exposure at the
// end of the same date a month earlier. The top N per currency by exposure.
func groupExposureSQL(p params) string {
	filter := "ended = 0 AND level > 0 AND parent = ''"
	if p.groupSet {
		filter = "ended = 0 AND level > 0 AND group_id = " + p.group
	}
	monthAgo := instantLit(monthEarlier(p.asOf).AddDate(0, 0, 1))
	// ClickHouse 18.16 takes one JOIN per SELECT: the overdue first, then the month before
	return `SELECT group_id, currency, accounts, not_active, exposure, overdue,
    overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_over_120,
    if(exposure > 0, round(toFloat64(overdue) / toFloat64(exposure), 4), 0) AS share_overdue,
    expected_loss, worst_dpd, exposure_month_ago, exposure - exposure_month_ago AS exposure_change
FROM (
    SELECT group_id, currency, accounts, not_active, exposure, expected_loss, overdue,
        overdue_1_30, overdue_31_60, overdue_61_90, overdue_91_120, overdue_over_120, worst_dpd
    FROM (
        SELECT group_id, cur AS currency, accounts, not_active, exp AS exposure, el AS expected_loss
        FROM ` + groupLatestSQL("{END}") + `
        ARRAY JOIN curs AS cur, exps AS exp, els AS el
        WHERE ` + filter + `
    ) AS g
    ANY LEFT JOIN (
        SELECT group_id, dc AS currency, sumIf(da, dpd >= 1) AS overdue,
            sumIf(da, dpd >= 1 AND dpd <= 30) AS overdue_1_30, sumIf(da, dpd > 30 AND dpd <= 60) AS overdue_31_60,
            sumIf(da, dpd > 60 AND dpd <= 90) AS overdue_61_90, sumIf(da, dpd > 90 AND dpd <= 120) AS overdue_91_120,
            sumIf(da, dpd > 120) AS overdue_over_120, max(if(dpd >= 1 AND da > 0, dpd, 0)) AS worst_dpd
        FROM (
            SELECT group_id, dc, da, toInt32(toInt32({D}) - toInt32(dd)) AS dpd
            FROM ` + groupLatestSQL("{END}") + `
            ARRAY JOIN dcs AS dc, dds AS dd, das AS da
            WHERE ` + filter + `
        )
        GROUP BY group_id, dc
    ) AS o USING group_id, currency
) AS latest
ANY LEFT JOIN (
    SELECT group_id, cur AS currency, exp AS exposure_month_ago
    FROM ` + groupLatestSQL(monthAgo) + `
    ARRAY JOIN curs AS cur, exps AS exp
    WHERE ended = 0 AND level > 0
) AS before USING group_id, currency
ORDER BY currency, exposure DESC, group_id
LIMIT ` + fmt.Sprint(p.top) + ` BY currency`
}

// monthEarlier is the same day a month before d, the month's last day when
// it has fewer days (31 March: 28 or 29 February).
func monthEarlier(d time.Time) time.Time {
	first := time.Date(d.Year(), d.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d.Day(), last)-1)
}
