package faults

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Size is the suite's scale: reduced (the default, run by `go test ./...` and
// CI) or full (ARREARS_FAULTS=full, run by `make faults`).
type Size struct {
	Full        bool
	Accounts    int
	Months      int
	Produce     time.Duration // the input is produced evenly over this long
	Churn       time.Duration // how long instances are killed/restarted
	ChurnEvery  time.Duration
	Phase       time.Duration // how long latency and resets each last
	Blackhole   time.Duration
	BrokerDown  time.Duration
	BrokerKills int // how many times the broker is SIGKILLed
}

// SizeFromEnv reads ARREARS_FAULTS (full or empty).
func SizeFromEnv(t testing.TB) Size {
	switch v := os.Getenv("ARREARS_FAULTS"); v {
	case "full":
		return Size{Full: true, Accounts: 5000, Months: 4, Produce: 150 * time.Second, Churn: 2 * time.Minute, ChurnEvery: 10 * time.Second,
			Phase: 15 * time.Second, Blackhole: 20 * time.Second, BrokerDown: 20 * time.Second, BrokerKills: 2}
	case "", "reduced":
		return Size{Accounts: 300, Months: 3, Produce: 45 * time.Second, Churn: 30 * time.Second, ChurnEvery: 10 * time.Second,
			Phase: 3 * time.Second, Blackhole: 20 * time.Second, BrokerDown: 20 * time.Second, BrokerKills: 1}
	default:
		t.Fatalf("ARREARS_FAULTS=%q: want full or empty", v)
		return Size{}
	}
}

// Row is one line of the summary table in docs/processing.md.
type Row struct {
	Fault      string
	Resumed    string // from the fault's end to the first commit after it
	CaughtUp   string // from the fault's end to the backlog it left committed
	Lost       int
	Duplicated int
}

var reportMu sync.Mutex

// Report logs row and, with ARREARS_FAULTS_REPORT=FILE, appends it to FILE
// as a Markdown table row.
func Report(t testing.TB, r Row) {
	t.Helper()
	line := fmt.Sprintf("| %s | %s | %s | %d | %d |", r.Fault, r.Resumed, r.CaughtUp, r.Lost, r.Duplicated)
	t.Log("summary:", line)
	path := os.Getenv("ARREARS_FAULTS_REPORT")
	if path == "" {
		return
	}
	reportMu.Lock()
	defer reportMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Errorf("report: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

// resumed formats how long after t the group first made progress
// ("nothing waiting" if it had committed everything at t).
func resumed(p *Progress, t time.Time) string {
	if d, ok := p.ResumedAfter(t); ok {
		return since(d)
	}
	if d, ok := p.CaughtUpAfter(t); ok && d < time.Second {
		return "nothing waiting"
	}
	return "never"
}

// caughtUp formats how long after t the group had committed what was
// produced by t.
func caughtUp(p *Progress, t time.Time) string {
	if d, ok := p.CaughtUpAfter(t); ok {
		return since(d)
	}
	return "never"
}
