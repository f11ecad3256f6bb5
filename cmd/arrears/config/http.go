package config

import (
	"fmt"
	"net"
)

// Validate checks http.listen (host:port, or empty) and http.tls.
func (h HTTP) Validate() error {
	if h.Listen != "" {
		if _, _, err := net.SplitHostPort(h.Listen); err != nil {
			return fmt.Errorf("http.listen: %q: %w", h.Listen, err)
		}
	}
	return h.TLS.Validate("http.tls")
}

// Loopback says whether http.listen accepts connections from this machine
// only: an IP loopback address or localhost. An empty host (":9464") or
// 0.0.0.0 listens on every interface.
func (h HTTP) Loopback() bool {
	host, _, err := net.SplitHostPort(h.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Scheme is "https" with http.tls, else "http".
func (h HTTP) Scheme() string {
	if h.TLS.Enabled() {
		return "https"
	}
	return "http"
}
