package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config is one connection's TLS settings. Without CAFile the system roots
// verify the server; verification is never switched off.
type Config struct {
	// Enabled turns TLS on (default false).
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs trusted to sign the server's
	// certificate (default: the system roots).
	CAFile string `yaml:"ca_file"`
	// ServerName is the name verified in the server's certificate (default:
	// the host of the address dialed).
	ServerName string `yaml:"server_name"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that require one (mutual TLS); both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Validate names the bad field under path (e.g. "redis.tls").
func (c Config) Validate(path string) error {
	var errs []error
	if !c.Enabled {
		if c.CAFile != "" || c.CertFile != "" || c.KeyFile != "" || c.ServerName != "" {
			errs = append(errs, fmt.Errorf("%s.enabled: false, but TLS files or server_name are set", path))
		}
		return errors.Join(errs...)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%s.cert_file and %s.key_file: set both or neither", path, path))
	}
	for _, f := range []struct{ key, file string }{{"ca_file", c.CAFile}, {"cert_file", c.CertFile}, {"key_file", c.KeyFile}} {
		if f.file == "" {
			continue
		}
		if _, err := os.Stat(f.file); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", path, f.key, err))
		}
	}
	return errors.Join(errs...)
}

// Client builds the client-side tls.Config, or nil when TLS is off. Errors
// name the file that could not be used.
func (c Config) Client() (*tls.Config, error) {
	if !c.Enabled {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca_file %s: %w", c.CAFile, ErrNoCertificates)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls cert_file %s / key_file %s: %w", c.CertFile, c.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
