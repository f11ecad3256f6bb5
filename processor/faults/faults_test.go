package faults

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/testkit"
)

// started runs the stack's input through instances and waits for their
// first commit, so faults hit a running pipeline. It returns the progress
// watch and a function waiting for the whole input to be acknowledged.
func started(t *testing.T, s *Stack, seed uint64, sz Size, burst float64, over time.Duration, procs ...*Proc) (*Progress, func()) {
	t.Helper()
	recs := s.Input(seed, sz.Accounts, sz.Months)
	n := int(burst * float64(len(recs)))
	t.Logf("%d input records: %d at once, the rest over %s", len(recs), n, over)
	prog := s.Watch(s.Group, s.Kafka.Topics.Events)
	wait := s.Produce(recs, n, over)
	if !poll(90*time.Second, func() bool { c, _ := prog.Committed(); return c > 0 }) {
		t.Fatalf("no commit within 90 s of the start\n%s", procs[0].LogTail(30))
	}
	return prog, wait
}

// finish waits for the input and for group to commit all of it, stops the
// instances and compares with an undisturbed run.
func finish(t *testing.T, s *Stack, prog *Progress, wait func(), procs ...*Proc) Diff {
	t.Helper()
	wait()
	if !s.WaitCaughtUp(s.Group, 120*time.Second, s.Kafka.Topics.Events) {
		c, e := prog.Committed()
		for _, p := range procs {
			t.Log(p.LogTail(25))
		}
		t.Errorf("not caught up 120 s after the last input (committed %d of %d): restarting the instances to check the results", c, e)
		for _, p := range procs {
			p.Kill()
			p.Respawn()
		}
		if !s.WaitCaughtUp(s.Group, 120*time.Second, s.Kafka.Topics.Events) {
			t.Fatalf("not caught up 120 s after a manual restart either")
		}
	}
	if !s.WaitFired(s.Prefix, 60*time.Second) {
		t.Errorf("wake-ups still due 60 s after the input was committed")
	}
	for _, p := range procs {
		p.Stop()
	}
	got := s.Collect(s.Kafka.Topics, s.Prefix)
	return Check(t, got, s.Reference())
}

// TestChurn: three instances in one group; every ChurnEvery one of them is
// SIGKILLed and started again, or stopped and restarted, while input flows.
// Afterwards every output equals an undisturbed run's.
func TestChurn(t *testing.T) {
	t.Parallel()
	testkit.Integration(t, "kafka", "redis")
	sz := SizeFromEnv(t)
	s := NewStack(t, []string{testkit.KafkaAddr}, 6)
	procs := []*Proc{s.Run("a", RunOpts{}), s.Run("b", RunOpts{}), s.Run("c", RunOpts{})}
	prog, wait := started(t, s, 1, sz, 0, sz.Churn+30*time.Second, procs...)
	begin, last, kills, restarts := time.Now(), time.Now(), 0, 0
	for i := 0; time.Since(begin) < sz.Churn; i++ {
		time.Sleep(sz.ChurnEvery)
		p := procs[i%len(procs)]
		if i%2 == 0 {
			p.Kill()
			p.Respawn()
			kills++
		} else {
			p.Restart()
			restarts++
		}
		last = time.Now()
	}
	d := finish(t, s, prog, wait, procs...)
	Report(t, Row{Fault: fmt.Sprintf("churn: 3 instances, one SIGKILLed (%d) or restarted (%d) every %s for %s", kills, restarts, sz.ChurnEvery, sz.Churn),
		Resumed: resumed(prog, last), CaughtUp: caughtUp(prog, last), Lost: d.Lost, Duplicated: d.Duplicated})
}

// phase is one network fault applied through a proxy for a while.
type phase struct {
	name   string
	toxics []Toxic
	dur    time.Duration
}

func phases(sz Size) []phase {
	return []phase{
		{"latency 300 ms ± 100 ms", []Toxic{Latency(300, 100)}, sz.Phase},
		{"connection resets (RST 500 ms into each connection)", []Toxic{Resets(500)}, sz.Phase},
		{fmt.Sprintf("%s blackhole (timeout toxic)", sz.Blackhole), []Toxic{Blackhole()}, sz.Blackhole},
	}
}

