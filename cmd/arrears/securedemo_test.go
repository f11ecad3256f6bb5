package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/api"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
	"github.com/arrears/arrears/tlsconf"
	"github.com/arrears/arrears/tlsconf/tlstest"
)

// secureStack runs arrears commands as children against the secured Kafka
// (SASL_SSL, ACLs), Redis (TLS only, ACL user) and ClickHouse (TLS only,
// restricted users), each role as its own principal, and keeps every
// output for the secret grep.
type secureStack struct {
	t       *testing.T
	bin     string
	id      string
	dir     string
	common  []string          // every child's variables: topics, groups, TLS, log level
	kafka   map[string]string // Kafka user -> password
	admin   kafkax.Config     // the test's own client (super user), with the topics
	chDB    string
	outputs []string // files holding a child's stdout and stderr
	secrets []string // every password handed to a child
}

// repoRoot is the repository (policies and scorecard are read relative to it).
func repoRoot(t *testing.T) string {
	abs, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func newSecureStack(t *testing.T) *secureStack {
	t.Helper()
	testkit.Integration(t)
	s := &secureStack{t: t, bin: testkit.ArrearsBinary(t), id: "sd" + testkit.ID(), dir: t.TempDir(), kafka: map[string]string{}}
	for _, u := range []string{"admin", "processor", "sink", "serve"} {
		s.kafka[u] = testkit.SecureKafka(t, u).SASL.Password
		s.secrets = append(s.secrets, s.kafka[u])
	}
	s.admin = testkit.SecureKafka(t, "admin")
	s.admin.Topics = kafkax.PrefixedTopics(s.id)
	s.admin.Partitions = 3
	tp := s.admin.Topics
	caFile := filepath.Join(testkit.SecureKafkaDir, "certs", "ca.pem")
	s.common = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"ARREARS_LOG_LEVEL=info", "ARREARS_LOG_FORMAT=json", "ARREARS_HTTP_LISTEN=",
		"ARREARS_KAFKA_BROKERS=" + testkit.SecureKafkaAddr, "ARREARS_KAFKA_PARTITIONS=3",
		"ARREARS_KAFKA_TLS_ENABLED=true", "ARREARS_KAFKA_TLS_CA_FILE=" + caFile,
		"ARREARS_KAFKA_TOPICS_EVENTS=" + tp.Events, "ARREARS_KAFKA_TOPICS_ACTIONS=" + tp.Actions, "ARREARS_KAFKA_TOPICS_RISK=" + tp.Risk,
		"ARREARS_KAFKA_TOPICS_STATUS=" + tp.Status, "ARREARS_KAFKA_TOPICS_GL=" + tp.GL, "ARREARS_KAFKA_TOPICS_DLQ=" + tp.DLQ,
		"ARREARS_KAFKA_TOPICS_ACCEPTED=" + tp.Accepted,
		"ARREARS_PROCESSOR_GROUP_ID=" + s.id, "ARREARS_PROCESSOR_TRANSACTIONAL_ID=" + s.id + "-1", "ARREARS_SINK_GROUP_ID=" + s.id + "-sink",
		"ARREARS_PROCESSOR_TIME=simulated", "ARREARS_PROCESSOR_TICK_INTERVAL=0s"}
	return s
}

// kafkaAs is the Kafka principal of a child: the password from a
// *_FILE (the secured broker's own secret file) or, for sink, from the
// variable itself, so both ways are covered.
func (s *secureStack) kafkaAs(user string) []string {
	env := []string{"ARREARS_KAFKA_SASL_MECHANISM=SCRAM-SHA-512", "ARREARS_KAFKA_SASL_USERNAME=" + user}
	if user == "sink" {
		return append(env, "ARREARS_KAFKA_SASL_PASSWORD="+s.kafka[user])
	}
	return append(env, "ARREARS_KAFKA_SASL_PASSWORD_FILE="+filepath.Join(testkit.SecureKafkaDir, "secrets", user))
}

