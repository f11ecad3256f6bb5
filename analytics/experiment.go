package analytics

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
)

// The experiment report (issue 14 item 2; docs/policies.md "Reading an
// experiment"): champion and challenger of each champion/challenger
// experiment side by side. The SQL gives each arm's counts and sums (it
// runs on 18.16 and current ClickHouse alike); Go then adds the rates, the
// per-account means, their 95% confidence intervals and, on the
// challenger's row, the difference in cure rate with its interval and a
// two-proportion z-test. Definitions, per account of an arm (assigned: it
// has a status row with the experiment, before the date's end):
//
//   - entered dunning: its first action under the experiment with an
//     overdue amount (time E, overdue amount O at E, days past due d at E);
//     counted for the cure rate when E is at least CureDays before the date;
//   - cured: payments (not reversed) in the action's currency in
//     (E, E + CureDays days] add up to O at least (the cure_rate report's
//     definition, per account);
//   - rolled to 31-60: counted when E + (31 - d) days is on or before the
//     date; rolled when the payments in (E, E + (31 - d) days] are below O,
//     i.e. the entry's overdue amount was not paid before its oldest item
//     reached 31 days past due;
//   - cash collected: payments (not reversed, every currency) from the
//     account's first status under the experiment to the date's end;
//   - contacts: NOTIFY actions under the experiment, priced per channel by
//     ContactCost; suspensions and write-offs: accounts with a SUSPEND or
//     WRITE_OFF action under the experiment.

// DefaultContactCost is the cost of one contact per channel when
// ReportOptions.ContactCost is nil: simulate.contact_cost's defaults.
func DefaultContactCost() map[string]float64 {
	return map[string]float64{"email": 0.01, "sms": 0.05, "letter": 0.80, "push": 0.005}
}

var contactChannels = []string{"email", "sms", "letter", "push"}

func init() {
	reports["experiment"] = report{ReportInfo{"experiment", "champion/challenger arms compared: cure, roll to 31-60, cash, contacts and their cost, suspensions, write-offs (-id EXPERIMENT)", 0}, experimentSQL}
	reportPost["experiment"] = experimentStats
}

// reportPost are the reports whose table Go completes after the SQL.
var reportPost = map[string]func(*Table, ReportOptions) (*Table, error){}

// quoteSet is quote(s), or "" for an empty s.
func quoteSet(s string) string {
	if s == "" {
		return ""
	}
	return quote(s)
}

func (p params) inExperiment() string {
	if p.experiment == "" {
		return "experiment_id != ''"
	}
	return "experiment_id = {experiment}" // filled in by params.sql, like {account}
}

