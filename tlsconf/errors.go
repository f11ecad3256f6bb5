package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// ErrNoCertificates is a CA file with no PEM certificate in it.
var ErrNoCertificates = errors.New("no PEM certificate found")

// IsHandshake says whether err is a failed TLS handshake: a server
// certificate that is untrusted, expired or not valid for the name, the
// peer's alert (it refused our client certificate), or TLS spoken to a
// plaintext port. A retry cannot fix any of them.
func IsHandshake(err error) bool {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		header  tls.RecordHeaderError
		alert   tls.AlertError
	)
	return err != nil && (errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) ||
		errors.As(err, &invalid) || errors.As(err, &header) || errors.As(err, &alert))
}
