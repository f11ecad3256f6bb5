package faults

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// repoDir is the module root as seen from this package's tests.
const repoDir = "../.."

// Binary is the arrears binary the suite runs: ARREARS_FAULTS_BIN (built
// elsewhere, e.g. from another commit) if set, else this tree's, built once.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("ARREARS_FAULTS_BIN"); bin != "" {
		return bin
	}
	return testkit.ArrearsBinary(t)
}

// FreePort returns a TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(testkit.FreeAddr(t, "127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Stack is one test's private corner of the stack: its topics (on the shared
// broker or a private one), Redis prefix, consumer group and codec.
type Stack struct {
	t      testing.TB
	Bin    string
	Kafka  kafkax.Config // as the test's own clients reach the broker
	Redis  redis.UniversalClient
	Prefix string
	Group  string
	Codec  *schemas.Codec
	dir    string // child logs
}

// NewStack creates the test's topics on brokers (partitions each) and a
// unique Redis prefix on the shared Redis; both are removed at the end.
func NewStack(t testing.TB, brokers []string, partitions int) *Stack {
	t.Helper()
	testkit.Integration(t, "redis")
	id := testkit.ID()
	// Child logs outlive the test: a failure's evidence.
	dir, err := os.MkdirTemp("", "arrears-faults-"+strings.ReplaceAll(t.Name(), "/", "_")+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("child logs in %s", dir)
	s := &Stack{t: t, Bin: Binary(t), Group: "f" + id, dir: dir}
	s.Kafka = kafkax.Defaults()
	s.Kafka.Brokers = brokers
	s.Kafka.Partitions = partitions
	s.Kafka.Topics = kafkax.PrefixedTopics("f" + id)
	s.createTopics(s.Kafka)
	s.Redis, s.Prefix = testkit.Redis(t)
	s.Codec, err = schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withOutputs returns a copy of the stack's Kafka config whose output topics
// are new (created here), reading the same input: an undisturbed run writes
// there.
func (s *Stack) withOutputs() kafkax.Config {
	c := s.Kafka
	in := c.Topics.Events
	c.Topics = kafkax.PrefixedTopics("r" + testkit.ID())
	c.Topics.Events = in
	s.createTopics(c)
	return c
}

func (s *Stack) createTopics(c kafkax.Config) {
	s.t.Helper()
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		s.t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := kafkax.CreateTopics(ctx, adm, c); err != nil {
		cl.Close()
		s.t.Fatalf("create topics on %v: %v", c.Brokers, err)
	}
	// Wait until every topic shows in metadata with its leaders.
	names := append(c.Topics.Inputs(), c.Topics.Outputs()...)
	waitFor(s.t, "created topics in metadata", 30*time.Second, func() bool {
		md, err := adm.Metadata(ctx, names...)
		if err != nil {
			return false
		}
		for _, n := range names {
			td, ok := md.Topics[n]
			if !ok || td.Err != nil || len(td.Partitions) != c.Partitions {
				return false
			}
		}
		return true
	})
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, c.Topics.Outputs()...)
		if c.Topics.Events == s.Kafka.Topics.Events && c.Topics.Actions == s.Kafka.Topics.Actions {
			_, _ = adm.DeleteTopics(ctx, c.Topics.Inputs()...)
		}
		cl.Close()
	})
}

// RunOpts says how one `arrears run` reaches its services; empty fields
// mean the stack's own (direct) addresses.
type RunOpts struct {
	Brokers []string
	Redis   string
	Kafka   *kafkax.Config // topics to write (default the stack's)
	Prefix  string         // Redis prefix (default the stack's)
	Group   string         // consumer group (default the stack's)
}

