package faults

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// clickHouseHTTP is the shared ClickHouse's HTTP interface, used to read back
// what the sink landed.
var clickHouseHTTP = func() string {
	if v := os.Getenv("ARREARS_TEST_CLICKHOUSE_HTTP"); v != "" {
		return v
	}
	return "127.0.0.1:8123"
}()

// CHQuery runs one statement on the shared ClickHouse over HTTP and returns
// its TSV lines.
func CHQuery(t testing.TB, q string) []string {
	t.Helper()
	resp, err := http.Post("http://"+clickHouseHTTP+"/?query="+url.QueryEscape(q), "text/plain", nil)
	if err != nil {
		t.Fatalf("clickhouse %s: %v", clickHouseHTTP, err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("clickhouse: %s: %s", resp.Status, strings.Join(lines, "\n"))
	}
	return lines
}

// CHIDs counts the rows of db.table by col; with final, as ReplacingMergeTree
// collapses them (FINAL), else raw.
func CHIDs(t testing.TB, db, table, col string, final bool) map[string]int {
	t.Helper()
	q := "SELECT " + col + " FROM " + db + "." + table
	if final {
		q += " FINAL"
	}
	out := map[string]int{}
	for _, l := range CHQuery(t, q+" FORMAT TSV") {
		out[l]++
	}
	return out
}

// Landed is what the sink landed in db as Outputs (states are not landed
// per account; the caller fills them in).
func Landed(t testing.TB, db string, final bool) Outputs {
	t.Helper()
	return Outputs{
		Actions: CHIDs(t, db, "dunning_actions", "action_id", final),
		Risk:    CHIDs(t, db, "risk_events", "event_id", final),
		GL:      CHIDs(t, db, "gl_entries", "entry_id", final),
	}
}

// Sink starts `arrears sink` (own group) landing the stack's topics in the
// ClickHouse database db, reached at addr; db is dropped at the end.
func (s *Stack) Sink(name, addr, db string) *Proc {
	s.t.Helper()
	env := append(s.runEnv(name, RunOpts{}),
		"ARREARS_CLICKHOUSE_ADDRS="+addr, "ARREARS_CLICKHOUSE_DATABASE="+db,
		"ARREARS_SINK_GROUP_ID="+s.Group+"-sink", "ARREARS_SINK_MIGRATE=true", "ARREARS_SINK_FLUSH_INTERVAL=500ms")
	s.t.Cleanup(func() { CHQuery(s.t, "DROP DATABASE IF EXISTS "+db) })
	return s.Start(name, []string{"sink"}, env...)
}
