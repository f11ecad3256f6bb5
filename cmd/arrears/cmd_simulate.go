package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/cmd/arrears/simulate"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/schemas"
)

// cmdSimulate: `arrears simulate --policy FILE... --from D --to D
// [--sample N] [--response none|historical] [--cure-days N] [--format
// table|json] [--actions FILE] [--progress]`
// replays the input history landed in ClickHouse under the active policies
// (core.policy_dir, as `arrears run` loads them) and under the candidate
// (the --policy files replace the policies of the same name), and prints
// both side by side; with --response historical also an estimate of cures
// and cash per arm from the cure rates history shows after each action
// (simulate.ResponseMethod); see package simulate and docs/policies.md.
func cmdSimulate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	var files listFlag
	fs.Var(&files, "policy", "candidate policy file (repeat, or several after one --policy)")
	from := fs.String("from", "", "first day (YYYY-MM-DD) or instant (RFC 3339) whose decisions are counted")
	to := fs.String("to", "", "last day (YYYY-MM-DD, inclusive) or instant (RFC 3339) replayed (default: the last landed event)")
	sample := fs.Int("sample", 0, "replay a deterministic sample of N accounts (hash of the account id); 0: all")
	response := fs.String("response", "none", "customer response model: none (the landed events as they happened) or historical (also estimate cures and cash from the cure rates observed after each action)")
	cureDays := fs.Int("cure-days", 30, "--response historical: a payment within this many days of an action is credited to it")
	progress := fs.Bool("progress", false, "show progress on stderr even when it is not a terminal")
	format := fs.String("format", "table", "table or json")
	actions := fs.String("actions", "", "also write every counted action of both replays to FILE (JSON lines)")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	files = append(files, fs.Args()...) // --policy a.yaml b.yaml
	o := simulate.Options{Sample: *sample, Cost: cfg.Simulate.ContactCost, KeepActions: *actions != "",
		Historical: *response == "historical", CureDays: *cureDays}
	switch {
	case len(files) == 0:
		return fmt.Errorf("%w: --policy FILE... is required", errUsage)
	case *response != "none" && *response != "historical":
		return fmt.Errorf("%w: --response %q is not none or historical", errUsage, *response)
	case *cureDays < 1 || *cureDays > 365:
		return fmt.Errorf("%w: --cure-days %d is not between 1 and 365", errUsage, *cureDays)
	case *format != "table" && *format != "json":
		return fmt.Errorf("%w: --format %q is not table or json", errUsage, *format)
	case *sample < 0:
		return fmt.Errorf("%w: --sample %d is negative", errUsage, *sample)
	}
	if o.From, err = parseWhen(*from, "--from", false); err != nil {
		return err
	}
	if o.Until, err = parseWhen(*to, "--to", true); err != nil {
		return err
	}
	active, err := loadEnv(cfg)
	if err != nil {
		return err
	}
	active.SkipExplanations = true // as `arrears run` sets it
	// the published policy versions, as `arrears run` decides with them
	if err := withVersions(ctx, cfg, active); err != nil {
		return err
	}
	pf := make([]policy.File, len(files))
	for i, f := range files {
		if pf[i].Data, err = os.ReadFile(f); err != nil {
			return fmt.Errorf("candidate policy: %w", err)
		}
		pf[i].Name = f
	}
	candidate, changed, err := simulate.Candidate(active, pf)
	if err != nil {
		return fmt.Errorf("candidate policy: %w", err)
	}
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return fmt.Errorf("codec: %w", err)
	}
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	h := simulate.ClickHouse{Conn: conn}
	if *to == "" { // the last landed event: wake-ups past it would run on with no input
		if o.Until, err = h.Last(ctx); err != nil {
			return err
		}
	}
	if o.Until.Before(o.From) {
		return fmt.Errorf("%w: --to is before --from", errUsage)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(cfg.Simulate.GCPercent)
	}
	if _, from, err := processor.SetMemoryLimit(cfg.Processor); err != nil {
		return err
	} else if total := physicalMemory(); from == "unset" && total > 0 {
		// at gc_percent 300 the heap would grow to 4 times the books (about
		// 8 GB live at 1M accounts): bound it below the machine's memory
		debug.SetMemoryLimit(total / 4 * 3)
	}
	o.Progress = simProgress(time.Now(), *progress)
	res, err := simulate.Run(ctx, h, codec.DecodeEvent, active, candidate, o)
	if err != nil {
		return err
	}
	res.Changed = changed
	if *actions != "" {
		if err := writeActions(*actions, res); err != nil {
			return err
		}
	}
	if *format == "json" {
		return res.WriteJSON(os.Stdout)
	}
	return res.WriteTable(os.Stdout)
}

// physicalMemory is the machine's memory in bytes (MemTotal of
// /proc/meminfo), 0 when unknown.
func physicalMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// parseWhen reads a day (its midnight UTC, or with end the last
// millisecond of that day) or an RFC 3339 instant; empty is the Unix epoch
// (the caller takes the last landed event for an empty end).
func parseWhen(s, flagName string, end bool) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			return d.AddDate(0, 0, 1).Add(-time.Millisecond), nil
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not YYYY-MM-DD or RFC 3339", errUsage, flagName, s)
	}
	return t.UTC(), nil
}

// writeActions writes both replays' actions, one JSON object a line, each
// with its arm.
func writeActions(path string, r *simulate.Result) error {
	var b []byte
	for _, arm := range []struct {
		name string
		as   []simulate.Action
	}{{"active", r.ActiveActions}, {"candidate", r.CandidateActions}} {
		for _, a := range arm.as {
			line, err := json.Marshal(struct {
				Arm string `json:"arm"`
				simulate.Action
			}{arm.name, a})
			if err != nil {
				return err
			}
			b = append(append(b, line...), '\n')
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--actions: %w", err)
	}
	return nil
}

// simProgress reports the replays' progress on stderr (never stdout, where
// --format json goes): a live bar on a terminal, with force a line every 5 s
// otherwise, else nothing.
func simProgress(start time.Time, force bool) func(done, total int) {
	fi, _ := os.Stderr.Stat()
	tty := fi != nil && fi.Mode()&os.ModeCharDevice != 0
	if !tty && !force {
		return nil
	}
	every := 5 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	last := start
	return func(done, total int) {
		now := time.Now()
		final := done >= total
		if !final && now.Sub(last) < every {
			return
		}
		last = now
		rate := float64(done) / max(now.Sub(start).Seconds(), 1e-9)
		pct := 100.0
		if total > 0 {
			pct = 100 * float64(done) / float64(total)
		}
		switch {
		case tty:
			n := int(pct / 5)
			fmt.Fprintf(os.Stderr, "\rsimulate [%-20s] %5.1f%% %d/%d records read + replayed %.0f/s", strings.Repeat("=", n), pct, done, total, rate)
			if final {
				fmt.Fprintln(os.Stderr)
			}
		default:
			fmt.Fprintf(os.Stderr, "simulate: %d/%d records read + replayed (%.1f%%), %.0f/s\n", done, total, pct, rate)
		}
	}
}
