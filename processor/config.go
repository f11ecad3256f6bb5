package processor

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/arrears/arrears/processor/event"
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
	// MaxRecordsPerTxn bounds the input records plus timer wake-ups of one
	// transaction (default 4000, about 0.4 s of work on a 2-core box: a
	// batch never holds a payment for a second). The poll asks for fewer
	// records when wake-ups are waiting. docs/processing.md "Bounded
	// transactions".
	MaxRecordsPerTxn int `yaml:"max_records_per_txn"`
	// MaxWakesPerTxn bounds the timer wake-ups one transaction fires
	// (default 2000, shared by its partitions; must be below
	// max_records_per_txn). The rest of a burst (a tick passing a due date
	// of thousands of accounts) stays in the timer index for the next
	// transactions, which fresh records join. An account's own due
	// wake-ups always fire before its next event.
	MaxWakesPerTxn int `yaml:"max_wakes_per_txn"`
	// MaxApplyPerTxn bounds, in time, the wake-ups of one transaction
	// (default 50ms; at least 1µs, below transaction_timeout): once its
	// apply step has run this long a partition fires no more wake-ups (at
	// least 16 each, so a burst always progresses) and the rest wait, in
	// firing order, for the next transactions. While fresh input waits
	// (records polled or buffered) wake-ups get a smaller share,
	// max_wakes_fresh, so a payment waits for at most one short
	// transaction, never for a burst. docs/processing.md "Bounded
	// transactions".
	MaxApplyPerTxn time.Duration `yaml:"max_apply_per_txn"`
	// MaxWakesFresh bounds the wake-ups of a transaction while fresh input
	// waits (records polled or buffered), so a payment waits for at most
	// one short transaction (default 0: a twentieth of max_wakes_per_txn,
	// 100; at most max_wakes_per_txn). Smaller gives fresh input lower
	// latency during a burst and the burst more transactions.
	MaxWakesFresh int `yaml:"max_wakes_fresh"`
	// FetchMaxBytes and FetchMaxPartitionBytes bound what one fetch asks
	// the brokers for, in compressed bytes (defaults 4 MiB and 256 KiB; a
	// record batch larger than them still comes). The consumer asks again
	// only once a fetch is polled in full, so a fetch is also how much
	// input a record newer than it waits behind: with
	// kafka.topics.read_first a small fetch_max_bytes (e.g. 256 KiB) lets
	// a payment join one of the next transactions during a burst. A batch
	// larger than fetch_max_partition_bytes comes only as a fetch's first
	// data, so keep that at or above the bulk producers' largest batch
	// (compressed), or read-first topics starve them. docs/processing.md
	// "Read first".
	FetchMaxBytes          int `yaml:"fetch_max_bytes"`
	FetchMaxPartitionBytes int `yaml:"fetch_max_partition_bytes"`
	// MemoryLimit is the Go runtime's soft memory limit for `arrears run`
	// (runtime/debug.SetMemoryLimit), e.g. "450MiB" (default "0": unset,
	// the GOMEMLIMIT environment variable applies; when both are set the
	// environment variable wins).
	MemoryLimit string `yaml:"memory_limit"`
	// CacheAccounts bounds the decoded accounts kept in memory per partition
	// (default 3000, about 2 KB each after 3 months: 36,000 accounts, some
	// 75 MB of heap, over 12 partitions). Memory stays flat as accounts
	// grow: an account not in the cache costs one batched Redis read per
	// partition and poll.
	CacheAccounts int `yaml:"cache_accounts"`
	// ProduceLinger is how long an output record may wait inside a
	// transaction for others of its partition to fill a batch (default
	// 20ms). A transaction's end flushes at once, and read-committed
	// consumers see nothing before the commit, so it delays no output: it
	// only makes fewer, larger produce requests (less compression, request
	// and broker work per record) while the transaction runs.
	ProduceLinger time.Duration `yaml:"produce_linger"`
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
	// TickSource is the event source of the built-in ticker's ClockTicks
	// (default "arrears-ticker"). In live time only ClockTicks from this
	// source move the clock; others are dead-lettered (CLOCKTICK_SOURCE).
	TickSource string `yaml:"tick_source"`
	// Time is "live" (default: production) or "simulated" (gen, demo, bench,
	// tests). In live time an event whose event_time is more than
	// MaxClockSkew ahead of the wall clock is dead-lettered
	// (FUTURE_EVENT_TIME) and never moves the partition clock; in simulated
	// time every event and tick moves the clock as fast as they come.
	Time string `yaml:"time"`
	// MaxClockSkew bounds how far ahead of the wall clock an event or tick
	// may be in live time (default 10m).
	MaxClockSkew time.Duration `yaml:"max_clock_skew"`
	// StallTimeout: /readyz turns unready and arrears_processor_stalled
	// goes to 1 when input is waiting and no batch committed for this long
	// (default 60s).
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// RetryMax caps the backoff between retries of a failing partition or
	// session (default 10s; the first retry waits 100 ms).
	RetryMax time.Duration `yaml:"retry_max"`
	// MaxStatusBytes bounds one status (changelog) record (default 900000,
	// under Kafka's default 1 MB record limit). An event that would make
	// its account's status larger is dead-lettered (STATUS_TOO_LARGE).
	MaxStatusBytes int `yaml:"max_status_bytes"`
	// Misrouted is what happens to an input record that is not on the
	// partition Kafka's default partitioner (murmur2 of the key, as the
	// Java client and franz-go compute it) gives its key, as a producer
	// with another partitioner (librdkafka's default CRC32) writes it:
	// "forward" (default) copies it, in the same transaction, to the
	// partition that owns its key and does not apply it where it landed;
	// "dead-letter" dead-letters it (MISROUTED). docs/processing.md
	// "Producers and partitioning".
	Misrouted string `yaml:"misrouted"`
	// PolicyRefresh: before a batch is applied, the policy versions
	// (kafka.topics.policies) are read up to the topic's end when the last
	// read is older than this (default 1s; 0: before every batch). A batch
	// never runs on versions older than this (docs/policies.md "Lifecycle").
	PolicyRefresh time.Duration `yaml:"policy_refresh"`
	// PolicyLeadTime is how far ahead of the wall clock `arrears policy
	// apply` requires effective_from (default 15m): every instance has read
	// a version before any partition clock, at most max_clock_skew ahead of
	// the wall clock, reaches it. Must exceed max_clock_skew + policy_refresh.
	PolicyLeadTime time.Duration `yaml:"policy_lead_time"`
	// DLQMaxPayload is how much of a rejected value a dead letter copies
	// (set from dlq.max_payload_bytes; default event.DefaultMaxDeadLetterPayload).
	DLQMaxPayload int `yaml:"-"`
	// Groups is collections groups, the second stage (group_config.go).
	Groups GroupsConfig `yaml:"groups"`
}

