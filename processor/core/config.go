package core

import (
	"errors"
	"fmt"
)

// Config configures the pure decision core: ledger rules, dunning
// policies and the risk scorecard.
type Config struct {
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

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{PolicyDir: "deploy/policies", Scorecard: "deploy/risk/scorecard.yaml", RiskPDDelta: 0.05, ReversalWindowDays: 120}
}

// Validate names the bad field.
func (c Config) Validate() error {
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
