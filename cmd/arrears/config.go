package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
	"github.com/arrears/arrears/sinks/redisstore"
)

// Config is the whole process configuration: one YAML file (-config) plus
// ARREARS_* environment overrides. Each section is its component's own
// Config with documented defaults and a Validate method.
type Config struct {
	Kafka      kafkax.Config     `yaml:"kafka"`
	Codec      schemas.Config    `yaml:"codec"`
	Redis      redisstore.Config `yaml:"redis"`
	Processor  processor.Config  `yaml:"processor"`
	Core       core.Config       `yaml:"core"`
	Log        LogConfig         `yaml:"log"`
	HTTP       HTTPConfig        `yaml:"http"`
	ClickHouse analytics.Config  `yaml:"clickhouse"`
	Sink       chsink.Config     `yaml:"sink"`
}

// LogConfig configures slog.
type LogConfig struct {
	// Level is debug, info, warn or error (default info).
	Level string `yaml:"level"`
	// Format is json or text (default json).
	Format string `yaml:"format"`
}

// HTTPConfig is the operations endpoint every long-running command serves.
type HTTPConfig struct {
	// Listen is the address of /metrics, /healthz and /readyz (default
	// "127.0.0.1:9464"; empty disables it).
	Listen string `yaml:"listen"`
	// Pprof also serves Go's profiler at /debug/pprof/ on that address
	// (default false; bench turns it on for its children with --profile).
	Pprof bool `yaml:"pprof"`
}

func defaultConfig() Config {
	return Config{
		Kafka:      kafkax.Defaults(),
		Codec:      schemas.Config{},
		Redis:      redisstore.Defaults(),
		Processor:  processor.Defaults(),
		Core:       core.Defaults(),
		Log:        LogConfig{Level: "info", Format: "json"},
		HTTP:       HTTPConfig{Listen: "127.0.0.1:9464"},
		ClickHouse: analytics.Defaults(),
		Sink:       chsink.Defaults(),
	}
}

// Validate checks every section and reports every bad field.
func (c Config) Validate() error {
	errs := []error{c.Kafka.Validate(), c.Codec.Validate(), c.Redis.Validate(), c.Processor.Validate(), c.Core.Validate(),
		c.ClickHouse.Validate(), c.Sink.Validate()}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		errs = append(errs, fmt.Errorf("log.format: %q is not json or text", c.Log.Format))
	}
	return errors.Join(errs...)
}

// loadConfig parses the -config flag (and any flags the caller registered on
// fs), reads the YAML file, applies ARREARS_* overrides and validates.
func loadConfig(fs *flag.FlagSet, args []string) (Config, error) {
	path := fs.String("config", os.Getenv("ARREARS_CONFIG"), "YAML config file (default: built-in defaults)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	cfg := defaultConfig()
	if *path != "" {
		b, err := os.ReadFile(*path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", *path, err)
		}
	}
	if err := applyEnv(&cfg, os.Environ()); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid config: %w", err)
	}
	return cfg, nil
}

// applyEnv overrides fields from variables named ARREARS_ + the upper-cased
// yaml path joined by underscores, e.g. ARREARS_KAFKA_BROKERS=a:9092,b:9092,
// ARREARS_KAFKA_TOPICS_EVENTS=ar.events, ARREARS_REDIS_ADDRS=... Lists are
// comma separated; durations use Go syntax (1s, 250ms).
func applyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "ARREARS_") {
			env[k] = v
		}
	}
	return walkEnv(reflect.ValueOf(cfg).Elem(), "ARREARS", env)
}

var durationType = reflect.TypeOf(time.Duration(0))

func walkEnv(v reflect.Value, prefix string, env map[string]string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			if err := walkEnv(fv, name, env); err != nil {
				return err
			}
			continue
		}
		s, ok := env[name]
		if !ok {
			continue
		}
		if err := setFromString(fv, s); err != nil {
			return fmt.Errorf("env %s: %w", name, err)
		}
	}
	return nil
}

func setFromString(fv reflect.Value, s string) error {
	if fv.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		fv.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		fv.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		fv.SetBool(b)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", fv.Type())
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		fv.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}