// runEnv is the environment of an `arrears run` child named name.
func (s *Stack) runEnv(name string, o RunOpts) []string {
	kc := s.Kafka
	if o.Kafka != nil {
		kc = *o.Kafka
	}
	brokers := kc.Brokers
	if len(o.Brokers) > 0 {
		brokers = o.Brokers
	}
	rd, prefix, group := testkit.RedisAddr, s.Prefix, s.Group
	if o.Redis != "" {
		rd = o.Redis
	}
	if o.Prefix != "" {
		prefix = o.Prefix
	}
	if o.Group != "" {
		group = o.Group
	}
	tp := kc.Topics
	return []string{
		"ARREARS_KAFKA_BROKERS=" + strings.Join(brokers, ","),
		"ARREARS_KAFKA_TOPICS_EVENTS=" + tp.Events, "ARREARS_KAFKA_TOPICS_ACTIONS=" + tp.Actions,
		"ARREARS_KAFKA_TOPICS_RISK=" + tp.Risk, "ARREARS_KAFKA_TOPICS_STATUS=" + tp.Status,
		"ARREARS_KAFKA_TOPICS_GL=" + tp.GL, "ARREARS_KAFKA_TOPICS_DLQ=" + tp.DLQ,
		"ARREARS_KAFKA_TOPICS_ACCEPTED=" + tp.Accepted,
		"ARREARS_REDIS_ADDRS=" + rd, "ARREARS_REDIS_PREFIX=" + prefix,
		"ARREARS_PROCESSOR_GROUP_ID=" + group,
		"ARREARS_PROCESSOR_TRANSACTIONAL_ID=" + group + "-" + name,
		"ARREARS_PROCESSOR_MAX_POLL_RECORDS=2000",
		"ARREARS_PROCESSOR_SESSION_TIMEOUT=6s",
		// Fields issue 10 adds; ignored by a build that does not have them.
		"ARREARS_PROCESSOR_STALL_TIMEOUT=5s",
		"ARREARS_PROCESSOR_TIME=simulated",
		"ARREARS_CORE_POLICY_DIR=" + repoDir + "/deploy/policies",
		"ARREARS_CORE_SCORECARD=" + repoDir + "/deploy/risk/scorecard.yaml",
		"ARREARS_LOG_LEVEL=info",
		"ARREARS_LOG_FORMAT=text",
	}
}

// Proc is one arrears child process, restartable with the same command.
type Proc struct {
	t    testing.TB
	Name string
	HTTP string // its ops endpoint (host:port)
	bin  string
	args []string
	env  []string
	log  *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Run starts `arrears run` as a child named name; it is stopped at the end.
func (s *Stack) Run(name string, o RunOpts) *Proc {
	return s.Start(name, []string{"run"}, s.runEnv(name, o)...)
}

// Start starts the arrears binary with args and extra ARREARS_* variables;
// its ops endpoint listens on a free port and its output goes to a log file
// in the test's temporary directory.
func (s *Stack) Start(name string, args []string, env ...string) *Proc {
	s.t.Helper()
	f, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		s.t.Fatal(err)
	}
	p := &Proc{t: s.t, Name: name, HTTP: fmt.Sprintf("127.0.0.1:%d", FreePort(s.t)), bin: s.Bin, args: args, log: f}
	p.env = append(append(os.Environ(), env...), "ARREARS_HTTP_LISTEN="+p.HTTP)
	p.start()
	s.t.Cleanup(func() { p.Stop(); f.Close() })
	return p
}

func (p *Proc) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	fmt.Fprintf(p.log, "---- faults: started %s pid %d at %s\n", p.Name, cmd.Process.Pid, time.Now().UTC().Format(time.RFC3339Nano))
}

// Kill SIGKILLs the process and waits for it to be gone.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, 0) }

// Stop asks the process to shut down (SIGTERM) and SIGKILLs it after 30 s.
func (p *Proc) Stop() { p.signal(syscall.SIGTERM, 30*time.Second) }

// Restart stops the process cleanly and starts it again.
func (p *Proc) Restart() { p.Stop(); p.start() }

// Respawn starts a killed or stopped process again.
func (p *Proc) Respawn() { p.start() }

func (p *Proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	<-done
	fmt.Fprintf(p.log, "---- faults: %s got %s at %s\n", p.Name, sig, time.Now().UTC().Format(time.RFC3339Nano))
}

// Exited says whether the process is not running.
func (p *Proc) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Readyz returns the HTTP status of the process's /readyz (0 if it does not answer).
func (p *Proc) Readyz() int {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + p.HTTP + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// LogTail returns the last n lines the process wrote (for failure messages).
func (p *Proc) LogTail(n int) string {
	b, err := os.ReadFile(p.log.Name())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return p.log.Name() + ":\n" + strings.Join(lines, "\n")
}

// waitFor polls cond every 200 ms until it holds, failing after timeout.
func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !poll(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// poll polls cond every 200 ms until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}