func experimentSQL(p params) string {
	notify := ""
	for _, ch := range contactChannels {
		notify += ", sum(n_" + ch + ") AS " + ch
	}
	perChannel := ""
	for _, ch := range contactChannels {
		perChannel += ",\n            countIf(action_type = 'NOTIFY' AND channel = '" + ch + "') AS n_" + ch
	}
	return `SELECT experiment_id AS experiment, acct_arm AS arm, count() AS accounts,
    countIf(acted = 1 AND toDate(entered_at) <= {D} - {cure_days}) AS entered,
    countIf(acted = 1 AND toDate(entered_at) <= {D} - {cure_days} AND cure_units >= due_units) AS cured,
    countIf(acted = 1 AND toDate(entered_at) + roll_days <= {D}) AS roll_base,
    countIf(acted = 1 AND toDate(entered_at) + roll_days <= {D} AND roll_units < due_units) AS rolled,
    ` + money("sum(cash_units)") + ` AS cash_collected,
    sum(toDecimal128(cash_units, 0) * toDecimal128(cash_units, 0)) AS cash_units_squared,
    sum(contacts) AS contacts` + notify + `,
    sum(suspended) AS suspensions, sum(written_off) AS write_offs
FROM (
    SELECT experiment_id, acct_arm, account_id, acted, entered_at, due_units, roll_days, contacts,
        ` + joinChannels() + `, suspended, written_off,
        sumIf(pay_units, pay_currency = entry_currency AND pay_time > entered_at AND pay_time <= entered_at + {cure_days} * 86400) AS cure_units,
        sumIf(pay_units, pay_currency = entry_currency AND pay_time > entered_at AND pay_time <= entered_at + roll_days * 86400) AS roll_units,
        sumIf(pay_units, pay_time >= assigned_at) AS cash_units
    FROM (
        SELECT experiment_id, account_id, acct_arm, assigned_at, acted, entered_at, due_units, entry_currency,
            toInt32(31 - entry_dpd) AS roll_days, contacts, ` + joinChannels() + `, suspended, written_off
        FROM (
            SELECT experiment_id, account_id, argMin(arm, status_time) AS acct_arm, min(status_time) AS assigned_at
            FROM {db}.account_status
            WHERE ` + p.inExperiment() + ` AND status_time < {END} AND ` + p.inSegment() + `
            GROUP BY experiment_id, account_id
        ) AS arms
        ANY LEFT JOIN (
            SELECT experiment_id, account_id, toUInt8(countIf(overdue_amount > 0) > 0) AS acted,
                minIf(action_time, overdue_amount > 0) AS entered_at,
                argMinIf(` + units("overdue_amount") + `, action_time, overdue_amount > 0) AS due_units,
                argMinIf(currency, action_time, overdue_amount > 0) AS entry_currency,
                argMinIf(days_past_due, action_time, overdue_amount > 0) AS entry_dpd,
                countIf(action_type = 'NOTIFY') AS contacts` + perChannel + `,
                toUInt8(countIf(action_type = 'SUSPEND') > 0) AS suspended,
                toUInt8(countIf(action_type = 'WRITE_OFF') > 0) AS written_off
            FROM {db}.dunning_actions FINAL
            WHERE ` + p.inExperiment() + ` AND action_time < {END}
            GROUP BY experiment_id, account_id
        ) AS acts USING experiment_id, account_id
    ) AS base
    ALL LEFT JOIN (
        SELECT account_id, currency AS pay_currency, pay_time, pay_units FROM ` + paymentsSQL("{END}") + `
    ) AS payments USING account_id
    GROUP BY experiment_id, acct_arm, account_id, acted, entered_at, due_units, roll_days, contacts,
        ` + joinChannels() + `, suspended, written_off
)
GROUP BY experiment, arm
ORDER BY experiment, arm`
}

// joinChannels lists the per-channel contact columns.
func joinChannels() string {
	s := ""
	for i, ch := range contactChannels {
		if i > 0 {
			s += ", "
		}
		s += "n_" + ch
	}
	return s
}

// z95 is the two-sided 95% quantile of the standard normal.
const z95 = 1.959963984540054

// experimentColumns are the report's columns after Go completed it.
var experimentColumns = []string{"experiment", "arm", "accounts",
	"entered", "cured", "cure_rate", "cure_ci_low", "cure_ci_high",
	"cure_uplift", "uplift_ci_low", "uplift_ci_high", "z", "p_value",
	"roll_base", "rolled", "roll_rate_31_60", "roll_ci_low", "roll_ci_high",
	"cash_collected", "cash_per_account", "cash_ci_low", "cash_ci_high",
	"contacts", "contacts_per_account", "contact_cost", "contact_cost_per_account",
	"suspensions", "write_offs"}

