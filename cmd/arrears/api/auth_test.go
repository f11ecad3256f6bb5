package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unitServer is a Server with a tokens file of one token per role and no
// backing services (for the routes and middleware that need none).
func unitServer(t *testing.T, tune func(*Config)) (*Server, map[string]string) {
	t.Helper()
	toks := map[string]string{}
	var lines []string
	for _, r := range roles {
		role, _ := ParseRole(r)
		tok, e, err := NewToken("u-"+r, role, []string{"q1"})
		if err != nil {
			t.Fatal(err)
		}
		toks[r] = tok
		lines = append(lines, e.Line())
	}
	tf := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(tf, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.TokensFile = tf
	if tune != nil {
		tune(&cfg)
	}
	s, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return s, toks
}

func get(h http.Handler, path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestTokens: a printed line loads back; the token it was made with finds
// its entry, a changed token does not; only the hash is in the line.
func TestTokens(t *testing.T) {
	s, toks := unitServer(t, nil)
	for _, r := range roles {
		p, ok := s.tokens.current().lookup(toks[r])
		if !ok || p.Name != "u-"+r || p.Role != r || len(p.Queues) != 1 {
			t.Errorf("%s: %+v %v", r, p, ok)
		}
		if _, ok := s.tokens.current().lookup(toks[r] + "x"); ok {
			t.Errorf("%s: a changed token was accepted", r)
		}
	}
	b, _ := os.ReadFile(s.cfg.TokensFile)
	for _, tok := range toks {
		if strings.Contains(string(b), tok) || !strings.HasPrefix(tok, "arr_") || len(tok) != 4+43 {
			t.Errorf("token %q (or the file holding it)", tok)
		}
	}
	if _, _, err := NewToken("Bad Name", RoleViewer, nil); err == nil {
		t.Error("a name with spaces was accepted")
	}
}

// TestTokensFileErrors: each bad entry is refused naming what is wrong.
func TestTokensFileErrors(t *testing.T) {
	for name, c := range map[string]struct{ text, want string }{
		"role":      {`- {name: a, role: boss, sha256: ` + strings.Repeat("a", 64) + `}`, "role"},
		"hash":      {`- {name: a, role: admin, sha256: abc}`, "sha256"},
		"name":      {`- {name: "A B", role: admin, sha256: ` + strings.Repeat("a", 64) + `}`, "name"},
		"duplicate": {"- {name: a, role: admin, sha256: " + strings.Repeat("a", 64) + "}\n- {name: a, role: viewer, sha256: " + strings.Repeat("b", 64) + "}", "used twice"},
		"unknown":   {`- {name: a, role: admin, sha256: ` + strings.Repeat("a", 64) + `, token: x}`, "token"},
	} {
		f := filepath.Join(t.TempDir(), "t.yaml")
		_ = os.WriteFile(f, []byte(c.text), 0o600)
		if _, err := LoadTokens(f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.want)
		}
	}
	f := filepath.Join(t.TempDir(), "empty.yaml")
	_ = os.WriteFile(f, nil, 0o600)
	if ts, err := LoadTokens(f); err != nil || len(ts.entries) != 0 {
		t.Errorf("empty file: %v", err)
	}
}

// TestRequireRole: the guard SEC puts in front of pprof.
func TestRequireRole(t *testing.T) {
	s, toks := unitServer(t, nil)
	h := s.RequireRole(RoleAdmin, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("profile")) }))
	if w := get(h, "/debug/pprof/", ""); w.Code != http.StatusUnauthorized || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("no token: %d", w.Code)
	}
	if w := get(h, "/debug/pprof/", toks["supervisor"]); w.Code != http.StatusForbidden {
		t.Errorf("supervisor: %d", w.Code)
	}
	if w := get(h, "/debug/pprof/", toks["admin"]); w.Code != http.StatusOK || w.Body.String() != "profile" {
		t.Errorf("admin: %d %s", w.Code, w.Body)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("m")) })
	if w := get(s.MetricsHandler(metrics), "/metrics", ""); w.Code != http.StatusOK {
		t.Errorf("public metrics: %d", w.Code)
	}
	closed, toks2 := unitServer(t, func(c *Config) { c.MetricsPublic = false })
	if w := get(closed.MetricsHandler(metrics), "/metrics", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("metrics_public false, no token: %d", w.Code)
	}
	if w := get(closed.MetricsHandler(metrics), "/metrics", toks2["viewer"]); w.Code != http.StatusOK {
		t.Errorf("metrics_public false, viewer: %d", w.Code)
	}
}

