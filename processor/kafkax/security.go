package kafkax

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL is kafka.sasl: how arrears authenticates to the brokers.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default "": no
	// SASL). PLAIN sends the password as is: use it only with kafka.tls.
	Mechanism string `yaml:"mechanism"`
	// Username is the SASL user (the principal User:<username> of the ACLs).
	Username string `yaml:"username"`
	// Password is a secret: set it with ARREARS_KAFKA_SASL_PASSWORD or
	// ARREARS_KAFKA_SASL_PASSWORD_FILE, never in a file you commit. It is
	// never logged nor printed.
	Password string `yaml:"password"`
}

// SASL mechanisms of kafka.sasl.mechanism.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// String leaves the password out (fmt of a Config never prints it).
func (s SASL) String() string {
	if s.Mechanism == "" {
		return "{none}"
	}
	return fmt.Sprintf("{%s user=%s password=%s}", s.Mechanism, s.Username, redacted(s.Password))
}

// LogValue leaves the password out of slog output.
func (s SASL) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mechanism", s.Mechanism), slog.String("username", s.Username),
		slog.String("password", redacted(s.Password)))
}

// MarshalJSON leaves the password out of JSON (slog's JSON handler
// marshals a Config logged whole).
func (s SASL) MarshalJSON() ([]byte, error) {
	type plain SASL // without this method
	s.Password = redacted(s.Password)
	return json.Marshal(plain(s))
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "<redacted>"
}

// mechanism is franz-go's SASL mechanism for s, nil without SASL.
func (s SASL) mechanism() (sasl.Mechanism, error) {
	switch s.Mechanism {
	case "":
		return nil, nil
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism(), nil
	case MechanismScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism(), nil
	case MechanismScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka.sasl.mechanism: %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism)
}

// validateSecurity names every bad kafka.tls and kafka.sasl field. It reads
// the certificate files, so a missing or malformed one is refused at start.
func (c Config) validateSecurity() []error {
	var errs []error
	if _, err := c.SASL.mechanism(); err != nil {
		errs = append(errs, err)
	}
	if c.SASL.Mechanism != "" {
		if c.SASL.Username == "" {
			errs = append(errs, errors.New("kafka.sasl.username: required with kafka.sasl.mechanism"))
		}
		if c.SASL.Password == "" {
			errs = append(errs, errors.New("kafka.sasl.password: required with kafka.sasl.mechanism (set ARREARS_KAFKA_SASL_PASSWORD or ARREARS_KAFKA_SASL_PASSWORD_FILE)"))
		}
	} else if c.SASL.Username != "" || c.SASL.Password != "" {
		errs = append(errs, errors.New("kafka.sasl.mechanism: required when kafka.sasl.username or password is set"))
	}
	if err := c.TLS.Validate("kafka.tls"); err != nil {
		errs = append(errs, err)
	} else if _, err := c.TLS.Client(); err != nil { // a file that is there but no PEM
		errs = append(errs, fmt.Errorf("kafka.%w", err))
	}
	return errs
}

// securityOpts are the TLS and SASL options of ClientOpts. Validate has
// read the files already; should one have gone since, every dial fails
// with that error (a client option cannot fail).
func (c Config) securityOpts() []kgo.Opt {
	var opts []kgo.Opt
	tcfg, err := c.TLS.Client()
	switch {
	case err != nil:
		opts = append(opts, kgo.Dialer(func(context.Context, string, string) (net.Conn, error) { return nil, err }))
	case tcfg != nil:
		opts = append(opts, kgo.DialTLSConfig(tcfg))
	}
	if m, err := c.SASL.mechanism(); err == nil && m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}
