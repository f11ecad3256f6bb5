package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Server is the TLS block of a listener arrears opens (http.tls): a PEM
// certificate chain and its key. Both empty: plain HTTP.
type Server struct {
	// CertFile is the PEM certificate chain served (leaf first).
	CertFile string `yaml:"cert_file"`
	// KeyFile is its PEM private key.
	KeyFile string `yaml:"key_file"`
}

// Enabled says whether the listener speaks TLS (both files set).
func (s Server) Enabled() bool { return s.CertFile != "" && s.KeyFile != "" }

// Validate names the bad field under path (e.g. "http.tls"): both files or
// neither, and a pair that loads.
func (s Server) Validate(path string) error {
	if s.CertFile == "" && s.KeyFile == "" {
		return nil
	}
	if s.CertFile == "" || s.KeyFile == "" {
		return fmt.Errorf("%s.cert_file and %s.key_file: set both or neither", path, path)
	}
	if _, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
		return fmt.Errorf("%s.cert_file %s / %s.key_file %s: %w", path, s.CertFile, path, s.KeyFile, err)
	}
	return nil
}

// Listener builds the server-side tls.Config, or nil when TLS is off. The
// certificate is read again when either file's modification time or size
// changes (checked at most once per second, at a handshake), so a renewed
// certificate (cert-manager, a rotated Secret mount) is served without a
// restart. A pair that fails to load (a rotation half written) keeps the
// previous certificate in service; onReload, when not nil, is told of each
// reload and its error.
func (s Server) Listener(onReload func(err error)) (*tls.Config, error) {
	if !s.Enabled() {
		return nil, nil
	}
	r := &reloader{s: s, onReload: onReload}
	if err := r.load(); err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
}

// reloader holds the certificate in service and the file stamps it was
// read from.
type reloader struct {
	s        Server
	onReload func(error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// load reads the pair (caller holds mu, or nobody else has r yet).
func (r *reloader) load() error {
	var st [2]fileStamp
	var err error
	for i, f := range []string{r.s.CertFile, r.s.KeyFile} {
		if st[i], err = stampOf(f); err != nil {
			return fmt.Errorf("tls certificate: %w", err)
		}
	}
	cert, err := tls.LoadX509KeyPair(r.s.CertFile, r.s.KeyFile)
	if err != nil {
		return fmt.Errorf("tls cert_file %s / key_file %s: %w", r.s.CertFile, r.s.KeyFile, err)
	}
	r.cert, r.stamp = &cert, st
	return nil
}

// reloadEvery bounds how often a handshake looks at the files.
const reloadEvery = time.Second

func (r *reloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= reloadEvery {
		r.checked = now
		if r.changed() {
			err := r.load()
			if r.onReload != nil {
				r.onReload(err)
			}
		}
	}
	if r.cert == nil {
		return nil, errors.New("tls: no certificate loaded")
	}
	return r.cert, nil
}

// changed says whether either file differs from what was loaded (a file
// that cannot be read counts as unchanged: the old pair stays in service).
func (r *reloader) changed() bool {
	for i, f := range []string{r.s.CertFile, r.s.KeyFile} {
		st, err := stampOf(f)
		if err == nil && st != r.stamp[i] {
			return true
		}
	}
	return false
}