// What processor.misrouted does with a misrouted record.
const (
	MisroutedForward    = "forward"
	MisroutedDeadLetter = "dead-letter"
)

// Time modes.
const (
	TimeLive      = "live"
	TimeSimulated = "simulated"
)

// Defaults returns the documented defaults.
func Defaults() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "local"
	}
	return Config{
		GroupID:                "arrears",
		TransactionalID:        "arrears-" + host,
		MaxPollRecords:         10000,
		MaxRecordsPerTxn:       4000,
		MaxWakesPerTxn:         2000,
		MaxApplyPerTxn:         50 * time.Millisecond,
		MemoryLimit:            "0",
		FetchMaxBytes:          4 << 20,
		FetchMaxPartitionBytes: 256 << 10,
		CacheAccounts:          3000,
		ProduceLinger:          20 * time.Millisecond,
		TransactionTimeout:     60 * time.Second,
		SessionTimeout:         45 * time.Second,
		TickSource:             "arrears-ticker",
		Time:                   TimeLive,
		MaxClockSkew:           10 * time.Minute,
		StallTimeout:           60 * time.Second,
		RetryMax:               10 * time.Second,
		MaxStatusBytes:         900_000,
		Misrouted:              MisroutedForward,
		PolicyRefresh:          time.Second,
		PolicyLeadTime:         15 * time.Minute,
		DLQMaxPayload:          event.DefaultMaxDeadLetterPayload,
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
	if c.MaxRecordsPerTxn < 2 {
		errs = append(errs, fmt.Errorf("processor.max_records_per_txn: %d must be >= 2", c.MaxRecordsPerTxn))
	}
	if c.MaxWakesPerTxn < 1 || c.MaxWakesPerTxn >= c.MaxRecordsPerTxn {
		errs = append(errs, fmt.Errorf("processor.max_wakes_per_txn: %d must be >= 1 and below processor.max_records_per_txn %d", c.MaxWakesPerTxn, c.MaxRecordsPerTxn))
	}
	if c.MaxWakesFresh < 0 || c.MaxWakesFresh > c.MaxWakesPerTxn {
		errs = append(errs, fmt.Errorf("processor.max_wakes_fresh: %d must be >= 0 (0: a twentieth of max_wakes_per_txn) and at most processor.max_wakes_per_txn %d", c.MaxWakesFresh, c.MaxWakesPerTxn))
	}
	if c.MaxApplyPerTxn < time.Microsecond || c.MaxApplyPerTxn >= c.TransactionTimeout {
		errs = append(errs, fmt.Errorf("processor.max_apply_per_txn: %s must be >= 1µs and below processor.transaction_timeout %s", c.MaxApplyPerTxn, c.TransactionTimeout))
	}
	if c.FetchMaxBytes < 1024 {
		errs = append(errs, fmt.Errorf("processor.fetch_max_bytes: %d must be >= 1024", c.FetchMaxBytes))
	}
	if c.FetchMaxPartitionBytes < 1024 || c.FetchMaxPartitionBytes > c.FetchMaxBytes {
		errs = append(errs, fmt.Errorf("processor.fetch_max_partition_bytes: %d must be >= 1024 and at most processor.fetch_max_bytes %d", c.FetchMaxPartitionBytes, c.FetchMaxBytes))
	}
	if _, err := ParseMemoryLimit(c.MemoryLimit); err != nil {
		errs = append(errs, fmt.Errorf("processor.memory_limit: %w", err))
	}
	if c.ProduceLinger < 0 || c.ProduceLinger >= c.TransactionTimeout {
		errs = append(errs, fmt.Errorf("processor.produce_linger: %s must be >= 0 and below processor.transaction_timeout %s", c.ProduceLinger, c.TransactionTimeout))
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
	if c.Time != TimeLive && c.Time != TimeSimulated {
		errs = append(errs, fmt.Errorf("processor.time: %q is not live or simulated", c.Time))
	}
	if c.Time == TimeLive && c.TickSource == "" {
		errs = append(errs, errors.New("processor.tick_source: must not be empty in live time"))
	}
	if c.MaxClockSkew <= 0 {
		errs = append(errs, fmt.Errorf("processor.max_clock_skew: %s must be > 0", c.MaxClockSkew))
	}
	if c.StallTimeout < time.Second {
		errs = append(errs, fmt.Errorf("processor.stall_timeout: %s must be >= 1s", c.StallTimeout))
	}
	if c.RetryMax < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("processor.retry_max: %s must be >= 100ms", c.RetryMax))
	}
	if c.MaxStatusBytes < 4096 {
		errs = append(errs, fmt.Errorf("processor.max_status_bytes: %d must be >= 4096", c.MaxStatusBytes))
	}
	if c.Misrouted != MisroutedForward && c.Misrouted != MisroutedDeadLetter {
		errs = append(errs, fmt.Errorf("processor.misrouted: %q is not forward or dead-letter", c.Misrouted))
	}
	if c.PolicyRefresh < 0 {
		errs = append(errs, fmt.Errorf("processor.policy_refresh: %s must be >= 0", c.PolicyRefresh))
	}
	if c.PolicyLeadTime <= c.MaxClockSkew+c.PolicyRefresh {
		errs = append(errs, fmt.Errorf("processor.policy_lead_time: %s must exceed processor.max_clock_skew + processor.policy_refresh (%s)",
			c.PolicyLeadTime, c.MaxClockSkew+c.PolicyRefresh))
	}
	if c.DLQMaxPayload < 0 {
		errs = append(errs, fmt.Errorf("dlq.max_payload_bytes: %d must be >= 0", c.DLQMaxPayload))
	}
	return errors.Join(errs...)
}
