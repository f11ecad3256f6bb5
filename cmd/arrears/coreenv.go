package main

import (
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // account time zones resolve even without a system zone database

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
)

// loadEnv builds the pure core's environment from the core section.
func loadEnv(cfg config.Config) (*core.Env, error) {
	c := cfg.Core
	env := &core.Env{
		Rules: c.Rules(), Limits: c.Limits(),
		Risk: risk.Config{PDDelta: c.RiskPDDelta},
		Zone: core.CachedZones(time.LoadLocation),
	}
	var err error
	if env.Policies, err = policy.LoadFS(os.DirFS(c.PolicyDir)); err != nil {
		return nil, fmt.Errorf("core.policy_dir %s: %w", c.PolicyDir, err)
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
