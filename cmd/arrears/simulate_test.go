package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/bench"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/cmd/arrears/feed"
	"github.com/arrears/arrears/cmd/arrears/simulate"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
	"github.com/arrears/arrears/schemas"
)

// TestSimulateFaithful is the faithfulness check of issue 14 on the real
// stack: a generated book goes through `arrears run` and `arrears sink`
// (children, simulated time), then `arrears simulate` with the active
// policies replays the history the sink landed and decides exactly the
// actions run emitted: the same ids, types, channels and times (at
// ClickHouse's second precision). The candidate is the active postpaid
// policy itself, so it decides the same too.
func TestSimulateFaithful(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	const parts = 3
	cfg := config.Defaults()
	cfg.Kafka = testkit.KafkaConfig(t, parts)
	rdb, pref := testkit.Redis(t)
	conn, chc := testkit.ClickHouse(t, "simulate")
	id := "sim" + testkit.ID()
	cfg.Redis.Addrs, cfg.Redis.Prefix = []string{testkit.RedisAddr}, pref
	cfg.Processor.GroupID, cfg.Processor.TransactionalID = id, id+"-1"
	cfg.Processor.Time, cfg.Processor.TickInterval = processor.TimeSimulated, 0
	cfg.Sink.GroupID = id + "-sink"
	cfg.ClickHouse = chc
	cfg.Core.PolicyDir, cfg.Core.Scorecard = "../../deploy/policies", "../../deploy/risk/scorecard.yaml"
	cfg.HTTP.Listen, cfg.Log.Level = "", "warn"
	dir := t.TempDir()
	path := filepath.Join(dir, "arrears.yaml")
	secrets, err := cfg.WriteFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// a corporate version published mid-history, before run starts
	// (docs/policies.md "Lifecycle"): run switches to it at its
	// effective_from, and so must simulate (action ids carry the version)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	corp := publishVersion(t, cfg.Kafka, "../../deploy/policies/corporate.yaml", start.AddDate(0, 1, 14), start.Add(-2*time.Hour))
	for _, name := range []string{"run", "sink"} {
		startChild(t, name, path, filepath.Join(dir, name+".log"), secrets)
	}

	ctx := context.Background()
	wo := workload.Options{Seed: 11, Accounts: 400, Months: 3, Partitions: parts, TickEvery: time.Hour,
		Start: start}
	if err := cmdGen(ctx, []string{"-config", path, "--seed", "11", "--accounts", "400", "--months", "3", "--start", "2026-01-01"}); err != nil {
		t.Fatal(err)
	}
	if err := cmdWait(ctx, []string{"-config", path, "--timeout", "4m"}); err != nil {
		t.Fatal(err)
	}
	if !testkit.WaitWakeupsFired(rdb, pref, parts, 2*time.Minute) {
		t.Fatal("due wake-ups still unfired after 2 minutes")
	}
	if err := cmdWait(ctx, []string{"-config", path, "--group", cfg.Sink.GroupID, "--timeout", "4m"}); err != nil {
		t.Fatal(err)
	}

	// what run emitted, as the sink landed it
	type action struct{ ID, Account, Type, Channel, Time string }
	rows, err := conn.Query(ctx, "SELECT action_id, account_id, action_type, channel, action_time FROM "+
		conn.Table("dunning_actions")+" FINAL")
	if err != nil {
		t.Fatal(err)
	}
	var emitted []action
	types := map[string]int{}
	for rows.Next() {
		var a action
		var at time.Time
		if err := rows.Scan(&a.ID, &a.Account, &a.Type, &a.Channel, &at); err != nil {
			t.Fatal(err)
		}
		a.Time = at.UTC().Format(time.RFC3339)
		emitted = append(emitted, a)
		types[a.Type]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(emitted) < 100 || len(types) < 4 {
		t.Fatalf("run emitted %d actions of types %v: too few to prove anything", len(emitted), types)
	}
	var switched uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM "+conn.Table("dunning_actions")+" FINAL WHERE policy_version = '"+corp+"'").Scan(&switched); err != nil || switched == 0 {
		t.Fatalf("run emitted %d actions under the published corporate version %s (%v)", switched, corp, err)
	}

	// the clock run reached: the workload's last ClockTick
	var end time.Time
	for g := workload.New(wo); ; {
		ev, ok := g.Next()
		if !ok {
			break
		}
		end = maxTime(end, ev.Time)
	}
	out := filepath.Join(dir, "actions.jsonl")
	stdout := os.Stdout // the JSON result, read below
	if os.Stdout, err = os.Create(filepath.Join(dir, "result.json")); err != nil {
		t.Fatal(err)
	}
	err = cmdSimulate(ctx, []string{"-config", path, "--policy", "../../deploy/policies/postpaid.yaml",
		"--to", end.Format(time.RFC3339Nano), "--actions", out, "--format", "json", "--response", "historical"})
	os.Stdout.Close()
	os.Stdout = stdout
	if err != nil {
		t.Fatal(err)
	}
	// --response historical: the candidate is the active policy, so the
	// same estimate; the workload's customers pay, so some cures
	var res simulate.Result
	if b, err := os.ReadFile(filepath.Join(dir, "result.json")); err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("simulate's JSON: %v", err)
	}
	if e := res.Response; e == nil || e.Method == "" || e.Active.Cures <= 0 || e.Active != e.Candidate {
		t.Errorf("historical response %+v, want a method and the same positive estimate in both arms", e)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	arms := map[string][]action{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var a struct {
			Arm string `json:"arm"`
			simulate.Action
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatal(err)
		}
		arms[a.Arm] = append(arms[a.Arm], action{a.ID, a.Account, a.Type, a.Channel, a.Time.UTC().Truncate(time.Second).Format(time.RFC3339)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	byID := func(x, y action) int {
		if x.ID < y.ID {
			return -1
		}
		if x.ID > y.ID {
			return 1
		}
		return 0
	}
	slices.SortFunc(emitted, byID)
	for _, arm := range []string{"active", "candidate"} {
		got := arms[arm]
		slices.SortFunc(got, byID)
		if !slices.Equal(got, emitted) {
			diff(t, arm, got, emitted, func(a action) string { return a.ID }, func(a action) string {
				return a.Account + " " + a.Type + " " + a.Channel + " " + a.Time
			})
		}
	}
	t.Logf("run emitted %d actions %v; simulate decided the same under both arms", len(emitted), types)

	// the history read in chunks of about 500 records (some 200 queries)
	// is the one read in one chunk: each partition's records in offset order
	read := func(h simulate.ClickHouse) (map[int32][]string, int) {
		by, n := map[int32][]string{}, 0
		if err := h.Records(ctx, end, func(r simulate.Record) error {
			by[r.Partition] = append(by[r.Partition], fmt.Sprintf("%d %s %x", r.Ms, r.Account, r.Value))
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return by, n
	}
	whole, n := read(simulate.ClickHouse{Conn: conn})
	chunked, m := read(simulate.ClickHouse{Conn: conn, Chunk: 500})
	if n != res.Records || m != n || len(whole) != parts || !reflect.DeepEqual(chunked, whole) {
		t.Errorf("read in chunks of 500: %d records on %d partitions; in one: %d on %d (simulate read %d); or they differ",
			m, len(chunked), n, len(whole), res.Records)
	}
}

// diff reports the first differences between got and want, keyed by key.
func diff[T any](t *testing.T, what string, got, want []T, key func(T) string, show func(T) string) {
	t.Helper()
	g, w := map[string]T{}, map[string]T{}
	for _, x := range got {
		g[key(x)] = x
	}
	for _, x := range want {
		w[key(x)] = x
	}
	n := 0
	for k, x := range w {
		if y, ok := g[k]; !ok {
			t.Errorf("%s: missing %s %s", what, k, show(x))
			n++
		} else if show(x) != show(y) {
			t.Errorf("%s: %s is %s, run emitted %s", what, k, show(y), show(x))
			n++
		}
		if n > 10 {
			break
		}
	}
	for k, y := range g {
		if _, ok := w[k]; !ok && n <= 20 {
			t.Errorf("%s: extra %s %s", what, k, show(y))
			n++
		}
	}
	t.Errorf("%s: %d actions, run emitted %d", what, len(got), len(want))
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// startChild runs this test binary as `arrears name -config path` (it stands
// in for arrears, see TestMain) and stops it with SIGTERM when the test ends.
func startChild(t *testing.T, name, path, log string, secrets []string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(append(config.ChildEnv(os.Environ()), secrets...), bench.ChildMarker+"=1")
	testkit.StartChild(t, exe, []string{name, "-config", path}, env, log)
}

// BenchmarkSimulateClickHouse times `arrears simulate` end to end (read
// from ClickHouse, decode, both replays) over 3 months of a generated book
// of $ARREARS_SIM_ACCOUNTS accounts (default 2000) on 12 partitions, landed
// straight into event_records of a scratch database as the sink would
// land it (no processor run: the landing and the merge after it are not
// timed).
func BenchmarkSimulateClickHouse(b *testing.B) {
	testkit.Integration(b, "clickhouse")
	accts := 2000
	if v, err := strconv.Atoi(os.Getenv("ARREARS_SIM_ACCOUNTS")); err == nil && v > 0 {
		accts = v
	}
	const parts = 12
	conn, chc := testkit.ClickHouse(b, "simbench")
	ctx := context.Background()
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		b.Fatal(err)
	}
	wo := workload.Options{Seed: 7, Accounts: accts, Months: 3, Partitions: parts, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	offsets := make([]int64, parts)
	var rows [][]any
	events, now := 0, time.Now()
	flush := func() {
		if err := analytics.Insert(ctx, conn, analytics.EventRecordsTable, rows); err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
	}
	for g := workload.New(wo); ; {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if ev.Body.Kind() == event.KindClockTick {
			continue // never landed: the processor copies only applied records
		}
		rec, err := feed.Record(ctx, codec, "bench.events", ev, false)
		if err != nil {
			b.Fatal(err)
		}
		p := kafkax.PartitionFor([]byte(ev.Account), parts)
		rows = append(rows, analytics.EventRecordRow(ev, analytics.Source{Partition: p, Offset: offsets[p]}, rec.Value, now).Values)
		offsets[p]++
		events++
		if len(rows) == 100000 {
			flush()
		}
	}
	flush()
	// landed history is months old and merged; the 70 parts just inserted
	// would otherwise merge during the timed run
	if err := conn.Exec(ctx, "OPTIMIZE TABLE "+conn.Table(analytics.EventRecordsTable.Name)+" FINAL"); err != nil {
		b.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.ClickHouse = chc
	cfg.Core.PolicyDir, cfg.Core.Scorecard = "../../deploy/policies", "../../deploy/risk/scorecard.yaml"
	path := filepath.Join(b.TempDir(), "arrears.yaml")
	if _, err := cfg.WriteFile(path); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now() // one read of the history alone, for comparison
	if err := (simulate.ClickHouse{Conn: conn}).Records(ctx, time.Now(), func(simulate.Record) error { return nil }); err != nil {
		b.Fatal(err)
	}
	read := time.Since(t0)
	stdout := os.Stdout
	os.Stdout, _ = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer func() { os.Stdout = stdout }()
	b.ResetTimer()
	cpu0 := testkit.CPUTime()
	for range b.N {
		if err := cmdSimulate(ctx, []string{"-config", path, "--policy", "../../deploy/policies/postpaid.yaml",
			"--to", "2026-04-30", "--format", "json"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(2*events)/((testkit.CPUTime()-cpu0).Seconds()/float64(b.N)), "events/cpu_s") // ClickHouse's own CPU not counted
	b.ReportMetric(float64(2*events)/(b.Elapsed().Seconds()/float64(b.N)), "events/s")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(read.Seconds(), "read_s")
}

// TestPhysicalMemory: simulate's default memory limit comes from the
// machine's memory (Linux /proc/meminfo).
func TestPhysicalMemory(t *testing.T) {
	if n := physicalMemory(); n < 256<<20 {
		t.Errorf("physicalMemory() = %d, want the machine's memory", n)
	}
}
