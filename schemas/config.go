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
	// KnownWriters is a directory of .avsc files (read once by New): writer
	// schemas of our records other than ours, such as a producer's newer
	// version with an added optional field. Single-object records carrying
	// one's fingerprint (the specification's, or goavro's) are accepted and
	// resolved onto our schema without a registry. Each file must be a
	// compatible evolution of our schema of the same name
	// (docs/schemas.md); New refuses one that is not, naming the file and
	// the field. Empty means none.
	KnownWriters string `yaml:"known_writers"`
	// MaxSchemaIDs bounds the registry schema ids a Codec caches with their
	// parsed writer schema and resolution, and the ids it remembers as
	// unknown; beyond it the oldest fetched id is forgotten (and fetched
	// again if it comes back). KnownIDs and ids the codec registered itself
	// do not count. Default 1000.
	MaxSchemaIDs int `yaml:"max_schema_ids"`

	// Bounds of inbound events (ar.events). A record outside them is
	// refused by DecodeEvent with a FieldError naming the field; see
	// limits.go for exactly what each bounds.

	// MinTime and MaxTime bound every instant and calendar day of an event
	// (event_time, Hold.until, issue and due dates, installment due dates):
	// min_time <= t < max_time. RFC 3339 or YYYY-MM-DD (midnight UTC).
	// Defaults 2000-01-01 and 2100-01-01. This is a sanity range, not the
	// clock-skew check against the wall clock (the processor's).
	MinTime string `yaml:"min_time"`
	MaxTime string `yaml:"max_time"`
	// MaxAmount bounds the magnitude of every event amount, as a decimal
	// string. Default "100000000000" (10^11, ledger.MaxAmount, so what the
	// ledger would refuse is refused at decoding with INVALID_AMOUNT); at
	// most "99999999999999.9999", what decimal(18,4) holds.
	MaxAmount string `yaml:"max_amount"`
	// MaxIDBytes bounds every id (event_id, account_id, invoice, payment,
	// refund, dispute, arrangement, hold, adjustment and parent ids; call,
	// call-back, note, write-off, agency and case ids, a call-back's queue)
	// in bytes. Default 128.
	MaxIDBytes int `yaml:"max_id_bytes"`
	// MaxTextBytes bounds every other string of an event (source, reason,
	// method, bill_cycle, credit_class, timezone, exemptions; a note's
	// text, a call's note, a legal reference) in bytes. Default 1024.
	MaxTextBytes int `yaml:"max_text_bytes"`
	// MaxItems bounds every array of an event (invoice_ids, installments,
	// consents, exemptions). Default 1000.
	MaxItems int `yaml:"max_items"`
}

// Defaults for the zero fields of Config.
const (
	DefaultRegistryTimeout = 5 * time.Second
	DefaultUnknownIDTTL    = 30 * time.Second
	DefaultMaxSchemaIDs    = 1000
	DefaultMinTime         = "2000-01-01"
	DefaultMaxTime         = "2100-01-01"
	DefaultMaxAmount       = "100000000000"
	DefaultMaxIDBytes      = 128
	DefaultMaxTextBytes    = 1024
	DefaultMaxItems        = 1000
)

// Validate reports the first invalid field, by its yaml key. Messages
// never carry credentials (see RedactURL).
func (c Config) Validate() error {
	if _, _, err := c.registry(); err != nil {
		return err
	}
	if c.RegistryPassword != "" && c.RegistryUser == "" {
		return errors.New("schemas: registry_password set without registry_user")
	}
	if c.RegistryTimeout < 0 {
		return fmt.Errorf("schemas: registry_timeout %v is negative", c.RegistryTimeout)
	}
	if c.UnknownIDTTL < 0 {
		return fmt.Errorf("schemas: unknown_id_ttl %v is negative", c.UnknownIDTTL)
	}
	if c.MaxSchemaIDs < 0 {
		return fmt.Errorf("schemas: max_schema_ids %d is negative", c.MaxSchemaIDs)
	}
	for id, s := range c.KnownIDs {
		if id <= 0 {
			return fmt.Errorf("schemas: known_ids: id %d is not positive", id)
		}
		if _, err := resolveKnown(s); err != nil {
			return fmt.Errorf("schemas: known_ids[%d]: %w", id, err)
		}
	}
	_, err := c.withDefaults().limits()
	return err
}