// clickhouseAs is ClickHouse user (migrate, sink, serve) over TLS on the
// test's database, the password from its file.
func (s *secureStack) clickhouseAs(user string) []string {
	s.secrets = append(s.secrets, testkit.SecurePassword(s.t, "clickhouse", user))
	return []string{"ARREARS_CLICKHOUSE_ADDRS=" + testkit.SecureClickHouseAddr, "ARREARS_CLICKHOUSE_DATABASE=" + s.chDB,
		"ARREARS_CLICKHOUSE_USERNAME=" + user, "ARREARS_CLICKHOUSE_TLS_ENABLED=true",
		"ARREARS_CLICKHOUSE_TLS_CA_FILE=" + testkit.SecureTLS().CAFile,
		"ARREARS_CLICKHOUSE_PASSWORD_FILE=" + filepath.Join(testkit.SecureDir, "clickhouse", user+".password")}
}

// cmd builds a child running arrears args with the common variables and
// env, its output going to a file the grep reads.
func (s *secureStack) cmd(ctx context.Context, name string, env []string, args ...string) (*exec.Cmd, string) {
	c := exec.CommandContext(ctx, s.bin, args...)
	c.Dir = repoRoot(s.t)
	c.Env = append(append([]string{}, s.common...), env...)
	out := filepath.Join(s.dir, name+".log")
	f, err := os.Create(out)
	if err != nil {
		s.t.Fatal(err)
	}
	c.Stdout, c.Stderr = f, f
	s.outputs = append(s.outputs, out)
	return c, out
}

// run runs a one-shot command to its end and returns its output; a
// failure (or a command still running after 3 minutes) fails the test.
func (s *secureStack) run(name string, env []string, args ...string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, out := s.cmd(ctx, name, env, args...)
	err := c.Run()
	b, _ := os.ReadFile(out)
	if err != nil {
		s.t.Fatalf("arrears %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}

// start runs a long-running command until the test ends (SIGTERM, then
// its exit is awaited).
func (s *secureStack) start(name string, env []string, args ...string) {
	s.t.Helper()
	c, out := s.cmd(context.Background(), name, env, args...)
	if err := c.Start(); err != nil {
		s.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	s.t.Cleanup(func() {
		_ = c.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = c.Process.Kill()
			b, _ := os.ReadFile(out)
			s.t.Errorf("arrears %s did not stop within 30 s of SIGTERM:\n%s", name, b)
		}
	})
}

// waitAnswers polls url with c until it answers 200; the test fails with
// the log of the child that should answer after 90 s.
func waitAnswers(t *testing.T, c *http.Client, url, logFile string) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("%s never became ready:\n%s", url, b)
		}
	}
}

