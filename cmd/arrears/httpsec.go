package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/arrears/arrears/cmd/arrears/config"
)

// contentSecurityPolicy allows the dashboard's own scripts, styles and API
// only: no inline or foreign script, no eval, no framing, no plugins. Inline
// styles stay allowed (the dashboard's <style> block and Chart.js's canvas
// sizing).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders sets the browser protections on every response of the ops
// server (dashboard, operator API, metrics): the policy above, no MIME
// sniffing, no framing (X-Frame-Options for browsers without
// frame-ancestors), no referrer leaving the page and, under TLS, HSTS.
func secureHeaders(h http.Handler, tls bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if tls {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// opsOptions is what a command adds to its ops server besides the http
// section.
type opsOptions struct {
	// admin guards the admin-only endpoints (/debug/pprof/) with the
	// operator API's admin role (api.Server.RequireRole); nil: no
	// authentication configured.
	admin func(http.Handler) http.Handler
	// metrics wraps /metrics (the operator API's api.metrics_public
	// guard); nil: served as is.
	metrics func(http.Handler) http.Handler
}

// opsOption sets an opsOptions field.
type opsOption func(*opsOptions)

// withAdmin guards /debug/pprof/ by guard (a bearer token of role admin).
func withAdmin(guard func(http.Handler) http.Handler) opsOption {
	return func(o *opsOptions) { o.admin = guard }
}

// errPprofUnguarded: http.pprof on an address other machines reach, with
// no authentication in front of it.
var errPprofUnguarded = errors.New("http.pprof: refused without authentication on a non-loopback address")

// mountPprof serves Go's profiler under /debug/pprof/ when http.pprof is
// on: behind the admin guard when there is one, else only on a loopback
// address (profiles show memory contents: account ids, amounts).
func mountPprof(mux *http.ServeMux, hc config.HTTP, o opsOptions, log *slog.Logger) error {
	if !hc.Pprof {
		return nil
	}
	guard := o.admin
	if guard == nil {
		if !hc.Loopback() {
			return fmt.Errorf("%w: %s (listen on 127.0.0.1, or run serve with the operator API's tokens, which guard it with the admin role)", errPprofUnguarded, hc.Listen)
		}
		guard = func(h http.Handler) http.Handler { return h }
		log.Info("pprof served without authentication on a loopback address", "addr", hc.Listen)
	}
	for path, h := range map[string]http.HandlerFunc{"/debug/pprof/": pprof.Index, "/debug/pprof/cmdline": pprof.Cmdline,
		"/debug/pprof/profile": pprof.Profile, "/debug/pprof/symbol": pprof.Symbol, "/debug/pprof/trace": pprof.Trace} {
		mux.Handle(path, guard(h))
	}
	return nil
}
