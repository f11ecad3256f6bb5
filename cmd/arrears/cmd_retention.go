package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdRetention: `arrears retention apply [--months N] [--dry-run]`: drop
// ClickHouse history older than retention.months (docs/security.md
// "Personal data").
func cmdRetention(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "apply" {
		return fmt.Errorf("%w: arrears retention apply [--months N] [--dry-run]", errUsage)
	}
	fs := flag.NewFlagSet("retention apply", flag.ContinueOnError)
	months := fs.Int("months", 0, "months of history to keep (default: retention.months)")
	dry := fs.Bool("dry-run", false, "print what would be dropped and changed, change nothing")
	cfg, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	r := cfg.Retention
	if *months != 0 {
		r.Months = *months
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("--months: %w", err)
	}
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	return retention(ctx, conn, r.Months, time.Now(), *dry, os.Stdout)
}

// retention plans and (unless dry) applies a retention of months months,
// printing each statement.
func retention(ctx context.Context, conn *analytics.Conn, months int, now time.Time, dry bool, w io.Writer) error {
	if months < 1 {
		return errors.New("retention: months must be at least 1")
	}
	p, err := analytics.PlanRetention(ctx, conn, months, now)
	if err != nil {
		return err
	}
	verb := "dropping"
	if dry {
		verb = "would drop"
	}
	fmt.Fprintf(w, "ClickHouse %s, database %s: keeping %d months, %s history before %s\n",
		p.Version, conn.Database, months, verb, p.Cutoff.Format(time.DateOnly))
	if len(p.TTL) == 0 {
		fmt.Fprintln(w, "no table TTL on this server (before 19.6): old partitions are dropped by this command only")
	}
	for _, s := range p.RetentionSummary() {
		fmt.Fprintln(w, "  "+s)
	}
	for _, q := range p.Statements(conn.Database) {
		fmt.Fprintln(w, "  "+q)
	}
	if dry {
		return nil
	}
	if err := analytics.ApplyRetention(ctx, conn, p); err != nil {
		return err
	}
	fmt.Fprintf(w, "done: %d partitions dropped, %d TTLs set\n", len(p.Drops), len(p.TTL))
	return nil
}
