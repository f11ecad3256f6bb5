package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/arrears/arrears/analytics"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat: the kernel
// reports them in USER_HZ ticks, 100 a second on every Linux ABI Go runs on.
const userHZ = 100

// usage is a child's running totals at one instant: CPU from
// /proc/<pid>/stat, heap objects allocated and rows inserted (the sink)
// from its /metrics.
type usage struct {
	cpu    time.Duration
	allocs float64
	rows   float64
}

// usage reads the child's totals now.
func (c *child) usage(ctx context.Context) (usage, error) {
	cpu, err := procCPU(c.cmd.Process.Pid)
	if err != nil {
		return usage{}, fmt.Errorf("arrears %s: %w", c.name, err)
	}
	body, err := c.get(ctx, "/metrics")
	if err != nil {
		return usage{}, err
	}
	defer body.Close()
	fams, err := parseMetrics(body)
	if err != nil {
		return usage{}, err
	}
	return usage{cpu: cpu, allocs: counter(fams, "go_memstats_mallocs_total"), rows: counter(fams, "arrears_sink_rows_inserted_total")}, nil
}

// procCPU is the process's user + system CPU so far, from /proc/<pid>/stat
// (utime and stime, fields 14 and 15, in USER_HZ ticks).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu: %w", err)
	}
	// the command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start with the state (field 3)
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("cpu: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("cpu: /proc/%d/stat utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// sub is the usage between then and u.
func (u usage) sub(then usage) usage {
	return usage{cpu: u.cpu - then.cpu, allocs: u.allocs - then.allocs, rows: u.rows - then.rows}
}

// counter is the sum of the counter (or untyped) name over all its series
// (0 if it is missing).
func counter(fams map[string]*dto.MetricFamily, name string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		sum += m.GetCounter().GetValue() + m.GetUntyped().GetValue()
	}
	return sum
}

// clickHouseRows counts the rows in every table of the stack's database
// but schema_migrations: what ClickHouse received (the bench never sends a
// record twice, so no row of a ReplacingMergeTree has been merged away).
func (s *stack) clickHouseRows(ctx context.Context) (int, error) {
	conn, err := analytics.Open(ctx, s.cfg.ClickHouse)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n uint64
	q := "SELECT sum(rows) FROM system.parts WHERE database = ? AND active AND table != 'schema_migrations'"
	if err := conn.QueryRow(ctx, q, s.cfg.ClickHouse.Database).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows in %s: %w", s.cfg.ClickHouse.Database, err)
	}
	return int(n), nil
}

// setCost sets the cost fields from the children's usage over the
// throughput phase, the rows ClickHouse holds and the core replay.
func (r *Result) setCost(proc, sink usage, rows int, c coreCost) {
	n := float64(r.Events)
	r.ProcessorCPUUsPerEvent = us(proc.cpu) / n
	r.ProcessorAllocsPerEvent = proc.allocs / n
	r.SinkRows = int(sink.rows)
	r.SinkCPUUsPerRow = us(sink.cpu) / sink.rows
	r.SinkAllocsPerRow = sink.allocs / sink.rows
	r.ClickHouseRows = rows
	r.RowsPerEvent = float64(rows) / n
	r.CoreEvents, r.CoreRejects = c.events, c.rejects
	r.CoreCPUUsPerEvent = us(c.cpu) / float64(c.events)
	r.CoreAllocsPerEvent = float64(c.allocs) / float64(c.events)
	r.Ceilings["core"] = float64(c.events) / c.wall.Seconds()
	r.ProcessorVsCoreCPU = r.ProcessorCPUUsPerEvent / r.CoreCPUUsPerEvent
	r.SinkRowVsCoreCPU = r.SinkCPUUsPerRow / r.CoreCPUUsPerEvent
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
