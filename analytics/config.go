package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/arrears/arrears/tlsconf"
)

// Config is how arrears reaches ClickHouse (native protocol only: the HTTP
// interface of ClickHouse 18.16 does not work with clickhouse-go v2).
type Config struct {
	// Addrs are host:port native endpoints (default ["127.0.0.1:9000"]).
	Addrs []string `yaml:"addrs"`
	// Database holds every arrears table (default "arrears"); Migrate
	// creates it.
	Database string `yaml:"database"`
	// Username (default "default").
	Username string `yaml:"username"`
	// Password comes from ARREARS_CLICKHOUSE_PASSWORD or the YAML file,
	// never a flag; it is never logged.
	Password string `yaml:"password"`
	// DialTimeout bounds connecting (default 5s).
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// ReadTimeout bounds one read from the server; reports over a large
	// history need it generous (default 5m).
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// MaxOpenConns caps the pool (default 4).
	MaxOpenConns int `yaml:"max_open_conns"`
	// Compression enables LZ4 on the wire (default true).
	Compression bool `yaml:"compression"`
	// TLS connects to the server's secure native port (tcp_port_secure,
	// usually 9440) verifying it against tls.ca_file (default off).
	TLS tlsconf.Config `yaml:"tls"`
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Addrs:        []string{"127.0.0.1:9000"},
		Database:     "arrears",
		Username:     "default",
		DialTimeout:  5 * time.Second,
		ReadTimeout:  5 * time.Minute,
		MaxOpenConns: 4,
		Compression:  true,
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every bad field, named as in the YAML file.
func (c Config) Validate() error {
	var errs []error
	if len(c.Addrs) == 0 {
		errs = append(errs, errors.New("clickhouse.addrs: at least one address is required"))
	}
	for i, a := range c.Addrs {
		if !strings.Contains(a, ":") {
			errs = append(errs, fmt.Errorf("clickhouse.addrs[%d]: %q is not host:port", i, a))
		}
	}
	if !identRE.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("clickhouse.database: %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Database))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("clickhouse.username: must not be empty"))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("clickhouse.dial_timeout: %s must be > 0", c.DialTimeout))
	}
	if c.ReadTimeout <= 0 {
		errs = append(errs, fmt.Errorf("clickhouse.read_timeout: %s must be > 0", c.ReadTimeout))
	}
	if c.MaxOpenConns < 1 {
		errs = append(errs, fmt.Errorf("clickhouse.max_open_conns: %d must be >= 1", c.MaxOpenConns))
	}
	errs = append(errs, c.TLS.Validate("clickhouse.tls"))
	return errors.Join(errs...)
}

// LogValue keeps the password out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("addrs", c.Addrs),
		slog.String("database", c.Database),
		slog.String("username", c.Username),
		slog.Bool("password_set", c.Password != ""),
		slog.Bool("tls", c.TLS.Enabled),
	)
}

// String leaves the password out: fmt of a Config never prints it.
func (c Config) String() string {
	return fmt.Sprintf("{addrs=%v database=%s user=%s password_set=%t tls=%t}", c.Addrs, c.Database, c.Username, c.Password != "", c.TLS.Enabled)
}

// Conn is a ClickHouse connection pool and the database arrears uses. The
// pool connects to the server's default database, so Migrate can create
// Database; every statement names its tables as Database.table.
type Conn struct {
	driver.Conn
	Database string
}

// Open connects and pings. The database need not exist yet.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Protocol:     clickhouse.Native,
		Addr:         cfg.Addrs,
		Auth:         clickhouse.Auth{Database: "default", Username: cfg.Username, Password: cfg.Password},
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
		ClientInfo:   clickhouse.ClientInfo{Products: []struct{ Name, Version string }{{Name: "arrears", Version: "1"}}},
	}
	if cfg.Compression {
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	}
	tc, err := cfg.TLS.Client()
	if err != nil {
		return nil, fmt.Errorf("clickhouse.tls: %w", err)
	}
	opts.TLS = tc
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %v: %w", cfg.Addrs, err)
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("clickhouse %v as user %s: ping: %w", cfg.Addrs, cfg.Username, withCause(err))
	}
	return &Conn{Conn: conn, Database: cfg.Database}, nil
}

// Table returns the qualified name of one of the arrears tables.
func (c *Conn) Table(name string) string { return c.Database + "." + name }
