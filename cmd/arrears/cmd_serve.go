package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/dashboard"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdServe: `arrears serve [-listen ADDR]` serves the collections dashboard
// at / (live from ClickHouse) with /metrics, /healthz and /readyz, and with
// api.tokens_file the operator API at /api/v1/ (serve_api.go).
func cmdServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "", "dashboard address (default: http.listen, 127.0.0.1:9464)")
	cfg, err := config.Load(fs, args)
	if err != nil {
		return err
	}
	if *listen != "" {
		cfg.HTTP.Listen = *listen
	}
	log := newLogger(cfg.Log)
	reg := newRegistry()
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	src := dashboard.SourceFunc(func(ctx context.Context, name string, o analytics.ReportOptions) (*analytics.Table, error) {
		return analytics.Report(ctx, conn, name, o)
	})
	h := dashboard.Handler(src, dashboard.Options{AsOf: func(ctx context.Context) time.Time { return latestEvent(ctx, conn) }})
	fmt.Printf("dashboard: %s://%s/\n", cfg.HTTP.Scheme(), cfg.HTTP.Listen)
	checks := []check{{"clickhouse", func(ctx context.Context) error { return conn.Ping(ctx) }}}
	extra := map[string]http.Handler{"/": h}
	var opts []opsOption
	if cfg.API.TokensFile != "" { // the operator API (cmd/arrears/api), serve_api.go
		srv, more, closeAPI, err := operatorAPI(ctx, cfg, conn, reg, log)
		if err != nil {
			return err
		}
		defer closeAPI()
		checks, opts = append(checks, more...), withOperatorAPI(srv, extra, cfg)
	}
	return serveOps(ctx, cfg.HTTP, reg, log, checks, extra, opts...)
}

// latestEvent is the newest event time landed in ClickHouse: "now" for a
// simulated book, today for a live one. Zero when there is none.
func latestEvent(ctx context.Context, conn *analytics.Conn) time.Time {
	var t time.Time
	row := conn.QueryRow(ctx, "SELECT max(event_time) FROM "+conn.Table("events"))
	if err := row.Scan(&t); err != nil || t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}
