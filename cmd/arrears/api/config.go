package api

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Config is the api section of the process configuration.
type Config struct {
	// TokensFile is the YAML file of API tokens (name, role, queues, sha256
	// of the token; `arrears api token` prints a line). Empty (the default)
	// serves no /api/v1 at all: without tokens nobody could use it.
	TokensFile string `yaml:"tokens_file"`
	// MetricsPublic serves /metrics without a token (default true: a
	// Prometheus scraper inside the cluster; set false to require a token
	// of any role).
	MetricsPublic bool `yaml:"metrics_public"`
	// SupervisorWriteOffLimit is the largest manual write-off a supervisor
	// may post, in the write-off's currency (decimal string, default
	// "1000"); admins have no limit. A write-off of the whole balance
	// (amount "0") counts as the account's open amount in that currency.
	SupervisorWriteOffLimit string `yaml:"supervisor_write_off_limit"`
	// RatePerSecond and RateBurst bound each token's requests (token
	// bucket; defaults 20 and 40). Over it: 429 with Retry-After.
	RatePerSecond float64 `yaml:"rate_per_second"`
	RateBurst     int     `yaml:"rate_burst"`
	// MaxBodyBytes bounds a request body (default 65536); larger: 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// IdempotencyTTL is how long a write's Idempotency-Key is remembered
	// (default 24h): a retry within it returns the first answer.
	IdempotencyTTL time.Duration `yaml:"idempotency_ttl"`
	// MaxWait caps ?wait= (default 30s).
	MaxWait time.Duration `yaml:"max_wait"`
	// KeyPrefix starts the API's own Redis keys (idempotency, approvals;
	// default: redis.prefix + ":api", set by serve).
	KeyPrefix string `yaml:"key_prefix"`
	// AuditUsername and AuditPassword are the ClickHouse user the audit
	// rows are inserted as (default empty: clickhouse.username, serve's
	// own). A deployment whose serve user may only SELECT (docs/security.md)
	// names a user that may INSERT into the audit table here. Set the
	// password with ARREARS_API_AUDIT_PASSWORD or _FILE; it is never logged.
	AuditUsername string `yaml:"audit_username"`
	AuditPassword string `yaml:"audit_password"`
	// RedisUsername and RedisPassword are serve's own Redis ACL user
	// (default empty: redis.username, the processor's). The user needs
	// read access to the store's keys and write access to the API's
	// (KeyPrefix) only (deploy/local/redis-secure.sh arrears_serve,
	// docs/security.md); serve then reads the store with read-only
	// scripts (Redis 7+). Set the password with ARREARS_API_REDIS_PASSWORD
	// or _FILE; it is never logged.
	RedisUsername string `yaml:"redis_username"`
	RedisPassword string `yaml:"redis_password"`
}

// LogValue keeps the audit and Redis passwords out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("tokens_file", c.TokensFile), slog.Bool("metrics_public", c.MetricsPublic),
		slog.String("audit_username", c.AuditUsername), slog.Bool("audit_password_set", c.AuditPassword != ""),
		slog.String("redis_username", c.RedisUsername), slog.Bool("redis_password_set", c.RedisPassword != ""))
}

// String leaves the passwords out of fmt's output.
func (c Config) String() string { return c.LogValue().String() }

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		MetricsPublic: true, SupervisorWriteOffLimit: "1000",
		RatePerSecond: 20, RateBurst: 40, MaxBodyBytes: 64 << 10,
		IdempotencyTTL: 24 * time.Hour, MaxWait: 30 * time.Second,
	}
}

// Validate names the bad field by its YAML path.
func (c Config) Validate() error {
	var errs []error
	if a, err := event.ParseAmount(c.SupervisorWriteOffLimit); err != nil || a < 0 {
		errs = append(errs, fmt.Errorf("api.supervisor_write_off_limit: %q is not a non-negative decimal", c.SupervisorWriteOffLimit))
	}
	if c.RatePerSecond <= 0 {
		errs = append(errs, fmt.Errorf("api.rate_per_second: %v must be > 0", c.RatePerSecond))
	}
	if c.RateBurst < 1 {
		errs = append(errs, fmt.Errorf("api.rate_burst: %d must be >= 1", c.RateBurst))
	}
	if c.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("api.max_body_bytes: %d must be >= 1024", c.MaxBodyBytes))
	}
	if c.IdempotencyTTL < time.Minute {
		errs = append(errs, fmt.Errorf("api.idempotency_ttl: %s must be >= 1m", c.IdempotencyTTL))
	}
	if c.MaxWait <= 0 {
		errs = append(errs, fmt.Errorf("api.max_wait: %s must be > 0", c.MaxWait))
	}
	if c.AuditUsername != "" && c.AuditPassword == "" {
		errs = append(errs, errors.New("api.audit_password: required with api.audit_username (ARREARS_API_AUDIT_PASSWORD or ARREARS_API_AUDIT_PASSWORD_FILE)"))
	}
	if c.RedisUsername != "" && c.RedisPassword == "" {
		errs = append(errs, errors.New("api.redis_password: required with api.redis_username (ARREARS_API_REDIS_PASSWORD or ARREARS_API_REDIS_PASSWORD_FILE)"))
	}
	if strings.ContainsAny(c.KeyPrefix, "{} ") {
		errs = append(errs, fmt.Errorf("api.key_prefix: %q must have no braces or spaces", c.KeyPrefix))
	}
	return errors.Join(errs...)
}

// writeOffLimit is SupervisorWriteOffLimit parsed (Validate checked it).
func (c Config) writeOffLimit() event.Amount {
	a, _ := event.ParseAmount(c.SupervisorWriteOffLimit)
	return a
}
