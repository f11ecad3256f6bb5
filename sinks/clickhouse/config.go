package chsink

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
)

// Config configures the sink. Defaults returns the documented defaults.
type Config struct {
	// ClickHouse is where rows go. It is not read from the sink's own YAML
	// section: the command copies the top-level clickhouse section here.
	ClickHouse analytics.Config `yaml:"-"`
	// GroupID is the sink's consumer group, separate from the processor's
	// (default "arrears-sink").
	GroupID string `yaml:"group_id"`
	// BatchRows flushes when this many rows are buffered (default 10000).
	BatchRows int `yaml:"batch_rows"`
	// FlushInterval flushes this long after the first buffered record at
	// the latest (default 1s).
	FlushInterval time.Duration `yaml:"flush_interval"`
	// InsertTimeout bounds one insert attempt (default 30s).
	InsertTimeout time.Duration `yaml:"insert_timeout"`
	// RetryInitial and RetryMax bound the exponential backoff between
	// attempts of a failed insert or DLQ produce (defaults 200ms and 10s).
	RetryInitial time.Duration `yaml:"retry_initial"`
	RetryMax     time.Duration `yaml:"retry_max"`
	// ShutdownTimeout bounds the final flush and commit on shutdown
	// (default 15s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Migrate applies the analytics migrations at start (default true).
	Migrate bool `yaml:"migrate"`
	// KeepClockTicks also lands ClockTick events in the events table
	// (default false: ticks carry no business fact and are numerous).
	KeepClockTicks bool `yaml:"keep_clock_ticks"`
	// FetchMaxBytes caps one fetch response, hence the memory the client
	// holds while the sink is paused (default 16 MiB).
	FetchMaxBytes int32 `yaml:"fetch_max_bytes"`
	// StallTimeout: Stalled reports true (and /readyz turns unready, and
	// arrears_sink_stalled is 1) when records are waiting and no flush has
	// been committed for this long (default 60s, at least 1s).
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// DLQMaxPayload is how much of a record's value the sink's own dead
	// letters copy (event.NewDeadLetter). Like the processor's, it is set
	// from the top-level dlq.max_payload_bytes, not from the sink section
	// (default event.DefaultMaxDeadLetterPayload).
	DLQMaxPayload int `yaml:"-"`
	// StatusDedupAccounts is how many accounts the sink remembers the last
	// landed account_status row of, to skip status records that repeat it
	// (statusdedup.go; about 60 bytes an account); 0 lands every status
	// record (default 200000).
	StatusDedupAccounts int `yaml:"status_dedup_accounts"`
	// Snapshot maintains the receivables snapshot the aging, DSO and CEI
	// reports read (snapshot.go).
	Snapshot SnapshotConfig `yaml:"snapshot"`
	// EraseUsername and ErasePassword are the ClickHouse user the erasure's
	// statements run as (erase.go: the listing, counts, ALTER TABLE ...
	// DELETE/UPDATE and the system.mutations wait; default empty: the
	// sink's clickhouse.username). A deployment whose sink user may not
	// ALTER (allow_ddl=0 on 18.16; no ALTER DELETE grant on current
	// releases, docs/security.md) names a user that may here. Set the
	// password with ARREARS_SINK_ERASE_PASSWORD or _FILE; it is never logged.
	EraseUsername string `yaml:"erase_username"`
	ErasePassword string `yaml:"erase_password"`
	// GroupChangelogRecheck is how often the sink checks again, while the
	// configured group changelog does not exist or may not be read, whether
	// it can land it now (groups.go; default 30s).
	GroupChangelogRecheck time.Duration `yaml:"group_changelog_recheck"`
}

// plainConfig is Config without its methods (for LogValue and String).
type plainConfig Config

// LogValue keeps the passwords out of logs.
func (c Config) LogValue() slog.Value { return slog.AnyValue(c.plain()) }

// String leaves the passwords out of fmt's output.
func (c Config) String() string { return fmt.Sprintf("%+v", c.plain()) }

// plain is c with its passwords redacted.
func (c Config) plain() plainConfig {
	c.ErasePassword, c.ClickHouse.Password = redacted(c.ErasePassword), redacted(c.ClickHouse.Password)
	return plainConfig(c)
}

// redacted stands for a set secret ("" when unset).
func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		ClickHouse:      analytics.Defaults(),
		GroupID:         "arrears-sink",
		BatchRows:       10000,
		FlushInterval:   time.Second,
		InsertTimeout:   30 * time.Second,
		RetryInitial:    200 * time.Millisecond,
		RetryMax:        10 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		Migrate:         true,
		FetchMaxBytes:   16 << 20,
		StallTimeout:    60 * time.Second,
		DLQMaxPayload:   event.DefaultMaxDeadLetterPayload,

		StatusDedupAccounts:   200000,
		Snapshot:              DefaultSnapshotConfig(),
		GroupChangelogRecheck: 30 * time.Second,
	}
}

// Validate reports every bad field, named as in the YAML file.
func (c Config) Validate() error {
	var errs []error
	if c.GroupID == "" {
		errs = append(errs, errors.New("sink.group_id: must not be empty"))
	}
	if c.BatchRows < 1 {
		errs = append(errs, fmt.Errorf("sink.batch_rows: %d must be >= 1", c.BatchRows))
	}
	pos := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("sink.%s: %s must be > 0", name, d))
		}
	}
	pos("flush_interval", c.FlushInterval)
	pos("insert_timeout", c.InsertTimeout)
	pos("retry_initial", c.RetryInitial)
	pos("retry_max", c.RetryMax)
	pos("shutdown_timeout", c.ShutdownTimeout)
	pos("group_changelog_recheck", c.GroupChangelogRecheck)
	if c.RetryMax < c.RetryInitial {
		errs = append(errs, fmt.Errorf("sink.retry_max: %s is below retry_initial %s", c.RetryMax, c.RetryInitial))
	}
	if c.FetchMaxBytes < 1<<10 {
		errs = append(errs, fmt.Errorf("sink.fetch_max_bytes: %d must be >= 1024", c.FetchMaxBytes))
	}
	if c.StallTimeout < time.Second {
		errs = append(errs, fmt.Errorf("sink.stall_timeout: %s must be >= 1s", c.StallTimeout))
	}
	if c.DLQMaxPayload < 1 {
		errs = append(errs, fmt.Errorf("dlq.max_payload_bytes: %d must be >= 1", c.DLQMaxPayload))
	}
	if c.StatusDedupAccounts < 0 {
		errs = append(errs, fmt.Errorf("sink.status_dedup_accounts: %d must be >= 0", c.StatusDedupAccounts))
	}
	errs = append(errs, c.Snapshot.validate()...)
	if c.EraseUsername != "" && c.ErasePassword == "" {
		errs = append(errs, errors.New("sink.erase_password: required with sink.erase_username (ARREARS_SINK_ERASE_PASSWORD or ARREARS_SINK_ERASE_PASSWORD_FILE)"))
	}
	if err := c.ClickHouse.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
