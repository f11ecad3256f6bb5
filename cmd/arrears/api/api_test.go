package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/sinks/redisstore"
)

// The integration tests run the API on the real stack: private topics on
// the local Kafka, a Redis key prefix and a ClickHouse database of their
// own, and a real processor applying what the API produces, so ?wait and
// the account's state are the real ones. Every request and response goes
// through kin-openapi's openapi3filter against the document the server
// serves at /api/v1/openapi.json (an independent validator, not our code).

func init() {
	openapi3filter.RegisterBodyDecoder("application/problem+json", openapi3filter.JSONBodyDecoder)
}

var roles = []string{"viewer", "collector", "supervisor", "admin"}

// apiStack is one API server on the real stack.
type apiStack struct {
	t      *testing.T
	kcfg   kafkax.Config
	rdb    redis.UniversalClient
	prefix string
	ch     *analytics.Conn
	codec  *schemas.Codec
	srv    *Server
	ts     *httptest.Server
	tokens map[string]string // role (or token name) -> token
	doc    *openapi3.T
	router routers.Router

	mu   *sync.Mutex
	seen map[string]bool // "METHOD /path" of the document answered 2xx
}

// newAPIStack starts the processor and the API; tune adjusts the API
// config (limits).
func newAPIStack(t *testing.T, tune func(*Config)) *apiStack {
	t.Helper()
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	st := &apiStack{t: t, kcfg: testkit.KafkaConfig(t, 2), tokens: map[string]string{}, seen: map[string]bool{}, mu: &sync.Mutex{}}
	st.rdb, st.prefix = testkit.Redis(t)
	st.ch, _ = testkit.ClickHouse(t, "api")
	var err error
	if st.codec, err = schemas.New(schemas.Config{}); err != nil {
		t.Fatal(err)
	}
	env := testkit.DeployEnv(t, "../../..")
	st.startProcessor(env)

	var lines []string
	for _, r := range roles {
		role, _ := ParseRole(r)
		tok, e, err := NewToken("t-"+r, role, []string{"q-" + r})
		if err != nil {
			t.Fatal(err)
		}
		st.tokens[r] = tok
		lines = append(lines, e.Line())
	}
	tf := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(tf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.TokensFile, cfg.KeyPrefix, cfg.RatePerSecond, cfg.RateBurst = tf, st.prefix+":api", 1000, 1000
	if tune != nil {
		tune(&cfg)
	}
	pub, err := NewKafkaPublisher(st.kcfg, st.codec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	ctx := context.Background()
	state, err := NewRedisState(ctx, st.kcfg, redisstore.New(st.rdb, st.prefix))
	if err != nil {
		t.Fatal(err)
	}
	viewEnv := *env
	viewEnv.SkipExplanations = false
	groups, err := NewRedisGroups(ctx, st.kcfg, redisstore.New(st.rdb, processor.GroupStorePrefix(st.prefix)))
	if err != nil {
		t.Fatal(err)
	}
	st.srv, err = New(cfg, Deps{Publisher: pub, State: state, History: st.ch, Redis: st.rdb, Env: &viewEnv, Groups: groups,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix+"/", st.srv.Handler())
	st.ts = httptest.NewServer(mux)
	t.Cleanup(st.ts.Close)
	st.loadDocument()
	return st
}

// with is the stack for a subtest: its helpers fail t.
func (st *apiStack) with(t *testing.T) *apiStack {
	c := *st
	c.t = t
	return &c
}

// startProcessor runs a processor on the stack's topics and Redis prefix.
func (st *apiStack) startProcessor(env any) {
	t := st.t
	cfg := processor.Defaults()
	cfg.GroupID = "g" + testkit.ID()
	cfg.TransactionalID = cfg.GroupID + "-p"
	cfg.SessionTimeout = 6 * time.Second
	cfg.Time = processor.TimeSimulated
	p, err := processor.New(cfg, st.kcfg, redisstore.New(st.rdb, st.prefix), st.codec, testkit.DeployEnv(t, "../../.."),
		processor.NewMetrics(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("processor: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// loadDocument reads the served document and builds kin-openapi's router
// on it, with the test server as the server.
func (st *apiStack) loadDocument() {
	t := st.t
	res := st.raw("viewer", http.MethodGet, "/openapi.json", nil, nil)
	if res.code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", res.code, res.body)
	}
	doc, err := openapi3.NewLoader().LoadFromData(res.body)
	if err != nil {
		t.Fatalf("load the served OpenAPI document: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served OpenAPI document is not valid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: st.ts.URL + Prefix}}
	if st.router, err = gorillamux.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	st.doc = doc
}

// result is one answer.
type result struct {
	code int
	hdr  http.Header
	body []byte
}

func (r result) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem decodes a problem answer and checks its media type.
func (r result) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.hdr.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q, want application/problem+json: %s", r.code, ct, r.body)
	}
	var p Problem
	r.json(t, &p)
	if p.Status != r.code || p.Title == "" || p.Type == "" {
		t.Fatalf("problem %+v does not match status %d", p, r.code)
	}
	return p
}

// hasField reports whether a problem names field.
func (p Problem) hasField(field string) bool {
	for _, f := range p.Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}

// req is one request's options.
type req struct {
	key     string      // Idempotency-Key; "" makes a new one, "-" sends none
	invalid bool        // the request is meant to break the document: validate only the response
	headers http.Header // more headers
}

// raw sends one request as role (a role name, a token name or "" for no
// token) and returns the answer, without validation.
func (st *apiStack) raw(role, method, path string, body any, o *req) result {
	st.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	r, err := http.NewRequest(method, st.ts.URL+Prefix+path, rd)
	if err != nil {
		st.t.Fatal(err)
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if tok := st.tokens[role]; tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	if o == nil {
		o = &req{}
	}
	if method != http.MethodGet {
		switch o.key {
		case "":
			r.Header.Set("Idempotency-Key", "k-"+testkit.ID()+testkit.ID())
		case "-":
		default:
			r.Header.Set("Idempotency-Key", o.key)
		}
	}
	for k, vs := range o.headers {
		r.Header[k] = vs
	}
	resp, err := st.ts.Client().Do(r)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, hdr: resp.Header, body: b}
}

// call is raw with the request (unless o.invalid) and the response
// validated against the document by openapi3filter; a 500 fails the test.
func (st *apiStack) call(role, method, path string, body any, o *req) result {
	st.t.Helper()
	if o == nil {
		o = &req{}
	}
	if o.key == "" && method != http.MethodGet {
		o.key = "k-" + testkit.ID() + testkit.ID()
	}
	res := st.raw(role, method, path, body, o)
	if res.code >= 500 && res.code != http.StatusServiceUnavailable {
		st.t.Fatalf("%s %s: %d %s", method, path, res.code, res.body)
	}
	// Rebuild the request for the validator (the sent one's body is read).
	var rd io.Reader
	var bb []byte
	switch b := body.(type) {
	case nil:
	case string:
		bb = []byte(b)
	default:
		bb, _ = json.Marshal(b)
	}
	if body != nil {
		rd = bytes.NewReader(bb)
	}
	hr, _ := http.NewRequest(method, st.ts.URL+Prefix+path, rd)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Authorization", "Bearer x")
	if method != http.MethodGet && o.key != "-" {
		hr.Header.Set("Idempotency-Key", o.key)
	}
	for k, vs := range o.headers {
		hr.Header[k] = vs
	}
	route, params, err := st.router.FindRoute(hr)
	if err != nil {
		st.t.Fatalf("%s %s is not in the OpenAPI document: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: hr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	ctx := context.Background()
	if !o.invalid {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			st.t.Fatalf("%s %s: the request does not match the document: %v", method, path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.code, Header: res.hdr,
		Options: in.Options}
	out.SetBodyBytes(res.body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		st.t.Fatalf("%s %s: the %d response does not match the document: %v\n%s", method, path, res.code, err, res.body)
	}
	if res.code < 300 && !o.invalid {
		st.mu.Lock()
		st.seen[route.Method+" "+route.Path] = true
		st.mu.Unlock()
	}
	return res
}

// account seeds an account on the stack: master data in EUR and one
// invoice of 100.00, due daysOverdue days ago (negative: not yet due), and
// waits until the processor stored it.
func (st *apiStack) account(daysOverdue int) string {
	st.t.Helper()
	id := "acc-" + testkit.ID()
	now := time.Now().UTC()
	due := event.DateOf(now) - event.Date(daysOverdue)
	t0 := due.Time().Add(-20 * 24 * time.Hour)
	st.produce(
		event.Event{ID: id + "-up", Time: t0, Source: "test", Account: id, Body: &event.AccountUpserted{
			Segment: event.Postpaid, Currency: "EUR", Consents: []event.Channel{event.Email}}},
		event.Event{ID: id + "-inv", Time: t0.Add(time.Hour), Source: "test", Account: id, Body: &event.InvoiceIssued{
			InvoiceID: "INV-" + id, Currency: "EUR", Amount: event.MustAmount("100"), IssueDate: event.DateOf(t0), DueDate: due}},
	)
	st.waitState(id, func(l Loaded) bool { _, ok := l.State.Ledger.Item("INV-" + id); return ok })
	return id
}

// produce writes events to the stack's events topic.
func (st *apiStack) produce(evs ...event.Event) {
	st.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(st.kcfg.Brokers...), kgo.RecordPartitioner(kafkax.KeyOrExplicit()))
	if err != nil {
		st.t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	for _, ev := range evs {
		v, err := st.codec.EncodeEvent(ctx, st.kcfg.Topics.Events, ev)
		if err != nil {
			st.t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: st.kcfg.Topics.Events, Key: []byte(ev.Account), Value: v}).FirstErr(); err != nil {
			st.t.Fatal(err)
		}
	}
}

// waitState waits until the account's stored state satisfies ok.
func (st *apiStack) waitState(id string, ok func(Loaded) bool) Loaded {
	st.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		l, err := st.srv.deps.State.Account(context.Background(), id)
		if err == nil && ok(l) {
			return l
		}
		if time.Now().After(deadline) {
			st.t.Fatalf("account %s: state not as expected after 60s (err %v)", id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// events reads every record of the events topic and returns those of the
// account, decoded.
func (st *apiStack) events(account string) []event.Event {
	st.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(st.kcfg.Brokers...))
	if err != nil {
		st.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, st.kcfg.Topics.Events)
	if err != nil {
		st.t.Fatal(err)
	}
	offs := map[int32]kgo.Offset{}
	left := int64(0)
	ends.Each(func(o kadm.ListedOffset) {
		offs[o.Partition] = kgo.NewOffset().AtStart()
		left += o.Offset
	})
	cl2, err := kgo.NewClient(kgo.SeedBrokers(st.kcfg.Brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{st.kcfg.Topics.Events: offs}))
	if err != nil {
		st.t.Fatal(err)
	}
	defer cl2.Close()
	var out []event.Event
	for left > 0 {
		fs := cl2.PollFetches(ctx)
		if ctx.Err() != nil {
			st.t.Fatalf("reading %s: %d records left", st.kcfg.Topics.Events, left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			left--
			if string(r.Key) != account {
				return
			}
			ev, err := st.codec.DecodeEvent(ctx, r.Value)
			if err != nil {
				st.t.Fatalf("decode %s@%d: %v", r.Topic, r.Offset, err)
			}
			out = append(out, ev)
		})
	}
	return out
}