// inject applies each phase in turn on px, clears it, and records how soon
// group resumed committing (within 60 s, or the test fails).
func inject(t *testing.T, target string, px *Proxy, prog *Progress, sz Size, d func() Diff) {
	t.Helper()
	type result struct {
		name     string
		end      time.Time
		resumed  string
		resumeOK bool
	}
	var rs []result
	for _, ph := range phases(sz) {
		px.Add(ph.toxics...)
		time.Sleep(ph.dur)
		px.Clear()
		end := time.Now()
		ok := poll(60*time.Second, func() bool { _, ok := prog.ResumedAfter(end); return ok })
		if !ok {
			t.Errorf("%s: %s: no commit within 60 s of the fault's end", target, ph.name)
		}
		// Let the backlog this fault left drain before the next one, so
		// each row's drain time is its own (not asserted: input keeps
		// arriving).
		poll(60*time.Second, func() bool { _, ok := prog.CaughtUpAfter(end); return ok })
		rs = append(rs, result{ph.name, end, resumed(prog, end), ok})
	}
	diff := d()
	for _, r := range rs {
		Report(t, Row{Fault: target + ": " + r.name, Resumed: r.resumed, CaughtUp: caughtUp(prog, r.end), Lost: diff.Lost, Duplicated: diff.Duplicated})
	}
}

// faultedInput is how long the input of a proxy test flows: through every
// phase and a little after.
func faultedInput(sz Size) time.Duration { return 2*sz.Phase + sz.Blackhole + 10*time.Second }

// TestKafkaFaults: the processor reaches a private broker only through a
// fault proxy (the broker advertises the proxy's address); latency, resets
// and a blackhole are injected. Outputs equal an undisturbed run's.
func TestKafkaFaults(t *testing.T) {
	t.Parallel()
	testkit.Integration(t, "redis")
	sz := SizeFromEnv(t)
	b := StartBroker(t, true)
	s := NewStack(t, []string{b.Addr}, 6)
	p := s.Run("a", RunOpts{Brokers: []string{b.Proxy.Addr}})
	prog, wait := started(t, s, 3, sz, 0, faultedInput(sz), p)
	inject(t, "Kafka", b.Proxy, prog, sz, func() Diff { return finish(t, s, prog, wait, p) })
}

// TestRedisFaults: the processor reaches Redis through a fault proxy.
func TestRedisFaults(t *testing.T) {
	t.Parallel()
	testkit.Integration(t, "kafka", "redis")
	sz := SizeFromEnv(t)
	s := NewStack(t, []string{testkit.KafkaAddr}, 6)
	px := NewProxy(t, "redis-"+s.Group, "127.0.0.1:0", testkit.RedisAddr)
	p := s.Run("a", RunOpts{Redis: px.Addr})
	prog, wait := started(t, s, 4, sz, 0, faultedInput(sz), p)
	inject(t, "Redis", px, prog, sz, func() Diff { return finish(t, s, prog, wait, p) })
}

// TestBrokerRestart: the private broker the processor uses is SIGKILLed
// mid-run and started again after BrokerDown (BrokerKills times). After
// each, processing resumes by itself within 30 s of the broker's return;
// /readyz is unready while the processor is stuck; outputs equal an
// undisturbed run's.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	testkit.Integration(t, "redis")
	sz := SizeFromEnv(t)
	b := StartBroker(t, false)
	s := NewStack(t, []string{b.Addr}, 6)
	p := s.Run("a", RunOpts{})
	// Half the input at once, so the broker dies while the processor works
	// through a backlog (inside a transaction), the rest while it is down
	// and after.
	prog, wait := started(t, s, 2, sz, 0.5, time.Duration(sz.BrokerKills)*(sz.BrokerDown+25*time.Second), p)
	rz := watchReadyz(p)
	var resumes []string
	var backs []time.Time
	for k := 0; k < sz.BrokerKills; k++ {
		back, resume := brokerOutage(t, b, p, prog, rz, sz.BrokerDown)
		resumes, backs = append(resumes, resume), append(backs, back)
		if k+1 < sz.BrokerKills {
			time.Sleep(5 * time.Second)
		}
	}
	rz.stop()
	d := finish(t, s, prog, wait, p)
	for k, back := range backs {
		Report(t, Row{Fault: fmt.Sprintf("Kafka broker SIGKILLed, restarted after %s (outage %d of %d)", sz.BrokerDown, k+1, sz.BrokerKills),
			Resumed: resumes[k], CaughtUp: caughtUp(prog, back), Lost: d.Lost, Duplicated: d.Duplicated})
	}
}