// TestSecureDemo runs the demo's steps on the secured stack, each role as
// its own least-privileged principal with every secret set (the Kafka
// SASL passwords of admin, processor, sink and serve, the Redis ACL
// users' (arrears, arrears_serve), the ClickHouse passwords of migrate,
// sink and serve):
// topics and their ACLs as admin, `migrate` as migrate, `run` as
// processor (Redis user arrears over TLS), `sink` as sink (sink.migrate
// off), `serve` over https as serve (Redis user arrears_serve: reads the
// store, writes only the API's keys), `gen`, `wait`, the reports. Then the
// outputs are committed exactly once and all landed, the dashboard
// answers over TLS, and no log line or error output holds a secret, nor an
// account id of the book at Info or above.
func TestSecureDemo(t *testing.T) {
	s := newSecureStack(t)
	t.Cleanup(s.grep) // registered first, so it runs last: after every child stopped
	redisCfg, _ := testkit.SecureRedis(t, false)
	s.secrets = append(s.secrets, redisCfg.Password, testkit.SecurePassword(t, "redis", "arrears_serve"))
	s.chDB = testkit.SecureClickHouse(t).Database
	redis := []string{"ARREARS_REDIS_ADDRS=" + testkit.SecureRedisAddr, "ARREARS_REDIS_USERNAME=arrears",
		"ARREARS_REDIS_PASSWORD_FILE=" + filepath.Join(testkit.SecureDir, "redis", "arrears.password"), "ARREARS_REDIS_PREFIX=" + redisCfg.Prefix,
		"ARREARS_REDIS_TLS_ENABLED=true", "ARREARS_REDIS_TLS_CA_FILE=" + testkit.SecureTLS().CAFile}

	s.run("topics", s.kafkaAs("admin"), "topics", "create")
	t.Cleanup(func() { s.run("topics-delete", s.kafkaAs("admin"), "topics", "delete", "-yes") })
	s.run("acls", s.kafkaAs("admin"), "topics", "acls", "-apply")
	t.Cleanup(s.deleteACLs)
	s.run("migrate", s.clickhouseAs("migrate"), "migrate")

	opsRun, opsSink := freeAddr(t, "127.0.0.1"), freeAddr(t, "127.0.0.1")
	s.start("run", append(append(s.kafkaAs("processor"), redis...), "ARREARS_HTTP_LISTEN="+opsRun), "run")
	s.start("sink", append(append(s.kafkaAs("sink"), s.clickhouseAs("sink")...), "ARREARS_SINK_MIGRATE=false", "ARREARS_HTTP_LISTEN="+opsSink), "sink")
	ca := tlstest.NewCA(t, "serve")
	cert, key := ca.Leaf(t, "serve", "127.0.0.1")
	serveAddr := freeAddr(t, "127.0.0.1")
	tokens := s.apiTokens()
	s.start("serve", append(append(append(s.kafkaAs("serve"), s.clickhouseAs("serve")...), redis...), "ARREARS_HTTP_TLS_CERT_FILE="+cert,
		"ARREARS_HTTP_TLS_KEY_FILE="+key, "ARREARS_HTTP_PPROF=true", "ARREARS_API_TOKENS_FILE="+tokens.file,
		// the audit rows go in as sink: serve's own ClickHouse user may only SELECT
		"ARREARS_API_AUDIT_USERNAME=sink", "ARREARS_API_AUDIT_PASSWORD_FILE="+filepath.Join(testkit.SecureDir, "clickhouse", "sink.password"),
		// and its Redis user is its own: it may not write the processor's keys
		"ARREARS_API_REDIS_USERNAME=arrears_serve", "ARREARS_API_REDIS_PASSWORD_FILE="+filepath.Join(testkit.SecureDir, "redis", "arrears_serve.password")),
		"serve", "-listen", serveAddr)
	plain := &http.Client{Timeout: 5 * time.Second}
	waitAnswers(t, plain, "http://"+opsRun+"/readyz", filepath.Join(s.dir, "run.log"))
	waitAnswers(t, plain, "http://"+opsSink+"/readyz", filepath.Join(s.dir, "sink.log"))

	s.run("gen", s.kafkaAs("admin"), "gen", "--seed", "42", "--accounts", "300", "--months", "2", "--start", "2026-01-01")
	s.run("wait", s.kafkaAs("admin"), "wait", "--group", s.id, "--group", s.id+"-sink", "--timeout", "4m")
	for _, r := range [][]string{{"aging"}, {"actions", "-days", "30"}, {"dso"}, {"cei"}} {
		out := s.run("report-"+r[0], s.clickhouseAs("serve"), append([]string{"report"}, append(r, "-as-of", "2026-02-28", "-format", "csv")...)...)
		if strings.Count(out, "\n") < 2 {
			t.Errorf("report %s as serve: no rows:\n%s", r[0], out)
		}
	}

	s.checkOnce()
	s.checkDashboard(ca.File, serveAddr, tokens)
	// a refused password: the error names the service, not the password
	wrong := "wrong-" + testkit.ID()
	s.secrets = append(s.secrets, wrong)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	refused := s.clickhouseAs("serve")
	refused[len(refused)-1] = "ARREARS_CLICKHOUSE_PASSWORD=" + wrong
	c, out := s.cmd(ctx, "report-refused", refused, "report", "aging", "-as-of", "2026-02-28")
	if err := c.Run(); err == nil {
		t.Error("report with a wrong ClickHouse password exited 0")
	} else if b, _ := os.ReadFile(out); !strings.Contains(string(b), "clickhouse") {
		t.Errorf("the refusal does not name clickhouse:\n%s", b)
	}
}

