package core

import (
	"errors"
	"fmt"

	"github.com/arrears/arrears/processor/dunning"
	"github.com/arrears/arrears/processor/ledger"
)

// Config configures the pure decision core: ledger rules, dunning
// policies and limits, and the risk scorecard. It is the root config's
// `core` section; every key is flat under it (core.dedupe_days, ...).
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
	// DedupeDays remembers every accepted event id this many days: a repeat
	// is a duplicate whatever its payload (default 35, in [1, 3660]).
	DedupeDays int `yaml:"dedupe_days"`
	// TombstoneDays remembers the ids of pruned invoices, payments,
	// adjustments and disputes, of refunds and of ended arrangements this
	// many days after they left (default 120, in [1, 36500]; about 9 bytes an id).
	TombstoneDays int `yaml:"tombstone_days"`
	// MaxHoldDays refuses a Hold ending more than this many days ahead
	// (default 90, in [1, 3660]).
	MaxHoldDays int `yaml:"max_hold_days"`
	// MaxArrangementDays refuses an arrangement with an installment due
	// more than this many days away (default 366, in [1, 3660]).
	MaxArrangementDays int `yaml:"max_arrangement_days"`
	// MaxInstallments refuses an arrangement with more installments
	// (default 52, in [1, 1000]).
	MaxInstallments int `yaml:"max_installments"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{PolicyDir: "deploy/policies", Scorecard: "deploy/risk/scorecard.yaml", RiskPDDelta: 0.05,
		ReversalWindowDays: ledger.DefaultReversalWindowDays, DedupeDays: ledger.DefaultDedupeDays,
		TombstoneDays: ledger.DefaultTombstoneDays, MaxHoldDays: dunning.DefaultMaxHoldDays,
		MaxArrangementDays: dunning.DefaultMaxArrangementDays, MaxInstallments: dunning.DefaultMaxInstallments}
}

// Validate names the bad field. Zero day and count fields take their
// defaults.
func (c Config) Validate() error {
	var errs []error
	if c.PolicyDir == "" {
		errs = append(errs, errors.New("core.policy_dir: must not be empty"))
	}
	if c.RiskPDDelta < 0 || c.RiskPDDelta >= 1 {
		errs = append(errs, fmt.Errorf("core.risk_pd_delta: %g not in [0, 1)", c.RiskPDDelta))
	}
	for _, f := range [...]struct {
		key    string
		v, max int
	}{
		{"reversal_window_days", c.ReversalWindowDays, 36500}, {"dedupe_days", c.DedupeDays, 3660},
		{"tombstone_days", c.TombstoneDays, 36500}, {"max_hold_days", c.MaxHoldDays, 3660},
		{"max_arrangement_days", c.MaxArrangementDays, 3660}, {"max_installments", c.MaxInstallments, 1000},
	} {
		if f.v < 0 || f.v > f.max {
			errs = append(errs, fmt.Errorf("core.%s: %d not in [0, %d]", f.key, f.v, f.max))
		}
	}
	return errors.Join(errs...)
}

// Rules are the ledger rules the section configures.
func (c Config) Rules() ledger.Rules {
	return ledger.Rules{RequireAccount: c.RequireAccount, ReversalWindowDays: c.ReversalWindowDays,
		DedupeDays: c.DedupeDays, TombstoneDays: c.TombstoneDays}
}

// Limits are the dunning limits the section configures.
func (c Config) Limits() dunning.Limits {
	return dunning.Limits{MaxHoldDays: c.MaxHoldDays, MaxArrangementDays: c.MaxArrangementDays, MaxInstallments: c.MaxInstallments}
}