// brokerOutage SIGKILLs b, restarts it after down and checks that p resumes
// within 30 s of its return and that /readyz was unready while p was stuck.
// It returns when the broker was back and how soon p resumed.
func brokerOutage(t *testing.T, b *Broker, p *Proc, prog *Progress, rz *readyz, down time.Duration) (back time.Time, resume string) {
	t.Helper()
	c0, e0 := prog.Committed()
	b.Kill()
	killed := time.Now()
	t.Logf("broker SIGKILLed with %d of %d input records committed", c0, e0)
	time.Sleep(down)
	b.Restart()
	back = time.Now()
	t.Logf("broker down for %s (its restart took %s)", since(back.Sub(killed)), since(back.Sub(killed)-down))
	// No commit is possible while the broker is down: the first after the
	// kill is the resumption (it may come before the restart script saw
	// the broker ready).
	ok := poll(30*time.Second, func() bool {
		d, ok := prog.ResumedAfter(killed)
		return ok && killed.Add(d).Before(back.Add(30*time.Second))
	})
	if !ok {
		c, e := prog.Committed()
		t.Errorf("processing did not resume within 30 s of the broker's return (committed %d of %d)\n%s", c, e, p.LogTail(40))
	}
	stuckEnd, resume := time.Now(), "never"
	if d, ok := prog.ResumedAfter(killed); ok {
		stuckEnd = killed.Add(d)
		resume = since(max(0, stuckEnd.Sub(back)))
	}
	// Unready at some point while stuck (after a stall timeout's worth of
	// the outage), and still unready at the end if it never resumed.
	if codes := rz.between(killed.Add(10*time.Second), stuckEnd); !containsNon200(codes) {
		t.Errorf("/readyz answered %v from 10 s into the outage until processing resumed: want unready (non-200) while stuck", summarize(codes))
	}
	if c := p.Readyz(); !ok && c == 200 {
		t.Errorf("/readyz answers 200 while processing is stuck")
	}
	return back, resume
}

// readyz samples a process's /readyz every 500 ms.
type readyz struct {
	mu      sync.Mutex
	samples []readyzSample
	stop    func()
}

type readyzSample struct {
	at   time.Time
	code int
}

func watchReadyz(p *Proc) *readyz {
	r := &readyz{}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			c := p.Readyz()
			r.mu.Lock()
			r.samples = append(r.samples, readyzSample{time.Now(), c})
			r.mu.Unlock()
			select {
			case <-quit:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	r.stop = func() { once.Do(func() { close(quit); <-done }) }
	p.t.Cleanup(r.stop)
	return r
}

// between returns the status codes sampled in [from, to].
func (r *readyz) between(from, to time.Time) []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, s := range r.samples {
		if !s.at.Before(from) && !s.at.After(to) {
			out = append(out, s.code)
		}
	}
	return out
}

func containsNon200(codes []int) bool {
	for _, c := range codes {
		if c != 200 {
			return true
		}
	}
	return false
}

// summarize counts codes: "200×12 503×3".
func summarize(codes []int) string {
	n := map[int]int{}
	var order []int
	for _, c := range codes {
		if n[c] == 0 {
			order = append(order, c)
		}
		n[c]++
	}
	s := ""
	for _, c := range order {
		s += fmt.Sprintf("%d×%d ", c, n[c])
	}
	if s == "" {
		return "nothing (no samples)"
	}
	return s
}

// TestClickHouseFaults: the sink reaches ClickHouse through a fault proxy
// (the processor runs undisturbed). Afterwards ClickHouse holds every
// action, risk event and GL entry the processor committed, each once after
// ReplacingMergeTree's collapsing; raw duplicate rows are logged.
func TestClickHouseFaults(t *testing.T) {
	t.Parallel()
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	sz := SizeFromEnv(t)
	s := NewStack(t, []string{testkit.KafkaAddr}, 6)
	px := NewProxy(t, "clickhouse-"+s.Group, "127.0.0.1:0", testkit.ClickHouseAddr)
	db := "faults_" + s.Group
	p := s.Run("a", RunOpts{})
	sink := s.Sink("sink", px.Addr, db)
	_, wait := started(t, s, 5, sz, 0, faultedInput(sz), p)
	// Progress on the actions topic: the sink reads it whatever input topic
	// it lands facts from (ar.events before, ar.events.accepted since).
	group := s.Group + "-sink"
	sprog := s.Watch(group, s.Kafka.Topics.Actions)
	if !poll(60*time.Second, func() bool { c, _ := sprog.Committed(); return c > 0 }) {
		t.Fatalf("the sink committed nothing within 60 s\n%s", sink.LogTail(30))
	}
	inject(t, "ClickHouse (sink)", px, sprog, sz, func() Diff {
		wait()
		tp := s.Kafka.Topics
		if !s.WaitCaughtUp(s.Group, 120*time.Second, tp.Events) || !s.WaitFired(s.Prefix, 60*time.Second) {
			t.Fatalf("the processor did not catch up\n%s", p.LogTail(30))
		}
		if !s.WaitCaughtUp(group, 120*time.Second, tp.Actions, tp.Risk, tp.GL) || !s.WaitCaughtUp(group, 60*time.Second) {
			t.Errorf("the sink did not catch up within 120 s\n%s", sink.LogTail(30))
		}
		sink.Stop()
		p.Stop()
		want := s.Collect(tp, s.Prefix)
		raw := Landed(t, db, false)
		got := Landed(t, db, true)
		got.States = want.States
		rawDup := Compare(raw, want).Duplicated
		t.Logf("raw rows (before ReplacingMergeTree collapses them): %d ids landed more than once", rawDup)
		return Check(t, got, want)
	})
}
