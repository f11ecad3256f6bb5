package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/dashboard"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/tlsconf"
	"github.com/arrears/arrears/tlsconf/tlstest"
)

// freeAddr is host:port with a port nothing listens on right now.
func freeAddr(t *testing.T, host string) string {
	t.Helper()
	return testkit.FreeAddr(t, host)
}

// startOps runs serveOps with the dashboard mounted at / until the test
// ends and returns the error channel; it waits until addr accepts.
func startOps(t *testing.T, hc config.HTTP, opts ...opsOption) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	src := dashboard.SourceFunc(func(context.Context, string, analytics.ReportOptions) (*analytics.Table, error) {
		return &analytics.Table{}, nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		errc <- serveOps(ctx, hc, newRegistry(), log, nil, map[string]http.Handler{"/": dashboard.Handler(src, dashboard.Options{})}, opts...)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serveOps: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", hc.Listen); err == nil {
			c.Close()
			return errc
		}
		if time.Now().After(deadline) {
			t.Fatalf("ops server never listened on %s", hc.Listen)
		}
	}
}

func get(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// checkHeaders: the browser protections on a response; HSTS only over TLS.
func checkHeaders(t *testing.T, resp *http.Response, tls bool) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
	} {
		if got := resp.Header.Get(k); !strings.Contains(got, want) {
			t.Errorf("%s %s: %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q allows scripts beyond 'self'", csp)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tls {
		t.Errorf("Strict-Transport-Security = %q over tls=%v", got, tls)
	}
}

// TestOpsTLS: with http.tls the ops server speaks https only: a client
// trusting the CA gets the dashboard and the endpoints with the safe
// headers and HSTS; a plain http client and a client trusting another CA
// are refused; a renewed certificate is served without a restart.
func TestOpsTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "ops")
	certFile, keyFile := ca.Leaf(t, "first", "127.0.0.1", "localhost")
	hc := config.HTTP{Listen: freeAddr(t, "127.0.0.1"), TLS: tlsconf.Server{CertFile: certFile, KeyFile: keyFile}}
	startOps(t, hc)
	client := func(caFile string) *http.Client {
		tc, err := tlsconf.Config{Enabled: true, CAFile: caFile}.Client()
		if err != nil {
			t.Fatal(err)
		}
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, DisableKeepAlives: true}}
	}
	c := client(ca.File)
	base := "https://" + hc.Listen
	for _, path := range []string{"/", "/healthz", "/metrics", "/static/app.js"} {
		resp, body := get(t, c, base+path)
		if resp.StatusCode != http.StatusOK || body == "" {
			t.Errorf("GET %s: %d %q", path, resp.StatusCode, body)
		}
		checkHeaders(t, resp, true)
	}
	if resp, _ := get(t, c, base+"/debug/pprof/"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("pprof off by default: GET /debug/pprof/ = %d, want 404", resp.StatusCode)
	}

	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, _ := get(t, plain, "http://"+hc.Listen+"/healthz"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain http to the https server: %d, want 400", resp.StatusCode)
	}
	other := tlstest.NewCA(t, "other")
	if _, err := client(other.File).Get(base + "/healthz"); err == nil || !tlsconf.IsHandshake(err) {
		t.Errorf("client trusting another CA: %v, want a failed handshake", err)
	}

	second, secondKey := ca.Leaf(t, "second", "127.0.0.1")
	renew(t, second, certFile)
	renew(t, secondKey, keyFile)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, _ := get(t, c, base+"/healthz")
		if resp.TLS.PeerCertificates[0].Subject.CommonName == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not served within 10 s")
		}
	}
}

// renew replaces to by a copy of from, by rename (as a Secret mount does).
func renew(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(to+".new", to); err != nil {
		t.Fatal(err)
	}
}

// TestOpsHeadersPlain: without TLS the same headers, no HSTS; the
// dashboard's page loads no inline script, so the policy does not break it.
func TestOpsHeadersPlain(t *testing.T) {
	hc := config.HTTP{Listen: freeAddr(t, "127.0.0.1")}
	startOps(t, hc)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, body := get(t, c, "http://"+hc.Listen+"/")
	checkHeaders(t, resp, false)
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(body, -1)
	if len(scripts) == 0 {
		t.Fatal("the dashboard page has no script: the check below would prove nothing")
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script in the dashboard (the CSP refuses it): %.80s", s[0])
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(body) {
		t.Errorf("an inline event handler in the dashboard (the CSP refuses it)")
	}
}

// TestOpsPprof: pprof is off by default; on a loopback address it may run
// without authentication; on any other address it is refused at start
// unless the admin guard is given, which then answers for it.
func TestOpsPprof(t *testing.T) {
	t.Run("non-loopback without auth", func(t *testing.T) {
		hc := config.HTTP{Listen: freeAddr(t, "0.0.0.0"), Pprof: true}
		err := serveOps(context.Background(), hc, newRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
		if !errors.Is(err, errPprofUnguarded) || !strings.Contains(err.Error(), hc.Listen) {
			t.Fatalf("serveOps = %v, want errPprofUnguarded naming %s", err, hc.Listen)
		}
	})
	t.Run("guarded", func(t *testing.T) {
		hc := config.HTTP{Listen: freeAddr(t, "0.0.0.0"), Pprof: true}
		guard := func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") != "Bearer admin-token" {
					http.Error(w, "unauthorized", http.StatusUnauthorized)
					return
				}
				h.ServeHTTP(w, r)
			})
		}
		startOps(t, hc, withAdmin(guard))
		_, port, _ := net.SplitHostPort(hc.Listen)
		url := "http://127.0.0.1:" + port + "/debug/pprof/"
		c := &http.Client{Timeout: 5 * time.Second}
		if resp, _ := get(t, c, url); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("pprof without a token: %d, want 401", resp.StatusCode)
		}
		if resp, body := get(t, c, url, "Authorization", "Bearer admin-token"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "goroutine") {
			t.Errorf("pprof with the admin token: %d", resp.StatusCode)
		}
		if resp, _ := get(t, c, "http://127.0.0.1:"+port+"/healthz"); resp.StatusCode != http.StatusOK {
			t.Errorf("healthz stays open: %d", resp.StatusCode)
		}
	})
	t.Run("loopback", func(t *testing.T) {
		hc := config.HTTP{Listen: freeAddr(t, "127.0.0.1"), Pprof: true}
		startOps(t, hc)
		if resp, _ := get(t, &http.Client{Timeout: 5 * time.Second}, "http://"+hc.Listen+"/debug/pprof/"); resp.StatusCode != http.StatusOK {
			t.Errorf("pprof on loopback: %d, want 200", resp.StatusCode)
		}
	})
}

func TestHTTPLoopback(t *testing.T) {
	if !config.Defaults().HTTP.Loopback() {
		t.Errorf("the default http.listen %q is not loopback", config.Defaults().HTTP.Listen)
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true,
		":9464": false, "0.0.0.0:9464": false, "10.0.0.1:9464": false, "bad": false} {
		if got := (config.HTTP{Listen: addr}).Loopback(); got != want {
			t.Errorf("Loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