// registry splits RegistryURL into URLs without credentials and returns
// the basic-auth user and password: RegistryUser and RegistryPassword, or
// those one of the URLs carried (https://user:pass@host). New hands them to
// the client as basic auth, so no request URL, and so no error message or
// log line, ever holds them.
func (c Config) registry() (urls []string, auth *url.Userinfo, err error) {
	if c.RegistryUser != "" {
		auth = url.UserPassword(c.RegistryUser, c.RegistryPassword)
	}
	if c.RegistryURL == "" {
		return nil, auth, nil
	}
	var creds *url.Userinfo
	for _, raw := range strings.Split(c.RegistryURL, ",") {
		raw = strings.TrimSpace(raw)
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("schemas: registry_url %q: want http(s)://host[:port]", RedactURL(raw))
		}
		if u.User != nil {
			if creds != nil && creds.String() != u.User.String() {
				return nil, nil, errors.New("schemas: registry_url: the URLs carry different credentials")
			}
			if c.RegistryUser != "" {
				return nil, nil, errors.New("schemas: registry_url carries credentials and registry_user is set: give them once")
			}
			creds, u.User = u.User, nil
		}
		urls = append(urls, u.String())
	}
	if creds != nil {
		auth = creds
	}
	return urls, auth, nil
}

// RedactURL replaces the user information of every URL in s (a URL, or
// several separated by commas) with "***", so s can be logged:
// "https://user:pass@host:8081/x" becomes "https://***@host:8081/x". It
// works on text that does not parse as a URL, too.
func RedactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		scheme := strings.Index(p, "://")
		if scheme < 0 {
			continue
		}
		rest := p[scheme+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			parts[i] = p[:scheme+3] + "***" + rest[at:]
		}
	}
	return strings.Join(parts, ",")
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
		return b, nil // goavro's form keeps logical types: the same schema
	}
	return p.asWriter(), nil
}

func (c Config) withDefaults() Config {
	if c.RegistryTimeout == 0 {
		c.RegistryTimeout = DefaultRegistryTimeout
	}
	if c.UnknownIDTTL == 0 {
		c.UnknownIDTTL = DefaultUnknownIDTTL
	}
	if c.MaxSchemaIDs == 0 {
		c.MaxSchemaIDs = DefaultMaxSchemaIDs
	}
	if c.MinTime == "" {
		c.MinTime = DefaultMinTime
	}
	if c.MaxTime == "" {
		c.MaxTime = DefaultMaxTime
	}
	if c.MaxAmount == "" {
		c.MaxAmount = DefaultMaxAmount
	}
	if c.MaxIDBytes == 0 {
		c.MaxIDBytes = DefaultMaxIDBytes
	}
	if c.MaxTextBytes == 0 {
		c.MaxTextBytes = DefaultMaxTextBytes
	}
	if c.MaxItems == 0 {
		c.MaxItems = DefaultMaxItems
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
		slog.String("registry_url", RedactURL(c.RegistryURL)),
		slog.String("registry_user", c.RegistryUser),
		slog.String("registry_password", pw),
		slog.Duration("registry_timeout", c.RegistryTimeout),
		slog.Bool("disable_auto_register", c.DisableAutoRegister),
		slog.Int("known_ids", len(c.KnownIDs)),
		slog.String("known_writers", c.KnownWriters), slog.Int("max_schema_ids", c.MaxSchemaIDs),
		slog.String("min_time", c.MinTime), slog.String("max_time", c.MaxTime),
		slog.String("max_amount", c.MaxAmount), slog.Int("max_id_bytes", c.MaxIDBytes),
		slog.Int("max_text_bytes", c.MaxTextBytes), slog.Int("max_items", c.MaxItems),
	)
}
