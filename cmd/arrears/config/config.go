package config

import (
	"errors"
	"fmt"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/cmd/arrears/simulate"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
	"github.com/arrears/arrears/sinks/redisstore"
	"github.com/arrears/arrears/tlsconf"
)

// Config is the whole process configuration. Each section is its
// component's own Config with documented defaults and a Validate method;
// Defaults returns every section's defaults.
type Config struct {
	Kafka      kafkax.Config     `yaml:"kafka"`
	Codec      schemas.Config    `yaml:"codec"`
	Redis      redisstore.Config `yaml:"redis"`
	Processor  processor.Config  `yaml:"processor"`
	Core       core.Config       `yaml:"core"`
	Log        Log               `yaml:"log"`
	HTTP       HTTP              `yaml:"http"`
	ClickHouse analytics.Config  `yaml:"clickhouse"`
	Sink       chsink.Config     `yaml:"sink"`
	DLQ        DLQ               `yaml:"dlq"`
	Simulate   simulate.Config   `yaml:"simulate"`
	API        api.Config        `yaml:"api"`

	// Retention is how long ClickHouse keeps history (`arrears retention apply`).
	Retention analytics.Retention `yaml:"retention"`
}

// Log configures slog.
type Log struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json or text (default json).
	Format string `yaml:"format"`
}

// HTTP is the operations endpoint every long-running command serves.
type HTTP struct {
	// Listen is the address of /metrics, /healthz and /readyz (default
	// "127.0.0.1:9464"; empty disables it).
	Listen string `yaml:"listen"`
	// Pprof also serves Go's profiler at /debug/pprof/ on that address
	// (default false; bench turns it on for its children with --profile);
	// refused on a non-loopback address unless the operator API's admin
	// role guards it (docs/security.md, HTTP).
	Pprof bool `yaml:"pprof"`
	// TLS serves https with this certificate and key, reloaded when the
	// files change (default: both empty, plain http).
	TLS tlsconf.Server `yaml:"tls"`
}

// DLQ configures the dead letters the processor and the sink write to
// kafka.topics.dlq.
type DLQ struct {
	// MaxPayloadBytes is how much of a rejected record's value a dead
	// letter copies (default event.DefaultMaxDeadLetterPayload, 64 KiB; at
	// most MaxDeadLetterPayload so that a dead letter fits a Kafka record).
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
}

// MaxDeadLetterPayload bounds dlq.max_payload_bytes: with its envelope a
// dead letter must stay under Kafka's default 1 MiB record limit.
const MaxDeadLetterPayload = 900_000

// Defaults returns the documented defaults of every section.
func Defaults() Config {
	return Config{
		Kafka:      kafkax.Defaults(),
		Codec:      schemas.Config{},
		Redis:      redisstore.Defaults(),
		Processor:  processor.Defaults(),
		Core:       core.Defaults(),
		Log:        Log{Level: "info", Format: "json"},
		HTTP:       HTTP{Listen: "127.0.0.1:9464"},
		ClickHouse: analytics.Defaults(),
		Sink:       chsink.Defaults(),
		DLQ:        DLQ{MaxPayloadBytes: event.DefaultMaxDeadLetterPayload},
		Simulate:   simulate.Defaults(),
		Retention:  analytics.Retention{Months: analytics.DefaultRetentionMonths},
		API:        api.Defaults(),
	}
}

// Validate checks every section and reports every bad field by its YAML
// path.
func (c Config) Validate() error {
	errs := []error{c.Kafka.Validate(), c.Codec.Validate(), c.Redis.Validate(), c.Processor.Validate(), c.Core.Validate(),
		c.ClickHouse.Validate(), c.Sink.Validate(), c.Simulate.Validate(), c.HTTP.Validate(),
		c.Retention.Validate()}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: %q is not json or text", c.Log.Format))
	}
	if n := c.DLQ.MaxPayloadBytes; n < 1 || n > MaxDeadLetterPayload {
		errs = append(errs, fmt.Errorf("dlq.max_payload_bytes: %d is not between 1 and %d", n, MaxDeadLetterPayload))
	}
	return errors.Join(errs...)
}

// ProcessorConfig is the processor section completed from the root
// sections it does not read itself (dlq).
func (c Config) ProcessorConfig() processor.Config {
	p := c.Processor
	p.DLQMaxPayload = c.DLQ.MaxPayloadBytes
	return p
}

// SinkConfig is the sink section completed from the root sections it does
// not read itself (clickhouse, dlq).
func (c Config) SinkConfig() chsink.Config {
	s := c.Sink
	s.ClickHouse = c.ClickHouse
	s.DLQMaxPayload = c.DLQ.MaxPayloadBytes
	return s
}
