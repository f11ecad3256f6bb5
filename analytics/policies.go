package analytics

import (
	"time"

	"github.com/arrears/arrears/processor/policy"
)

// PoliciesTable holds the published policy versions (migration 0011).
var PoliciesTable = &TableSpec{"policies", []string{"name", "version", "effective_from", "effective_ms", "applied_at",
	"applied_ms", "yaml", "ingested_at"}}

// PolicyRows are the policies rows of one ar.policies record: the version
// it publishes and each earlier one it carries (they collapse with the
// rows landed before under FINAL).
func PolicyRows(r policy.Record, now time.Time) []Row {
	vs := r.Flatten()
	rows := make([]Row, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, Row{PoliciesTable, []any{v.Name, v.Version, utc(v.EffectiveFrom), v.EffectiveFrom.UnixMilli(),
			utc(v.AppliedAt), v.AppliedAt.UnixMilli(), string(v.YAML), now}})
	}
	return rows
}

func init() {
	reports["policy_versions"] = report{ReportInfo{"policy_versions",
		"published policy versions: when each took effect and which is in force at the end of the date (files-only policies are not listed)", 0},
		policyVersionsSQL}
}

// policyVersionsSQL: every published version, its state at the end of the
// as-of date (active: the latest effective_from before then, per name;
// superseded; scheduled: effective later) and the dunning actions decided
// with it so far.
func policyVersionsSQL(p params) string {
	// ClickHouse 18.16 takes one JOIN per SELECT: the state first, then the actions
	return `SELECT name, version, effective_from, applied_at, state, ifNull(actions, 0) AS actions
FROM (
    SELECT name, version, effective_from, effective_ms, applied_at,
        multiIf(effective_ms >= toInt64(toUnixTimestamp({END})) * 1000, 'scheduled', effective_ms = active_ms, 'active', 'superseded') AS state
    FROM (SELECT name, version, effective_from, effective_ms, applied_at FROM {db}.policies FINAL) AS v
    ANY LEFT JOIN (
        SELECT name, max(effective_ms) AS active_ms FROM {db}.policies FINAL
        WHERE effective_ms < toInt64(toUnixTimestamp({END})) * 1000
        GROUP BY name
    ) AS a USING name
) AS s
ANY LEFT JOIN (
    SELECT policy_name AS name, policy_version AS version, count() AS actions FROM {db}.dunning_actions FINAL
    WHERE action_time < {END}
    GROUP BY name, version
) AS n USING name, version
ORDER BY name, effective_ms`
}
