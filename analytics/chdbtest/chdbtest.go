package chdbtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
)

// HTTPAddr is the local ClickHouse 18.16's HTTP interface (make up).
const HTTPAddr = "http://127.0.0.1:8123"

//go:embed run.py
var runPy string

// Query is one named SQL query (already expanded: no placeholders).
type Query struct{ Name, SQL string }

// Python returns the python3 of chDB's virtualenv, installing chDB on first
// use through deploy/local/chdb.sh. Under -short it skips; otherwise a
// failed install fails the test.
func Python(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse 18.16 (make up) and chDB from PyPI")
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "local", "chdb.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chDB is required (bash deploy/local/chdb.sh): %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// tableRE finds the tables the migrations create or alter.
var tableRE = regexp.MustCompile(`\{db\}\.(\w+)`)

// Compare copies the database db, migrated and filled on ClickHouse 18.16,
// into a fresh chDB session (every migration's statements, then each
// migrated table's rows as TabSeparated), runs every query on both engines
// and fails t for each query that errors on either or whose result (column
// names and rows, in order, as TabSeparatedWithNames) differs. It returns
// how many queries gave equal results, and chDB's and its ClickHouse's
// versions.
func Compare(t testing.TB, py, db string, queries []Query) (equal int, chdb, version string) {
	t.Helper()
	ms, err := analytics.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	setup := []string{"CREATE DATABASE " + db}
	tables := map[string]bool{}
	for _, m := range ms {
		setup = append(setup, m.Statements(db)...)
		for _, g := range tableRE.FindAllStringSubmatch(m.SQL, -1) {
			tables[g[1]] = true
		}
	}
	for name := range tables {
		rows, err := query(db, "SELECT * FROM "+db+"."+name, "TabSeparated")
		if err != nil {
			t.Fatalf("export %s from 18.16: %v", name, err)
		}
		if rows != "" {
			setup = append(setup, "INSERT INTO "+db+"."+name+" FORMAT TabSeparated\n"+rows)
		}
	}
	sqls := make([]string, len(queries))
	for i, q := range queries {
		sqls[i] = q.SQL
	}
	res, err := runChDB(py, setup, sqls)
	if err != nil {
		t.Fatalf("chDB: %v", err)
	}
	if len(res.Results) != len(queries) {
		t.Fatalf("chDB returned %d results for %d queries", len(res.Results), len(queries))
	}
	for i, q := range queries {
		old, err := query(db, q.SQL, "TabSeparatedWithNames")
		cur := res.Results[i]
		switch {
		case err != nil:
			t.Errorf("%s on 18.16: %v\n%s", q.Name, err, q.SQL)
		case cur.Error != "":
			t.Errorf("%s on chDB %s (ClickHouse %s): %s\n%s", q.Name, res.ChDB, res.Version, cur.Error, q.SQL)
		case old != cur.Out:
			t.Errorf("%s differs:\n18.16:\n%s\nchDB %s (ClickHouse %s):\n%s", q.Name, old, res.ChDB, res.Version, cur.Out)
		default:
			equal++
		}
	}
	t.Logf("%d of %d queries equal on ClickHouse 18.16 and chDB %s (ClickHouse %s)", equal, len(queries), res.ChDB, res.Version)
	return equal, res.ChDB, res.Version
}

type chdbResult struct {
	ChDB    string `json:"chdb"`
	Version string `json:"version"`
	Results []struct {
		Out   string `json:"out"`
		Error string `json:"error"`
	} `json:"results"`
}

// runChDB runs run.py with setup statements and queries.
func runChDB(py string, setup, queries []string) (*chdbResult, error) {
	in, err := json.Marshal(map[string][]string{"setup": setup, "queries": queries})
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, "-c", runPy)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	cmd.Stdin, cmd.Stderr = bytes.NewReader(in), &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", py, err, stderr.String())
	}
	var r chdbResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("decode run.py output: %w", err)
	}
	return &r, nil
}

var client = &http.Client{Timeout: 2 * time.Minute}

// query runs sql on the local ClickHouse over HTTP and returns its output
// in format.
func query(db, sql, format string) (string, error) {
	body := strings.TrimRight(strings.TrimSpace(sql), ";") + "\nFORMAT " + format
	resp, err := client.Post(HTTPAddr+"/?database="+url.QueryEscape(db), "text/plain", strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("ClickHouse HTTP (make up): %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return string(b), nil
}
