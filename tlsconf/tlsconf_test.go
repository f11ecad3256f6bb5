package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientAndValidate(t *testing.T) {
	if tc, err := (Config{}).Client(); tc != nil || err != nil {
		t.Fatalf("disabled: %v, %v; want nil, nil", tc, err)
	}
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Config{Enabled: true, CAFile: notPEM}).Client(); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("CA without PEM: err = %v, want ErrNoCertificates", err)
	}
	tc, err := (Config{Enabled: true, ServerName: "redis.internal"}).Client()
	if err != nil || tc.ServerName != "redis.internal" || tc.RootCAs != nil || tc.InsecureSkipVerify {
		t.Errorf("system roots: %+v, %v", tc, err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Enabled: true, CertFile: notPEM}, "redis.tls.cert_file and redis.tls.key_file"},
		{Config{Enabled: true, CAFile: filepath.Join(dir, "missing.pem")}, "redis.tls.ca_file"},
		{Config{CAFile: notPEM}, "redis.tls.enabled"},
	} {
		if err := c.cfg.Validate("redis.tls"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want it to name %s", c.cfg, err, c.want)
		}
	}
	if err := (Config{Enabled: true, CAFile: notPEM}).Validate("redis.tls"); err != nil {
		t.Errorf("valid: %v", err)
	}
}

func TestIsHandshake(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection refused"), false},
		{fmt.Errorf("dial: %w", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), true},
		{fmt.Errorf("dial: %w", x509.HostnameError{Host: "x"}), true},
		{fmt.Errorf("dial: %w", x509.CertificateInvalidError{Reason: x509.Expired}), true},
		{fmt.Errorf("read: %w", tls.AlertError(42)), true},
		{fmt.Errorf("handshake: %w", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), true},
	} {
		if got := IsHandshake(c.err); got != c.want {
			t.Errorf("IsHandshake(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
