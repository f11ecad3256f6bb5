package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/arrears/arrears/cmd/arrears/api"
)

// TestDashboardGuard: with the operator API on, the dashboard's data needs
// a token; its pages do not (a browser loads the sign-in without one).
func TestDashboardGuard(t *testing.T) {
	tok, e, err := api.NewToken("viewer", api.RoleViewer, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Defaults()
	cfg.TokensFile = filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(cfg.TokensFile, []byte(e.Line()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(cfg, api.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	h := dashboardGuard(srv, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("dash")) }))
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/api/report/aging?as_of=2026-01-31", "", http.StatusUnauthorized},
		{"/api/config", "", http.StatusUnauthorized},
		{"/api/report/aging?as_of=2026-01-31", tok, http.StatusOK},
		{"/api/config", tok, http.StatusOK},
		{"/", "", http.StatusOK},
		{"/workspace/", "", http.StatusOK},
		{"/static/app.js", "", http.StatusOK},
	} {
		r := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.token != "" {
			r.Header.Set("Authorization", "Bearer "+c.token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("GET %s (token %t): %d, want %d", c.path, c.token != "", w.Code, c.want)
		}
	}
}
