package processor_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// registryServer is a Schema Registry the test can stop and start again on
// the same address: a real HTTP server in front of srfake's registry.
type registryServer struct {
	t    testing.TB
	addr string
	to   *url.URL
	mu   sync.Mutex
	srv  *http.Server
}

func newRegistryServer(t testing.TB, backend string) *registryServer {
	to, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	r := &registryServer{t: t, to: to}
	r.start("127.0.0.1:0")
	t.Cleanup(r.stop)
	return r
}

func (r *registryServer) URL() string { return "http://" + r.addr }

// start serves on addr (the previous address when restarting).
func (r *registryServer) start(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: httputil.NewSingleHostReverseProxy(r.to), ReadHeaderTimeout: 5 * time.Second}
	go func(s *http.Server) {
		if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Errorf("registry server: %v", err)
		}
	}(r.srv)
}

func (r *registryServer) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		_ = r.srv.Close()
		r.srv = nil
	}
}

// TestRegistryOutage: the processor's Schema Registry is down for 30 s
// (ARREARS_TEST_REGISTRY_OUTAGE) while Confluent-framed records flow and
// the processor has never seen their schema id: nothing is dead-lettered,
// the partitions resume when the registry is back, and the final state
// equals an undisturbed run.
func TestRegistryOutage(t *testing.T) {
	outage := 30 * time.Second
	if s := os.Getenv("ARREARS_TEST_REGISTRY_OUTAGE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		outage = d
	}
	fake := srfake.New()
	defer fake.Close()
	reg := newRegistryServer(t, fake.URL())

	h := newHarness(t, 3)
	h.env = policyEnv(t)
	producer, err := schemas.New(schemas.Config{RegistryURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	h.codec = producer // the workload is Confluent-framed
	h.codecFor = func() processor.Codec {
		c, err := schemas.New(schemas.Config{RegistryURL: reg.URL(), RegistryTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	recs := h.workload(11, 3000, 300, 0)

	reg.stop()
	stop := h.start("a")
	h.produceAll(recs[:len(recs)/2])
	time.Sleep(outage)
	if dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 2*time.Second); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered while the registry was down", len(dlq))
	}
	if st := dump(t, h.rdb, h.pref, h.kcfg.Partitions); len(st) != 0 {
		t.Fatalf("%d accounts stored while no record could be decoded", len(st))
	}
	reg.start(reg.addr)
	h.produceAll(recs[len(recs)/2:])
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()

	if dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 2*time.Second); len(dlq) != 0 {
		t.Fatalf("%d records dead-lettered", len(dlq))
	}
	got := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	ref := h.referenceRun()
	compareStates(t, got, ref.states)
	compareActions(t, h.actionIDs(), ref.actions)
}