// TestRateLimit: past the burst a token gets 429 with Retry-After; another
// token is not affected.
func TestRateLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, toks := unitServer(t, func(c *Config) { c.RatePerSecond, c.RateBurst = 0.5, 2 })
	s.deps.Now = func() time.Time { return now }
	h := s.Handler()
	for i := 0; i < 2; i++ {
		if w := get(h, Prefix+"/me", toks["viewer"]); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := get(h, Prefix+"/me", toks["viewer"])
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("third request: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w := get(h, Prefix+"/me", toks["admin"]); w.Code != http.StatusOK {
		t.Errorf("another token: %d", w.Code)
	}
	now = now.Add(2 * time.Second)
	if w := get(h, Prefix+"/me", toks["viewer"]); w.Code != http.StatusOK {
		t.Errorf("after the refill: %d", w.Code)
	}
}

// TestRequestID: a plain X-Request-Id is echoed, a hostile one replaced.
func TestRequestID(t *testing.T) {
	s, toks := unitServer(t, nil)
	for in, keep := range map[string]bool{"abc-123": true, "": false, strings.Repeat("x", 65): false, "a b\r\n": false} {
		r := httptest.NewRequest(http.MethodGet, Prefix+"/me", nil)
		r.Header.Set("Authorization", "Bearer "+toks["viewer"])
		r.Header.Set("X-Request-Id", in)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		got := w.Header().Get("X-Request-Id")
		if keep != (got == in) || got == "" {
			t.Errorf("X-Request-Id %q -> %q", in, got)
		}
	}
}

// TestConfigValidate names each bad field.
func TestConfigValidate(t *testing.T) {
	c := Defaults()
	c.SupervisorWriteOffLimit, c.RatePerSecond, c.RateBurst, c.MaxBodyBytes, c.IdempotencyTTL, c.MaxWait, c.KeyPrefix = "x", 0, 0, 10, 0, 0, "{a}"
	err := c.Validate()
	for _, f := range []string{"supervisor_write_off_limit", "rate_per_second", "rate_burst", "max_body_bytes", "idempotency_ttl", "max_wait", "key_prefix"} {
		if err == nil || !strings.Contains(err.Error(), "api."+f) {
			t.Errorf("api.%s not named: %v", f, err)
		}
	}
	if err := Defaults().Validate(); err != nil {
		t.Error(err)
	}
}

// TestTokensReload: a line deleted from the tokens file revokes its token
// without a restart; a broken file keeps the previous tokens.
func TestTokensReload(t *testing.T) {
	s, toks := unitServer(t, nil)
	h := s.Handler()
	if w := get(h, Prefix+"/me", toks["viewer"]); w.Code != http.StatusOK {
		t.Fatalf("before: %d", w.Code)
	}
	b, _ := os.ReadFile(s.cfg.TokensFile)
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `"u-viewer"`) {
			kept = append(kept, l)
		}
	}
	if err := os.WriteFile(s.cfg.TokensFile, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	s.tokens.checked = time.Time{} // as if a second had passed
	if w := get(h, Prefix+"/me", toks["viewer"]); w.Code != http.StatusUnauthorized {
		t.Errorf("a deleted line still authenticates: %d", w.Code)
	}
	if w := get(h, Prefix+"/me", toks["admin"]); w.Code != http.StatusOK {
		t.Errorf("a kept line: %d", w.Code)
	}
	if err := os.WriteFile(s.cfg.TokensFile, []byte("- {name: broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.tokens.checked = time.Time{}
	if w := get(h, Prefix+"/me", toks["admin"]); w.Code != http.StatusOK {
		t.Errorf("a broken file dropped the tokens: %d", w.Code)
	}
}
