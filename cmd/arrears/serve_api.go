package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// operatorAPI builds the /api/v1 server of `arrears serve` (api.tokens_file
// set): a Kafka producer for ar.events, Redis for account state and the
// API's own keys, ClickHouse for the audit table and history. close
// releases the connections.
func operatorAPI(ctx context.Context, cfg config.Config, conn *analytics.Conn, reg prometheus.Registerer, log *slog.Logger) (*api.Server, []check, func(), error) {
	codec, err := schemas.New(cfg.Codec)
	if err != nil {
		return nil, nil, nil, err
	}
	env, err := loadEnv(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	// the published versions, followed as `arrears run` follows them, so
	// the account view explains as the processor decides
	feed, err := processor.NewPolicyFeed(cfg.Kafka, env.Policies, schemas.DecodePolicy, log)
	if err != nil {
		return nil, nil, nil, err
	}
	if _, err := feed.Sync(ctx); err != nil {
		feed.Close()
		return nil, nil, nil, fmt.Errorf("policy versions (%s): %w", cfg.Kafka.Topics.Policies, err)
	}
	env.Versions = feed.Timeline()
	rcfg, connect, store := cfg.Redis, redisstore.Connect, func(s *redisstore.Store) *redisstore.Store { return s }
	if cfg.API.RedisUsername != "" { // serve's own user: reads the store, writes the API's keys only
		rcfg.Username, rcfg.Password = cfg.API.RedisUsername, cfg.API.RedisPassword
		connect, store = redisstore.ConnectReadOnly, (*redisstore.Store).ReadOnly
	}
	rdb, err := connect(ctx, rcfg)
	if err != nil {
		feed.Close()
		return nil, nil, nil, err
	}
	st, err := api.NewRedisState(ctx, cfg.Kafka, store(redisstore.New(rdb, cfg.Redis.Prefix)))
	if err != nil {
		_ = rdb.Close()
		feed.Close()
		return nil, nil, nil, err
	}
	var groups api.GroupReader // the account view's group context (null when groups are off)
	if cfg.Processor.Groups.Enabled {
		g, err := api.NewRedisGroups(ctx, cfg.Kafka, store(redisstore.New(rdb, processor.GroupStorePrefix(cfg.Redis.Prefix))))
		if err != nil {
			_ = rdb.Close()
			feed.Close()
			return nil, nil, nil, fmt.Errorf("group store: %w", err)
		}
		groups = g
	}
	pub, err := api.NewKafkaPublisher(cfg.Kafka, codec)
	if err != nil {
		_ = rdb.Close()
		feed.Close()
		return nil, nil, nil, err
	}
	ac := cfg.API
	if ac.KeyPrefix == "" {
		ac.KeyPrefix = cfg.Redis.Prefix + ":api"
	}
	closeAll := func() { pub.Close(); _ = rdb.Close(); feed.Close() }
	var audit *analytics.Conn
	if ac.AuditUsername != "" { // serve's own user may only SELECT: the audit rows go in as this one
		acfg := cfg.ClickHouse
		acfg.Username, acfg.Password = ac.AuditUsername, ac.AuditPassword
		if audit, err = analytics.Open(ctx, acfg); err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("api.audit_username: %w", err)
		}
		closeAll = func() { pub.Close(); _ = rdb.Close(); feed.Close(); _ = audit.Close() }
	}
	srv, err := api.New(ac, api.Deps{Publisher: pub, State: st, History: conn, Audit: audit, Redis: rdb, Env: env, Groups: groups,
		Registerer: reg, Log: log, SimulatedTime: cfg.Processor.Time == processor.TimeSimulated})
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	follow, stopFollow := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		followVersions(follow, feed, env, srv.SetEnv, cfg.Processor.PolicyRefresh, log)
	}()
	checks := []check{{"redis", func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}}
	return srv, checks, func() { stopFollow(); <-done; closeAll() }, nil
}

// followVersions syncs feed every refresh (processor.policy_refresh, as
// the processor does) until ctx ends and, when the versions changed, gives
// set (Server.SetEnv) a copy of base with the new ones. A failed sync keeps
// the versions known and is retried. The feed is this goroutine's alone.
func followVersions(ctx context.Context, feed *processor.PolicyFeed, base *core.Env, set func(*core.Env), refresh time.Duration, log *slog.Logger) {
	if refresh <= 0 {
		refresh = time.Second
	}
	t := time.NewTicker(refresh)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := feed.Sync(ctx)
		if err != nil {
			if ctx.Err() == nil && !failing {
				log.Warn("policy versions: sync failed, keeping the versions known", "err", err)
			}
			failing = true
			continue
		}
		failing = false
		if changed {
			env := *base
			env.Versions = feed.Timeline()
			set(&env)
			log.Info("policy versions updated", "versions", env.Versions.Len())
		}
	}
}

// dashboardGuard puts the dashboard's data (its report API, /api/report/
// and /api/config) behind a token of any role, as every /api/v1 route is;
// its pages and scripts, which hold no data, stay open so that a browser
// can load the sign-in.
func dashboardGuard(srv *api.Server, dash http.Handler) http.Handler {
	guarded := srv.RequireRole(api.RoleViewer, dash)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			guarded.ServeHTTP(w, r)
			return
		}
		dash.ServeHTTP(w, r)
	})
}

// withOperatorAPI mounts the API at /api/v1/ and lets it guard pprof
// (admin) and, with api.metrics_public false, /metrics (any role).
func withOperatorAPI(srv *api.Server, extra map[string]http.Handler, cfg config.Config) []opsOption {
	extra[api.Prefix+"/"] = srv.Handler()
	extra["/"] = dashboardGuard(srv, extra["/"])
	fmt.Printf("operator API: %s://%s%s/ (OpenAPI at %s/openapi.json)\n", cfg.HTTP.Scheme(), cfg.HTTP.Listen, api.Prefix, api.Prefix)
	return []opsOption{
		withAdmin(func(h http.Handler) http.Handler { return srv.RequireRole(api.RoleAdmin, h) }),
		func(o *opsOptions) { o.metrics = srv.MetricsHandler },
	}
}
