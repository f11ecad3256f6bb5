package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
	_ "time/tzdata" // account time zones resolve even without a system zone database

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/ledger"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
)

// loadPolicies reads every *.yaml in dir into a validated policy set.
func loadPolicies(dir string) (*policy.Set, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("core.policy_dir: no *.yaml policies in %s", dir)
	}
	sort.Strings(paths)
	files := make([]policy.File, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, policy.File{Name: p, Data: b})
	}
	return policy.LoadSet(files)
}

// loadEnv builds the pure core's environment from the core section.
func loadEnv(cfg Config) (*core.Env, error) {
	c := cfg.Core
	env := &core.Env{
		Rules: ledger.Rules{RequireAccount: c.RequireAccount, ReversalWindowDays: c.ReversalWindowDays},
		Risk:  risk.Config{PDDelta: c.RiskPDDelta},
		Zone:  core.CachedZones(time.LoadLocation),
	}
	var err error
	if env.Policies, err = loadPolicies(c.PolicyDir); err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	if c.Scorecard != "" {
		b, err := os.ReadFile(c.Scorecard)
		if err != nil {
			return nil, fmt.Errorf("core.scorecard: %w", err)
		}
		if env.Scorecard, err = risk.Load(b, c.Scorecard); err != nil {
			return nil, err
		}
	}
	return env, nil
}
