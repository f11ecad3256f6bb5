package tlsconf_test

import (
	"crypto/tls"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arrears/arrears/tlsconf"
	"github.com/arrears/arrears/tlsconf/tlstest"
)

// servedCN dials addr trusting caFile and returns the common name of the
// certificate the server presented.
func servedCN(t *testing.T, addr, caFile string) string {
	t.Helper()
	tc, err := tlsconf.Config{Enabled: true, CAFile: caFile, ServerName: "localhost"}.Client()
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", addr, tc)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// serve accepts TLS connections on a loopback port with cfg and completes
// each handshake.
func serve(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) { _ = c.(*tls.Conn).Handshake(); c.Close() }(c)
		}
	}()
	return l.Addr().String()
}

// TestListenerReloads: a real TLS client sees the renewed certificate once
// the files change, without a restart; a half-written pair leaves the old
// one in service and is reported; an untrusting client is refused.
func TestListenerReloads(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	certFile, keyFile := ca.Leaf(t, "first", "localhost", "127.0.0.1")
	var mu sync.Mutex
	var reloads []error
	cfg, err := tlsconf.Server{CertFile: certFile, KeyFile: keyFile}.Listener(func(err error) {
		mu.Lock()
		reloads = append(reloads, err)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, cfg)
	if cn := servedCN(t, addr, ca.File); cn != "first" {
		t.Fatalf("served %q, want first", cn)
	}

	// a rotation half written: the old certificate keeps being served
	if err := os.WriteFile(certFile, []byte("-----BEGIN CERTIFICATE-----\ntruncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if cn := servedCN(t, addr, ca.File); cn != "first" {
			t.Fatalf("served %q during a broken rotation, want first", cn)
		}
		mu.Lock()
		n := len(reloads)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed certificate file was never reloaded")
		}
		time.Sleep(200 * time.Millisecond)
	}
	mu.Lock()
	if reloads[0] == nil {
		t.Errorf("loading a truncated certificate reported no error")
	}
	mu.Unlock()

	// the renewal completes: a new pair replaces both files
	second, secondKey := ca.Leaf(t, "second", "localhost")
	for _, f := range []struct{ from, to string }{{second, certFile}, {secondKey, keyFile}} {
		b, err := os.ReadFile(f.from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.to+".new", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.to+".new", f.to); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); servedCN(t, addr, ca.File) != "second"; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not served within 10 s")
		}
	}

	other := tlstest.NewCA(t, "other")
	tc, _ := tlsconf.Config{Enabled: true, CAFile: other.File, ServerName: "localhost"}.Client()
	if c, err := tls.Dial("tcp", addr, tc); err == nil {
		c.Close()
		t.Fatal("a client trusting another CA completed the handshake")
	} else if !tlsconf.IsHandshake(err) {
		t.Errorf("untrusted: %v, want a handshake error", err)
	}
}

func TestServerValidate(t *testing.T) {
	ca := tlstest.NewCA(t, "test")
	certFile, keyFile := ca.Leaf(t, "srv", "localhost")
	_, otherKey := ca.Leaf(t, "other", "localhost")
	for _, c := range []struct {
		s    tlsconf.Server
		want string // "" valid
	}{
		{tlsconf.Server{}, ""},
		{tlsconf.Server{CertFile: certFile, KeyFile: keyFile}, ""},
		{tlsconf.Server{CertFile: certFile}, "http.tls.cert_file and http.tls.key_file"},
		{tlsconf.Server{CertFile: certFile, KeyFile: otherKey}, "http.tls.cert_file " + certFile},
		{tlsconf.Server{CertFile: certFile + ".missing", KeyFile: keyFile}, "no such file"},
	} {
		err := c.s.Validate("http.tls")
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.s, err, c.want)
		}
	}
	if cfg, err := (tlsconf.Server{}).Listener(nil); cfg != nil || err != nil {
		t.Errorf("no files: %v, %v; want plain (nil, nil)", cfg, err)
	}
}