// experimentStats completes the SQL's per-arm sums (see the top of the
// file): rates with Wilson 95% intervals, the cash mean with a normal 95%
// interval, contacts and their cost, and on a challenger row the
// difference in cure rate from its champion (Wald 95% interval, unpooled)
// and the pooled two-proportion z-test (two-sided p).
func experimentStats(t *Table, o ReportOptions) (*Table, error) {
	cost := o.ContactCost
	if cost == nil {
		cost = DefaultContactCost()
	}
	idx := map[string]int{}
	for i, c := range t.Columns {
		idx[c] = i
	}
	type arm struct {
		row                  []any
		entered, cured       float64
		exp, name            string
		accounts             float64
		cash, cashSq         float64
		contacts, costAmount float64
	}
	var arms []*arm
	byKey := map[string]*arm{}
	for _, r := range t.Rows {
		num := func(col string) (float64, error) {
			i, ok := idx[col]
			if !ok {
				return 0, fmt.Errorf("experiment report: no column %s", col)
			}
			return toFloat(r[i])
		}
		a := &arm{exp: fmt.Sprint(r[idx["experiment"]]), name: fmt.Sprint(r[idx["arm"]])}
		var vals = map[string]float64{}
		for _, c := range append([]string{"accounts", "entered", "cured", "roll_base", "rolled", "cash_collected",
			"cash_units_squared", "contacts", "suspensions", "write_offs"}, contactChannels...) {
			v, err := num(c)
			if err != nil {
				return nil, err
			}
			vals[c] = v
		}
		a.accounts, a.entered, a.cured = vals["accounts"], vals["entered"], vals["cured"]
		a.cash, a.cashSq, a.contacts = vals["cash_collected"], vals["cash_units_squared"]/1e8, vals["contacts"]
		for _, ch := range contactChannels {
			a.costAmount += vals[ch] * cost[ch]
		}
		cureLo, cureHi := wilson(a.cured, a.entered)
		rollLo, rollHi := wilson(vals["rolled"], vals["roll_base"])
		mean, lo, hi := meanCI(a.cash, a.cashSq, a.accounts)
		a.row = []any{a.exp, a.name, uint64(a.accounts),
			uint64(a.entered), uint64(a.cured), ratio(a.cured, a.entered), cureLo, cureHi,
			nil, nil, nil, nil, nil,
			uint64(vals["roll_base"]), uint64(vals["rolled"]), ratio(vals["rolled"], vals["roll_base"]), rollLo, rollHi,
			r[idx["cash_collected"]], round4(mean), round4(lo), round4(hi),
			uint64(a.contacts), ratio(a.contacts, a.accounts), round4(a.costAmount), ratio(a.costAmount, a.accounts),
			uint64(vals["suspensions"]), uint64(vals["write_offs"])}
		arms = append(arms, a)
		byKey[a.exp+"\x00"+a.name] = a
	}
	for _, a := range arms {
		champ := byKey[a.exp+"\x00champion"]
		if a.name != "challenger" || champ == nil {
			continue
		}
		d := compareCure(champ.cured, champ.entered, a.cured, a.entered)
		if d.ok {
			copy(a.row[8:13], []any{round4(d.diff), round4(d.lo), round4(d.hi), round4(d.z), d.p})
		}
	}
	sort.SliceStable(arms, func(i, j int) bool { // champion first
		if arms[i].exp != arms[j].exp {
			return arms[i].exp < arms[j].exp
		}
		return arms[i].name == "champion" && arms[j].name != "champion"
	})
	out := &Table{Name: t.Name, Columns: experimentColumns}
	for _, a := range arms {
		out.Rows = append(out.Rows, a.row)
	}
	return out, nil
}

// cureDiff is the challenger's cure rate against the champion's: diff is
// challenger minus champion, lo and hi its Wald 95% interval (unpooled
// standard error), z the pooled two-proportion statistic and p its
// two-sided p-value; ok false when an arm is empty or neither varies.
type cureDiff struct {
	diff, lo, hi, z, p float64
	ok                 bool
}

// compareCure compares k1 of n1 (champion) with k2 of n2 (challenger).
func compareCure(k1, n1, k2, n2 float64) cureDiff {
	var r cureDiff
	if n1 == 0 || n2 == 0 {
		return r
	}
	p1, p2 := k1/n1, k2/n2
	pool := (k1 + k2) / (n1 + n2)
	sePool := math.Sqrt(pool * (1 - pool) * (1/n1 + 1/n2))
	if sePool == 0 {
		return r
	}
	se := math.Sqrt(p1*(1-p1)/n1 + p2*(1-p2)/n2)
	r.diff = p2 - p1
	r.lo, r.hi = r.diff-z95*se, r.diff+z95*se
	r.z = r.diff / sePool
	r.p = math.Erfc(math.Abs(r.z) / math.Sqrt2)
	r.ok = true
	return r
}

// wilson is the Wilson score 95% interval of k successes in n (nil, nil
// for n = 0).
func wilson(k, n float64) (lo, hi any) {
	if n == 0 {
		return nil, nil
	}
	p := k / n
	z2 := z95 * z95
	centre := (p + z2/(2*n)) / (1 + z2/n)
	half := z95 / (1 + z2/n) * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return round4(math.Max(0, centre-half)), round4(math.Min(1, centre+half))
}

// meanCI is the mean of n values from their sum and sum of squares, with
// the normal 95% interval of the mean (the interval is the mean itself for
// n < 2).
func meanCI(sum, sumSq, n float64) (mean, lo, hi float64) {
	if n == 0 {
		return 0, 0, 0
	}
	mean = sum / n
	if n < 2 {
		return mean, mean, mean
	}
	v := math.Max(0, (sumSq-n*mean*mean)/(n-1))
	half := z95 * math.Sqrt(v/n)
	return mean, mean - half, mean + half
}

func ratio(a, b float64) any {
	if b == 0 {
		return nil
	}
	return round4(a / b)
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// toFloat reads a report cell as a number.
func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, nil
	case uint64:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("experiment report: %T is not a number", v)
}
