package processor

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Config tunes the processing loop.
type Config struct {
	// GroupID is the consumer group of all processor instances (default "arrears").
	GroupID string `yaml:"group_id"`
	// TransactionalID must be unique per instance and stable across its
	// restarts (default "arrears-<hostname>").
	TransactionalID string `yaml:"transactional_id"`
	// MaxPollRecords bounds one micro-batch over all partitions (default 10000).
	MaxPollRecords int `yaml:"max_poll_records"`
	// CacheAccounts bounds the decoded accounts kept in memory per partition
	// (default 2000). Memory stays flat as accounts grow: an account not in
	// the cache costs one batched Redis read per partition and poll.
	CacheAccounts int `yaml:"cache_accounts"`
	// TransactionTimeout is the Kafka transaction timeout (default 60s).
	TransactionTimeout time.Duration `yaml:"transaction_timeout"`
	// SessionTimeout is how long the group waits for a silent member before
	// moving its partitions (default 45s; lower means faster fail-over after
	// a crash, but must stay above the broker's group.min.session.timeout.ms).
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// TickInterval makes the processor publish a ClockTick to every input
	// partition at this interval of wall time (default 0: off; set it in
	// production, leave it off in replays and simulations).
	TickInterval time.Duration `yaml:"tick_interval"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "local"
	}
	return Config{
		GroupID:            "arrears",
		TransactionalID:    "arrears-" + host,
		MaxPollRecords:     10000,
		CacheAccounts:      2000,
		TransactionTimeout: 60 * time.Second,
		SessionTimeout:     45 * time.Second,
	}
}

// Validate names the bad field.
func (c Config) Validate() error {
	var errs []error
	if c.GroupID == "" {
		errs = append(errs, errors.New("processor.group_id: must not be empty"))
	}
	if c.TransactionalID == "" {
		errs = append(errs, errors.New("processor.transactional_id: must not be empty"))
	}
	if c.MaxPollRecords < 1 {
		errs = append(errs, fmt.Errorf("processor.max_poll_records: %d must be >= 1", c.MaxPollRecords))
	}
	if c.CacheAccounts < 1 {
		errs = append(errs, fmt.Errorf("processor.cache_accounts: %d must be >= 1", c.CacheAccounts))
	}
	if c.TransactionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("processor.transaction_timeout: %s must be >= 1s", c.TransactionTimeout))
	}
	if c.SessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("processor.session_timeout: %s must be >= 1s", c.SessionTimeout))
	}
	if c.TickInterval < 0 {
		errs = append(errs, fmt.Errorf("processor.tick_interval: %s must be >= 0", c.TickInterval))
	}
	return errors.Join(errs...)
}
