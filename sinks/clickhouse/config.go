package chsink

import (
	"errors"
	"fmt"
	"time"

	"github.com/arrears/arrears/analytics"
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
	if c.RetryMax < c.RetryInitial {
		errs = append(errs, fmt.Errorf("sink.retry_max: %s is below retry_initial %s", c.RetryMax, c.RetryInitial))
	}
	if c.FetchMaxBytes < 1<<10 {
		errs = append(errs, fmt.Errorf("sink.fetch_max_bytes: %d must be >= 1024", c.FetchMaxBytes))
	}
	if err := c.ClickHouse.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
