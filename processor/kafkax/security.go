package kafkax

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TLS is kafka.tls: how arrears encrypts its connections to the brokers and
// verifies them (docs/security.md).
type TLS struct {
	// Enabled turns TLS on (default false: plaintext, the local stack).
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs that sign the brokers' certificates
	// (default "": the system roots).
	CAFile string `yaml:"ca_file"`
	// ServerName is the name the brokers' certificates must carry (default
	// "": the host of each broker address).
	ServerName string `yaml:"server_name"`
	// CertFile and KeyFile are this client's PEM certificate and key for
	// mutual TLS (default "": no client certificate); both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify accepts any server certificate (default false).
	// For a test broker only; refused together with kafka.sasl, whose
	// password would go to a server nobody verified.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

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
		if c.TLS.InsecureSkipVerify {
			errs = append(errs, errors.New("kafka.tls.insecure_skip_verify: refused with kafka.sasl (the password would go to an unverified server)"))
		}
	} else if c.SASL.Username != "" || c.SASL.Password != "" {
		errs = append(errs, errors.New("kafka.sasl.mechanism: required when kafka.sasl.username or password is set"))
	}
	t := c.TLS
	if !t.Enabled {
		if t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != "" || t.InsecureSkipVerify {
			errs = append(errs, errors.New("kafka.tls.enabled: false but other kafka.tls fields are set"))
		}
		return errs
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, errors.New("kafka.tls.cert_file and kafka.tls.key_file: both or neither"))
	}
	if _, err := t.config(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// config builds the tls.Config of t (nil when TLS is off). Errors name the
// field and the file, never a file's contents.
func (t TLS) config() (*tls.Config, error) {
	if !t.Enabled {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify} // #nosec G402 -- refused with SASL, documented as test-only
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" && t.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka.tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// securityOpts are the TLS and SASL options of ClientOpts. Validate has
// read the files already; should one have gone since, every dial fails
// with that error (a client option cannot fail).
func (c Config) securityOpts() []kgo.Opt {
	var opts []kgo.Opt
	tcfg, err := c.TLS.config()
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
