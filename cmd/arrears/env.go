package main

import (
	"errors"
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

// CoreConfig configures the pure decision core: ledger rules, dunning
// policies and the risk scorecard.
type CoreConfig struct {
	// PolicyDir holds the dunning policy YAML files (default "deploy/policies").
	PolicyDir string `yaml:"policy_dir"`
	// Scorecard is the risk scorecard YAML (default "deploy/risk/scorecard.yaml";
	// empty disables scoring).
	Scorecard string `yaml:"scorecard"`
	// RiskPDDelta emits a risk event when the probability of default moved
	// more than this since the last one (default 0.05; 0: tier changes only).
	RiskPDDelta float64 `yaml:"risk_pd_delta"`
	// RequireAccount rejects events for accounts never upserted (default false).
	RequireAccount bool `yaml:"require_account"`
	// ReversalWindowDays keeps payment allocations this long for reversals (default 120).
	ReversalWindowDays int `yaml:"reversal_window_days"`
}

func defaultCoreConfig() CoreConfig {
	return CoreConfig{PolicyDir: "deploy/policies", Scorecard: "deploy/risk/scorecard.yaml", RiskPDDelta: 0.05, ReversalWindowDays: 120}
}

// Validate names the bad field.
func (c CoreConfig) Validate() error {
	var errs []error
	if c.PolicyDir == "" {
		errs = append(errs, errors.New("core.policy_dir: must not be empty"))
	}
	if c.RiskPDDelta < 0 || c.RiskPDDelta >= 1 {
		errs = append(errs, fmt.Errorf("core.risk_pd_delta: %g not in [0, 1)", c.RiskPDDelta))
	}
	if c.ReversalWindowDays < 0 || c.ReversalWindowDays > 36500 {
		errs = append(errs, fmt.Errorf("core.reversal_window_days: %d not in [0, 36500]", c.ReversalWindowDays))
	}
	return errors.Join(errs...)
}

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