// deleteACLs removes the grants `topics acls -apply` made for this test.
func (s *secureStack) deleteACLs() {
	cl, err := kgo.NewClient(s.admin.ClientOpts()...)
	if err != nil {
		s.t.Error(err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range kafkax.ACLs(s.admin, kafkax.Roles{Processor: "processor", Sink: "sink", Serve: "serve",
		ProcessorGroup: s.id, SinkGroup: s.id + "-sink", TxnPrefix: s.id + "-"}) {
		_, _ = adm.DeleteACLs(ctx, a.Builder())
	}
}

// checkOnce: every dunning action and GL entry is committed once on Kafka
// (read_committed) and every one landed in ClickHouse, read as serve.
func (s *secureStack) checkOnce() {
	t := s.t
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	count := func(topic string, id func([]byte) (string, error)) map[string]int {
		ids := map[string]int{}
		for _, r := range testkit.ConsumeWith(t, s.admin, topic, 1<<30, 10*time.Second) {
			k, err := id(r.Value)
			if err != nil {
				t.Fatalf("%s: %v", topic, err)
			}
			ids[k]++
		}
		return ids
	}
	actions := count(s.admin.Topics.Actions, func(v []byte) (string, error) { a, err := codec.DecodeAction(ctx, v); return a.ActionID, err })
	gl := count(s.admin.Topics.GL, func(v []byte) (string, error) { e, err := codec.DecodeGL(ctx, v); return e.EntryID, err })
	serve := testkit.SecureClickHouseConfig(t, "serve")
	serve.Database = s.chDB
	conn, err := analytics.Open(ctx, serve)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		what, table, col string
		ids              map[string]int
	}{{"dunning actions", "dunning_actions", "action_id", actions}, {"GL entries", "gl_entries", "entry_id", gl}} {
		if len(c.ids) == 0 {
			t.Fatalf("the book produced no %s: the check would prove nothing", c.what)
		}
		for id, n := range c.ids {
			if n != 1 {
				t.Errorf("%s %s committed %d times", c.what, id, n)
			}
		}
		var landed uint64
		if err := conn.QueryRow(ctx, "SELECT uniqExact("+c.col+") FROM "+conn.Table(c.table)).Scan(&landed); err != nil {
			t.Fatal(err)
		}
		if int(landed) != len(c.ids) {
			t.Errorf("%s: %d on Kafka, %d distinct in ClickHouse", c.what, len(c.ids), landed)
		}
	}
}

// apiTokenSet is a tokens file of the operator API and the tokens in it.
type apiTokenSet struct {
	file          string
	admin, viewer string
}

// apiTokens writes a tokens file with an admin and a viewer token (each a
// secret the grep looks for).
func (s *secureStack) apiTokens() apiTokenSet {
	ts := apiTokenSet{file: filepath.Join(s.dir, "tokens.yaml")}
	var lines []string
	for _, tk := range []struct {
		name string
		role api.Role
		tok  *string
	}{{"ops-admin", api.RoleAdmin, &ts.admin}, {"ops-viewer", api.RoleViewer, &ts.viewer}} {
		tok, e, err := api.NewToken(tk.name, tk.role, nil)
		if err != nil {
			s.t.Fatal(err)
		}
		*tk.tok = tok
		s.secrets = append(s.secrets, tok)
		lines = append(lines, e.Line())
	}
	if err := os.WriteFile(ts.file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return ts
}

// checkDashboard: serve answers over https (a client trusting the CA) with
// the safe headers; its report API returns the landed data; the operator
// API reads an account with a viewer token (its state from the secured
// Redis); pprof answers the admin token only.
func (s *secureStack) checkDashboard(caFile, addr string, tokens apiTokenSet) {
	t := s.t
	tc, err := tlsconf.Config{Enabled: true, CAFile: caFile}.Client()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	waitAnswers(t, c, "https://"+addr+"/readyz", filepath.Join(s.dir, "serve.log"))
	resp, _ := get(t, c, "https://"+addr+"/")
	checkHeaders(t, resp, true)
	if resp, _ := get(t, c, "https://"+addr+"/api/report/aging?as_of=2026-02-28"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/report/aging without a token: %d, want 401 (the dashboard's data needs a token)", resp.StatusCode)
	}
	resp, body := get(t, c, "https://"+addr+"/api/report/aging?as_of=2026-02-28", "Authorization", "Bearer "+tokens.viewer)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"rows":[[`) {
		t.Errorf("GET /api/report/aging over https: %d %.200s", resp.StatusCode, body)
	}
	base := "https://" + addr
	if resp, body := get(t, c, base+api.Prefix+"/accounts/ACC-0000001", "Authorization", "Bearer "+tokens.viewer); resp.StatusCode != http.StatusOK {
		t.Errorf("GET an account with the viewer token: %d %.300s", resp.StatusCode, body)
	}
	// a write: one event to ar.events as User:serve, its idempotency key in
	// Redis as user arrears_serve, its audit row in ClickHouse
	req, err := http.NewRequest(http.MethodPost, base+api.Prefix+"/accounts/ACC-0000001/notes?wait=10s", strings.NewReader(`{"text":"called back, promised to pay"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokens.admin)
	req.Header.Set("Idempotency-Key", "secure-demo-"+s.id)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := c.Do(req); err != nil {
		t.Errorf("POST a note: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
			t.Errorf("POST a note with the admin token: %d %.300s", resp.StatusCode, b)
		}
	}
	t.Run("audit", func(t *testing.T) { s.checkAudit(t, "ops-admin") })
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {tokens.viewer, http.StatusForbidden}, {tokens.admin, http.StatusOK}} {
		if resp, _ := get(t, c, base+"/debug/pprof/", "Authorization", "Bearer "+tc.token); resp.StatusCode != tc.want {
			t.Errorf("GET /debug/pprof/ (token %v): %d, want %d", tc.token != "", resp.StatusCode, tc.want)
		}
	}
}

// checkAudit: the operator API's write left its audit row (actor, no
// request text) in ClickHouse within 30 s.
func (s *secureStack) checkAudit(t *testing.T, actor string) {
	cfg := testkit.SecureClickHouseConfig(t, "serve")
	cfg.Database = s.chDB
	ctx := context.Background()
	conn, err := analytics.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+conn.Table("audit")+" WHERE actor = ?", actor).Scan(&n); err == nil && n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("no audit row of %s's write in ClickHouse after 30 s (serve's user may only SELECT)", actor)
			return
		}
	}
}

// accountID is the generator's account id (processor/workload).
var accountID = regexp.MustCompile(`ACC-\d{7}`)

// grep reads every child's output: no secret anywhere, at any level; no
// account id in a log line at Info or above, nor in a line that is not a
// log record (an error printed at exit). Reports' stdout (the tables
// asked for) is left out of the account id rule: it is output, not a log.
func (s *secureStack) grep() {
	t := s.t
	lines, ids := 0, 0
	for _, f := range s.outputs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".log")
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			lines++
			for _, secret := range s.secrets {
				if secret != "" && strings.Contains(line, secret) {
					t.Errorf("%s: a secret in the output: %.300s", name, line)
				}
			}
			var rec struct {
				Level string `json:"level"`
			}
			isLog := json.Unmarshal([]byte(line), &rec) == nil && rec.Level != ""
			if !accountID.MatchString(line) || (!isLog && strings.HasPrefix(name, "report")) || (isLog && rec.Level == "DEBUG") {
				continue
			}
			ids++
			t.Errorf("%s: an account id at level %q (empty: not a log record): %.300s", name, rec.Level, line)
		}
	}
	if lines == 0 {
		t.Fatal("no output to grep: the check would prove nothing")
	}
	if t.Failed() {
		for _, name := range []string{"run", "sink", "serve"} {
			b, _ := os.ReadFile(filepath.Join(s.dir, name+".log"))
			t.Logf("arrears %s:\n%s", name, b)
		}
	}
	t.Logf("grepped %d lines of %d outputs for %d secrets and the book's account ids (%d hits)", lines, len(s.outputs), len(s.secrets), ids)
}
