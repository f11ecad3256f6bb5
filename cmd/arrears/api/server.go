package api

import (
	"context"
	"crypto/rand"
	_ "embed" // openapi.yaml
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// Prefix is where `arrears serve` mounts the API.
const Prefix = "/api/v1"

// Publisher produces one event to ar.events keyed by its account and
// returns where it landed (the offset ?wait waits for).
type Publisher interface {
	Publish(ctx context.Context, ev event.Event) (partition int32, offset int64, err error)
}

// Loaded is an account's state as the processor last stored it.
type Loaded struct {
	State core.State
	// Partition is the input partition that owns the account; Applied is
	// the last ar.events offset that partition has applied (-1: none).
	Partition int32
	Applied   int64
	// Clock is the partition clock (the processor's "now").
	Clock time.Time
}

// StateReader reads account state from the processor's store (Redis).
type StateReader interface {
	// Account loads an account; ErrUnknownAccount when the store has none.
	Account(ctx context.Context, id string) (Loaded, error)
	// Applied is the last ar.events offset partition p has applied (-1:
	// none yet).
	Applied(ctx context.Context, p int32) (int64, error)
}

// Deps are the Server's connections. History and Redis may be nil in unit
// tests of routes that do not use them.
type Deps struct {
	Publisher Publisher
	State     StateReader
	// History is ClickHouse: the audit table and the timeline.
	History *analytics.Conn
	// Audit inserts the audit rows (nil: History), for a serve user that
	// may only SELECT (api.audit_username).
	Audit *analytics.Conn
	// Redis keeps the API's own keys (idempotency, approvals) under
	// Config.KeyPrefix.
	Redis redis.UniversalClient
	// Env is the core's environment (explanations in the account view);
	// Server.SetEnv replaces it, for policy versions published later.
	Env *core.Env
	// Groups reads the collections group store for the account view's
	// group context (nil: processor.groups off, the view's group is null).
	Groups GroupReader
	// Registerer takes the API's metrics (nil: not registered).
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// Now is the wall clock (nil: time.Now).
	Now func() time.Time
	// SimulatedTime: the processor runs on simulated time
	// (processor.time: simulated), so events are stamped with the
	// account's partition clock rather than the wall clock (writes.go,
	// accountNow).
	SimulatedTime bool
}

// Server is the /api/v1 handler and what it needs.
type Server struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	tokens  *tokenFile
	limits  *limiter
	openapi []byte // the document as JSON
	mux     *http.ServeMux
	metrics *metrics
	env     atomic.Pointer[core.Env] // Deps.Env, then what SetEnv gave
}

// SetEnv makes the account view and the write limits use env from now
// on (`arrears serve` after a new policy version was published); safe
// while requests are served.
func (s *Server) SetEnv(env *core.Env) { s.env.Store(env) }

// currentEnv is the environment requests use (nil: none).
func (s *Server) currentEnv() *core.Env { return s.env.Load() }

// route is one entry of the route table: a ServeMux pattern without the
// Prefix ("POST /accounts/{id}/promises"), the lowest role allowed, whether
// it is a write (audited, Idempotency-Key required) and its handler.
type route struct {
	pattern string
	min     Role
	write   bool
	h       http.HandlerFunc
}

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI is the embedded OpenAPI 3.1 document (YAML).
func OpenAPI() []byte { return openapiYAML }

// New builds the server: it loads the tokens file and the OpenAPI document.
func New(cfg Config, deps Deps) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "arrears:api"
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Log, limits: newLimiter(cfg.RatePerSecond, cfg.RateBurst), metrics: newMetrics(deps.Registerer)}
	s.env.Store(deps.Env)
	if cfg.TokensFile == "" {
		return nil, fmt.Errorf("%w: api.tokens_file: required to serve /api/v1", ErrConfig)
	}
	var err error
	if s.tokens, err = newTokenFile(cfg.TokensFile, func(err error) {
		s.log.Error("api.tokens_file changed but does not load: keeping the previous tokens", "err", err)
	}); err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if s.openapi, err = json.Marshal(doc); err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(method(rt.pattern)+" "+Prefix+path(rt.pattern), s.chain(rt))
	}
	return s, nil
}

// routes is the route table: the API's own routes, the writes
// (writes.go) and the reads (reads.go, worklist.go).
func (s *Server) routes() []route {
	rs := []route{
		{"GET /openapi.json", RoleViewer, false, s.serveOpenAPI},
		{"GET /me", RoleViewer, false, s.me},
		{"GET /accounts/{id}/audit", RoleViewer, false, s.listAudit},
		{"GET /approvals", RoleSupervisor, false, s.listApprovals},
	}
	rs = append(rs, s.writeRoutes()...)
	return append(rs, s.readRoutes()...)
}

var patternRE = regexp.MustCompile(`^(GET|POST|PUT|DELETE|PATCH) (/\S*)$`)

func method(p string) string { return patternRE.FindStringSubmatch(p)[1] }
func path(p string) string   { return patternRE.FindStringSubmatch(p)[2] }

// chain wraps a route's handler in the per-route middleware: metrics,
// auth, rate limit, audit (writes: a denied, invalid or oversize write is
// audited too; an unauthenticated or rate-limited one is not), role check,
// body limit. The request id and the problem answers for
// unknown paths and methods wrap the whole mux (Handler).
func (s *Server) chain(rt route) http.Handler {
	var h http.Handler = rt.h
	h = s.limitBody(require(rt.min, h))
	if rt.write {
		h = s.audited(rt, h)
	}
	h = s.rateLimit(h)
	h = s.authenticate(h)
	return s.metrics.instrument(rt.pattern, h)
}

// Handler is the API: mount it at Prefix+"/" (`arrears serve` does).
func (s *Server) Handler() http.Handler {
	return s.withRequestID(s.recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pat := s.mux.Handler(r); pat == "" {
			s.unmatched(w, r)
			return
		}
		s.mux.ServeHTTP(w, r)
	})))
}

// unmatched answers a path or method the table lacks: 401 without a valid
// token (nothing answers anonymously), else the mux's 404 or 405 as a
// problem.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.mux.ServeHTTP(rec, r)
		if allow := rec.Header().Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if rec.Code == http.StatusMethodNotAllowed {
			writeProblem(w, r, rec.Code, "Method not allowed", r.Method+" is not allowed here")
			return
		}
		writeProblem(w, r, http.StatusNotFound, "Not found", "no such route")
	})).ServeHTTP(w, r)
}

// recoverer turns a panic into a 500 problem instead of a dropped
// connection; the panic is logged without request data.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api handler panicked", "route", r.Pattern, "panic", fmt.Sprint(v))
				writeProblem(w, r, http.StatusInternalServerError, "Internal error", "")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// withRequestID takes the caller's X-Request-Id when it is a plain token
// of at most 64 characters, or makes one, and echoes it.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDRE.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// limitBody answers 413 for a declared length over the limit and caps the
// body that is read (the decoder reports an over-long chunked body).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, "Request body too large",
				"the limit is "+strconv.FormatInt(s.cfg.MaxBodyBytes, 10)+" bytes")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// MetricsHandler is h (the /metrics handler) as api.metrics_public says:
// open, or behind a token of any role.
func (s *Server) MetricsHandler(h http.Handler) http.Handler {
	if s.cfg.MetricsPublic {
		return h
	}
	return s.RequireRole(RoleViewer, h)
}

func (s *Server) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, principalOf(r))
}
