package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/arrears/arrears/tlsconf"
)

// Config is how arrears reaches Redis.
type Config struct {
	// Addrs are host:port addresses (default ["127.0.0.1:6379"]). With more
	// than one address, or Cluster set, a Redis Cluster client is used.
	Addrs []string `yaml:"addrs"`
	// Cluster forces the cluster client even with one seed address.
	Cluster bool `yaml:"cluster"`
	// Username is the ACL user (Redis 6+; default empty: the "default"
	// user). docs/security.md gives the ACL rule arrears needs.
	Username string `yaml:"username"`
	// Password for AUTH; set it with ARREARS_REDIS_PASSWORD or
	// ARREARS_REDIS_PASSWORD_FILE, never a flag. It is never logged.
	Password string `yaml:"password"`
	// TLS connects with TLS (Redis's tls-port), verifying the server
	// against tls.ca_file (default off).
	TLS tlsconf.Config `yaml:"tls"`
	// DB is the database number (standalone only, default 0).
	DB int `yaml:"db"`
	// Prefix starts every key (default "arrears"); keys are
	// PREFIX:{pN}:meta|acct|timers, so an ACL user needs ~PREFIX:*.
	Prefix string `yaml:"prefix"`
	// Timeout bounds each command (default 5s).
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{Addrs: []string{"127.0.0.1:6379"}, Prefix: "arrears", Timeout: 5 * time.Second}
}

// Validate names the bad field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Addrs) == 0 {
		errs = append(errs, errors.New("redis.addrs: at least one address is required"))
	}
	for i, a := range c.Addrs {
		if !strings.Contains(a, ":") {
			errs = append(errs, fmt.Errorf("redis.addrs[%d]: %q is not host:port", i, a))
		}
	}
	if c.Prefix == "" || strings.ContainsAny(c.Prefix, "{} ") {
		errs = append(errs, fmt.Errorf("redis.prefix: %q must be non-empty without braces or spaces", c.Prefix))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("redis.timeout: %s must be > 0", c.Timeout))
	}
	if c.DB != 0 && (c.Cluster || len(c.Addrs) > 1) {
		errs = append(errs, errors.New("redis.db: must be 0 with Redis Cluster"))
	}
	if c.Username != "" && c.Password == "" {
		errs = append(errs, errors.New("redis.password: required with redis.username (ARREARS_REDIS_PASSWORD or ARREARS_REDIS_PASSWORD_FILE)"))
	}
	errs = append(errs, c.TLS.Validate("redis.tls"))
	return errors.Join(errs...)
}

// LogValue keeps the password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("addrs", c.Addrs),
		slog.Bool("cluster", c.Cluster),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.Bool("tls", c.TLS.Enabled),
		slog.String("prefix", c.Prefix),
	)
}

// String leaves the password out: fmt of a Config never prints it.
func (c Config) String() string {
	return fmt.Sprintf("{addrs=%v cluster=%t user=%s password_set=%t tls=%t db=%d prefix=%s timeout=%s}",
		c.Addrs, c.Cluster, c.Username, c.Password != "", c.TLS.Enabled, c.DB, c.Prefix, c.Timeout)
}

// NewClient opens a standalone or cluster client. When the TLS files cannot
// be used the client is still returned, and every command fails with that
// error (the first Ping says why: callers ping before use).
func NewClient(c Config) redis.UniversalClient {
	tc, err := c.TLS.Client()
	var dial func(context.Context, string, string) (net.Conn, error)
	if err != nil {
		err = fmt.Errorf("redis.tls: %w", err)
		dial = func(context.Context, string, string) (net.Conn, error) { return nil, err }
	}
	if c.Cluster || len(c.Addrs) > 1 {
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.Addrs, Username: c.Username, Password: c.Password, TLSConfig: tc, Dialer: dial,
			ReadTimeout: c.Timeout, WriteTimeout: c.Timeout,
		})
	}
	return redis.NewClient(&redis.Options{
		Addr: c.Addrs[0], Username: c.Username, Password: c.Password, TLSConfig: tc, Dialer: dial,
		DB: c.DB, ReadTimeout: c.Timeout, WriteTimeout: c.Timeout,
	})
}

// Connect opens a client, pings it and probes the store's keys (probe)
// within c.Timeout: the way a command starts, failing at once on a refused
// password, a missing ACL permission or an untrusted certificate, with an
// error that names redis, the address, the user and the cause (errors.Is
// ErrAuth, ErrNoPerm or ErrTLS), never the password.
func Connect(ctx context.Context, c Config) (redis.UniversalClient, error) {
	return connect(ctx, c, false)
}

// ConnectReadOnly is Connect for a user that may only read the store's
// keys (Store.ReadOnly, serve's api.redis_username): its probe runs the
// script as EVALSHA_RO.
func ConnectReadOnly(ctx context.Context, c Config) (redis.UniversalClient, error) {
	return connect(ctx, c, true)
}

func connect(ctx context.Context, c Config, ro bool) (redis.UniversalClient, error) {
	rdb := NewClient(c)
	pctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	err := rdb.Ping(pctx).Err()
	if err == nil {
		err = probe(pctx, rdb, c.Prefix, ro)
	}
	if err == nil {
		return rdb, nil
	}
	_ = rdb.Close()
	user := c.Username
	if user == "" {
		user = "default"
	}
	if cause := Cause(err); cause != nil {
		return nil, fmt.Errorf("redis %v as user %s: %w: %w", c.Addrs, user, cause, err)
	}
	return nil, fmt.Errorf("redis %v as user %s: %w%s", c.Addrs, user, err, tlsHint(c, err))
}

// probe reads partition 0's keys the way the store does, changing nothing
// (a read of the meta hash, and the due-timers script, which only reads
// and answers LOST without a claim), so an ACL that lacks the key prefix or
// the scripts' commands fails at connect, not at the first claim.
func probe(ctx context.Context, rdb redis.UniversalClient, prefix string, ro bool) error {
	s := New(rdb, prefix)
	if err := rdb.HGetAll(ctx, s.key(0, "meta")).Err(); err != nil {
		return err
	}
	if ro {
		return dueScript.RunRO(ctx, rdb, s.keys(0), 0, 0, 0).Err()
	}
	return dueScript.Run(ctx, rdb, s.keys(0), 0, 0, 0).Err()
}

// tlsHint guesses a TLS mismatch from how the ping failed: a TLS-only port
// closes a plaintext client's connection (EOF); a plaintext port never
// answers a TLS hello.
func tlsHint(c Config, err error) string {
	switch {
	case !c.TLS.Enabled && errors.Is(err, io.EOF):
		return " (the server closed the connection: a TLS-only port? set redis.tls.enabled)"
	case c.TLS.Enabled && errors.Is(err, context.DeadlineExceeded):
		return " (no answer to the TLS handshake within redis.timeout: a plaintext port?)"
	}
	return ""
}
