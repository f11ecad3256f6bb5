package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/arrears/arrears/cmd/arrears/config"
)

// newLogger builds the process logger from the log section.
func newLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// newRegistry is the process's metrics registry with Go and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// check is a named readiness probe.
type check struct {
	name string
	fn   func(ctx context.Context) error
}

// serveOps serves /metrics, /healthz (the process is alive) and /readyz (every
// check passes) until ctx ends. extra handlers (the admin API, the dashboard)
// are mounted on the same server. With http.tls it serves https only, the
// certificate reloaded when its files change; every response carries the
// browser protections of secureHeaders; pprof is mounted by mountPprof.
func serveOps(ctx context.Context, hc config.HTTP, reg *prometheus.Registry, log *slog.Logger, checks []check, extra map[string]http.Handler, opts ...opsOption) error {
	addr := hc.Listen
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	var o opsOptions
	for _, opt := range opts {
		opt(&o)
	}
	tc, err := hc.TLS.Listener(func(err error) {
		if err != nil {
			log.Warn("http.tls: the changed certificate does not load; serving the previous one", "err", err)
			return
		}
		log.Info("http.tls: certificate reloaded", "cert_file", hc.TLS.CertFile)
	})
	if err != nil {
		return fmt.Errorf("http.tls: %w", err)
	}
	if tc == nil && !hc.Loopback() {
		log.Warn("serving plain http on a non-loopback address: set http.tls", "addr", addr)
	}
	mux := http.NewServeMux()
	var metrics http.Handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	if o.metrics != nil {
		metrics = o.metrics(metrics)
	}
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		cctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, c := range checks {
			if err := c.fn(cctx); err != nil {
				http.Error(w, c.name+": "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if err := mountPprof(mux, hc, o, log); err != nil {
		return err
	}
	for path, h := range extra {
		mux.Handle(path, h)
	}
	srv := &http.Server{Addr: addr, Handler: secureHeaders(mux, tc != nil), TLSConfig: tc, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() {
		if tc != nil {
			errc <- srv.ListenAndServeTLS("", "")
			return
		}
		errc <- srv.ListenAndServe()
	}()
	log.Info("serving operations endpoints", "addr", addr, "scheme", hc.Scheme())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
