package schemas

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Config configures a Codec. The zero value is valid: no registry, output in
// Avro single-object encoding.
type Config struct {
	// RegistryURL is the Schema Registry base URL, e.g.
	// "http://schema-registry:8081"; several URLs may be comma-separated.
	// Empty means no registry: output uses single-object encoding and
	// Confluent-framed input resolves only KnownIDs and ids this codec
	// registered itself.
	RegistryURL string `yaml:"registry_url"`
	// RegistryUser and RegistryPassword enable HTTP basic auth. They come
	// from the environment or secret files and are never logged.
	RegistryUser     string `yaml:"registry_user"`
	RegistryPassword string `yaml:"registry_password"`
	// RegistryTimeout bounds each registry request. Default 5s.
	RegistryTimeout time.Duration `yaml:"registry_timeout"`
	// DisableAutoRegister makes encoding only look up the schema under
	// "<topic>-value" (for registries where clients may not register);
	// by default the schema is registered, which is idempotent.
	DisableAutoRegister bool `yaml:"disable_auto_register"`
	// UnknownIDTTL is how long an id the registry does not know is
	// remembered as unknown, so a burst of bad records does not become a
	// burst of registry requests. Default 30s.
	UnknownIDTTL time.Duration `yaml:"unknown_id_ttl"`
	// KnownIDs maps Confluent schema ids to schemas without asking a
	// registry: a value is either the full name of an owned schema
	// ("arrears.ArEvent") or a complete .avsc text.
	KnownIDs map[int]string `yaml:"known_ids"`
}

// Defaults for the zero fields of Config.
const (
	DefaultRegistryTimeout = 5 * time.Second
	DefaultUnknownIDTTL    = 30 * time.Second
)

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.RegistryURL != "" {
		for _, raw := range strings.Split(c.RegistryURL, ",") {
			u, err := url.Parse(strings.TrimSpace(raw))
			if err != nil {
				return fmt.Errorf("schemas: RegistryURL: %w", err)
			}
			if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("schemas: RegistryURL %q: want http(s)://host[:port]", raw)
			}
		}
	}
	if c.RegistryPassword != "" && c.RegistryUser == "" {
		return errors.New("schemas: RegistryPassword set without RegistryUser")
	}
	if c.RegistryTimeout < 0 {
		return fmt.Errorf("schemas: RegistryTimeout %v is negative", c.RegistryTimeout)
	}
	if c.UnknownIDTTL < 0 {
		return fmt.Errorf("schemas: UnknownIDTTL %v is negative", c.UnknownIDTTL)
	}
	for id, s := range c.KnownIDs {
		if id <= 0 {
			return fmt.Errorf("schemas: KnownIDs: id %d is not positive", id)
		}
		if _, err := resolveKnown(s); err != nil {
			return fmt.Errorf("schemas: KnownIDs[%d]: %w", id, err)
		}
	}
	return nil
}

// resolveKnown turns a KnownIDs value into a parsed schema.
func resolveKnown(s string) (*schema, error) {
	if b, ok := builtins()[s]; ok {
		return b, nil
	}
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		return nil, fmt.Errorf("%q is neither an owned schema name nor an .avsc text", s)
	}
	p, err := parseSchema(s)
	if err != nil {
		return nil, err
	}
	if b, ok := builtins()[p.name]; ok && b.codec.Rabin == p.codec.Rabin {
		return b, nil
	}
	return p, nil
}

func (c Config) withDefaults() Config {
	if c.RegistryTimeout == 0 {
		c.RegistryTimeout = DefaultRegistryTimeout
	}
	if c.UnknownIDTTL == 0 {
		c.UnknownIDTTL = DefaultUnknownIDTTL
	}
	return c
}

// LogValue keeps the password out of logs.
func (c Config) LogValue() slog.Value {
	pw := ""
	if c.RegistryPassword != "" {
		pw = "REDACTED"
	}
	return slog.GroupValue(
		slog.String("registry_url", c.RegistryURL),
		slog.String("registry_user", c.RegistryUser),
		slog.String("registry_password", pw),
		slog.Duration("registry_timeout", c.RegistryTimeout),
		slog.Bool("disable_auto_register", c.DisableAutoRegister),
		slog.Int("known_ids", len(c.KnownIDs)),
	)
}
