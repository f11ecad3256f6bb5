package analytics_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
)

// runStatements runs every migration in db, then stmts, in one chDB
// session, and returns each statement's error ("" when it ran) and the
// ClickHouse version.
const runStatements = `
import json, sys, tempfile
from chdb import session
req = json.load(sys.stdin)
with tempfile.TemporaryDirectory() as d:
    s = session.Session(d)
    for sql in req["setup"]:
        s.query(sql)
    errs = []
    for sql in req["stmts"]:
        try:
            s.query(sql)
            errs.append("")
        except Exception as e:
            errs.append(str(e))
    version = str(s.query("SELECT version()", "TSV")).strip()
    s.close()
json.dump({"version": version, "errors": errs}, sys.stdout)
`

// TestErasureAndRetentionOnCurrentClickHouse runs the erasure's and
// retention's statements (the ALTER DELETE and UPDATE, the system.tables,
// columns, mutations and parts queries, DROP PARTITION ID and MODIFY TTL)
// on chDB, current ClickHouse, over the migrated schema with rows in it;
// TestEraseAccounts and TestRetentionApply run them on 18.16.
func TestErasureAndRetentionOnCurrentClickHouse(t *testing.T) {
	py := chdbtest.Python(t)
	const db = "arrears_chk"
	ms, err := analytics.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	setup := []string{"CREATE DATABASE " + db}
	for _, m := range ms {
		setup = append(setup, m.Statements(db)...)
	}
	setup = append(setup,
		"INSERT INTO "+db+".events (event_id, event_time, account_id) VALUES ('e1', '2023-01-15 10:00:00', 'O\\'Brien'), ('e2', '2026-01-15 10:00:00', 'B')",
		"INSERT INTO "+db+".accounts (account_id, event_id, event_time, parent_id) VALUES ('B', 'u1', '2026-01-01 00:00:00', 'O\\'Brien')",
		"INSERT INTO "+db+".receivables_snapshot (as_of, build, kind, segment, currency, day, units) VALUES ('2023-01-31', 3, 1, 's', 'EUR', '2023-01-31', 1)")
	stmts := analytics.ErasureSQL(db, []string{"O'Brien", `back\slash`})
	plan := analytics.RetentionPlan{
		Drops: []analytics.PartitionDrop{{Table: "events", PartitionID: "202301"}, {Table: "receivables_snapshot", PartitionID: "20230131-3"}},
		TTL:   []analytics.TTLChange{{Table: "events", Expr: "event_time + toIntervalMonth(24)"}, {Table: "receivables_snapshot", Expr: "as_of + toIntervalMonth(24)"}},
	}
	stmts = append(stmts, analytics.RetentionSQL(db, plan)...)
	in, err := json.Marshal(map[string][]string{"setup": setup, "stmts": stmts})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, "-c", runStatements)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin, cmd.Stderr = bytes.NewReader(in), &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chDB: %v\n%s", err, stderr.String())
	}
	var res struct {
		Version string   `json:"version"`
		Errors  []string `json:"errors"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != len(stmts) {
		t.Fatalf("%d results for %d statements", len(res.Errors), len(stmts))
	}
	for i, e := range res.Errors {
		if e != "" {
			t.Errorf("ClickHouse %s: %s\n%s", res.Version, strings.TrimSpace(e), stmts[i])
		}
	}
	if !analytics.SupportsTTL(res.Version) {
		t.Errorf("chDB's ClickHouse %s: SupportsTTL false", res.Version)
	}
	t.Logf("%d statements ran on ClickHouse %s", len(stmts), res.Version)
}
