package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdMigrate: `arrears migrate [-status]`, the ClickHouse schema.
func cmdMigrate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	status := fs.Bool("status", false, "only list applied and pending migrations")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !*status {
		if err := analytics.Migrate(ctx, conn); err != nil {
			return err
		}
	}
	ms, err := analytics.Migrations()
	if err != nil {
		return err
	}
	applied := map[uint32]analytics.AppliedMigration{}
	if as, err := analytics.Applied(ctx, conn); err == nil {
		for _, a := range as {
			applied[a.Version] = a
		}
	}
	for _, m := range ms {
		state := "pending"
		if a, ok := applied[m.Version]; ok {
			state = "applied " + a.AppliedAt.UTC().Format("2006-01-02 15:04:05")
		}
		fmt.Printf("%04d_%s\t%s\n", m.Version, m.Name, state)
	}
	fmt.Printf("database %s on %v\n", cfg.ClickHouse.Database, cfg.ClickHouse.Addrs)
	return nil
}
