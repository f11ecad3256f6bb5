package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"github.com/arrears/arrears/cmd/arrears/bench"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdBench: `arrears bench [--accounts N] [--months M] [--bill-run] [--json FILE]` runs a
// generated workload through the real stack and measures it against the
// ceilings of its parts; see package bench and docs/bench.md.
func cmdBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := bench.Flags(fs)
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return err // before the core environment: a bad size is named first
	}
	if o.Env, err = loadEnv(cfg); err != nil {
		return err
	}
	o.Env.SkipExplanations = true // as `arrears run` sets it
	res, err := bench.Run(ctx, cfg, *o, os.Stderr)
	if err != nil {
		return err
	}
	if err := res.WriteTable(os.Stdout); err != nil {
		return err
	}
	if o.JSON == "" {
		return nil
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return writeOut(o.JSON, append(b, '\n'))
}
