package processor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// groupsHarness is a harness whose processors write group contributions.
func groupsHarness(t *testing.T) *harness {
	h := newHarness(t, 6)
	h.env = fullEnv(t)
	h.tune = func(c *processor.Config) {
		c.Time = processor.TimeSimulated
		c.Groups.Enabled = true
	}
	return h
}

// startGroups runs one group-stage instance until stop is called; the
// first instance's metrics go to h.groupsReg when set.
func (h *harness) startGroups(name string) (stop func()) {
	h.t.Helper()
	return h.startGroupsWith(name, false)
}

// startGroupsWith is startGroups; publish makes the stage write the group
// events (GroupContext, GroupServiceChange) to the events topic.
func (h *harness) startGroupsWith(name string, publish bool) (stop func()) {
	h.t.Helper()
	cfg := processor.Defaults()
	cfg.GroupID = h.group
	cfg.TransactionalID = h.group + "-" + name
	cfg.SessionTimeout = 6 * time.Second
	cfg.Groups.Enabled = true
	cfg.Groups.Conditions = h.groupConds
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testWriter{t: h.t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	gs, err := processor.NewGroupStage(cfg, h.kcfg, redisstore.New(h.rdb, processor.GroupStorePrefix(h.pref)), groupsReg.take(h), log)
	if err != nil {
		h.t.Fatal(err)
	}
	if publish {
		gs.PublishEvents(h.codec)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := gs.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			h.t.Errorf("group stage %s: %v", name, err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// hierarchy is a 3-level hierarchy's input: top T, mids M0..M9 (accounts
// whose parent is T), children C0..C<n-1> (parent M<i%10>), spread by key
// over every partition; its phases move, pay, close and invoice children.
type hierarchy struct {
	h    *harness
	n    int
	recs []*kgo.Record
}

func (y *hierarchy) add(e event.Event) {
	v, err := y.h.codec.EncodeEvent(context.Background(), y.h.kcfg.Topics.Events, e)
	if err != nil {
		y.h.t.Fatal(err)
	}
	y.recs = append(y.recs, &kgo.Record{Key: []byte(e.Account), Value: v})
}

func (y *hierarchy) upsert(acct, parent string, at time.Time, tag string) {
	y.add(event.Event{ID: "up-" + acct + "-" + tag, Time: at, Source: "crm", Account: acct, Body: &event.AccountUpserted{
		Segment: event.Corporate, ParentID: parent, Currency: "EUR", Timezone: "Europe/Berlin",
		CreditLimit: event.MustAmount("5000"), Consents: []event.Channel{event.Email, event.Letter}}})
}

func (y *hierarchy) invoice(acct, id string, cents int, at time.Time) {
	y.add(event.Event{ID: "ev-" + id, Time: at, Source: "billing", Account: acct, Body: &event.InvoiceIssued{
		InvoiceID: id, Currency: "EUR", Amount: event.Amount(cents), IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14}})
}

func (y *hierarchy) pay(acct, id string, cents int, at time.Time) {
	y.add(event.Event{ID: "ev-" + id, Time: at, Source: "gateway", Account: acct, Body: &event.PaymentReceived{
		PaymentID: id, Currency: "EUR", Amount: event.Amount(cents), Method: "card"}})
}

// flush returns the records so far and the ticks of days [from, to).
func (y *hierarchy) flush(from, to int) []*kgo.Record {
	out := y.recs
	y.recs = nil
	for d := from; d < to; d++ {
		out = append(out, y.h.ticks(t0.Add(time.Duration(d)*24*time.Hour))...)
	}
	return out
}

func child(i int) string { return "C" + strconv.Itoa(i) }
func mid(i int) string   { return "M" + strconv.Itoa(i%10) }

// phase1: the hierarchy and an invoice per account, 40 days on.
func (y *hierarchy) phase1() []*kgo.Record {
	y.upsert("T", "", t0, "1")
	for m := 0; m < 10; m++ {
		y.upsert(mid(m), "T", t0, "1")
		y.invoice(mid(m), "IM"+strconv.Itoa(m), 100000, t0)
	}
	for i := 0; i < y.n; i++ {
		y.upsert(child(i), mid(i), t0, "1")
		y.invoice(child(i), "IC"+strconv.Itoa(i), 10000+i*7, t0.Add(time.Minute))
	}
	return y.flush(1, 40)
}

// phase2: children C0..C99 move to the next mid, C100..C199 pay in full,
// C200..C209 pay and close, M9 moves to another top T2.
func (y *hierarchy) phase2() []*kgo.Record {
	at := t0.Add(40*24*time.Hour + time.Hour)
	for i := 0; i < 100; i++ {
		y.upsert(child(i), mid(i+1), at, "2")
	}
	for i := 100; i < 210; i++ {
		y.pay(child(i), "PC"+strconv.Itoa(i), 10000+i*7, at)
	}
	for i := 200; i < 210; i++ {
		y.add(event.Event{ID: "close-" + child(i), Time: at.Add(time.Minute), Source: "crm", Account: child(i), Body: &event.AccountClosed{Reason: "test"}})
	}
	y.upsert("T2", "", at, "2")
	y.upsert(mid(9), "T2", at, "2")
	return y.flush(41, 60)
}

// phase3: half the children get a second invoice; some move back; five
// are erased.
func (y *hierarchy) phase3() []*kgo.Record {
	at := t0.Add(60*24*time.Hour + time.Hour)
	for i := 300; i < 800; i++ {
		y.invoice(child(i), "IC2-"+strconv.Itoa(i), 5000+i, at)
	}
	for i := 0; i < 20; i++ {
		y.upsert(child(i), mid(i), at, "3")
	}
	for i := 990; i < 995; i++ { // erased: their contributions go
		y.add(event.Event{ID: "erase-" + child(i), Time: at.Add(time.Minute), Source: "api:dpo", Account: child(i), Body: &event.AccountErased{Reason: "GDPR_ART17"}})
	}
	return y.flush(61, 90)
}

// groupNodes reads every group node from the group store.
func (h *harness) groupNodes() map[string]*group.Node {
	h.t.Helper()
	out := map[string]*group.Node{}
	for k, v := range dump(h.t, h.rdb, processor.GroupStorePrefix(h.pref), h.kcfg.Partitions) {
		n, err := group.DecodeNode([]byte(v))
		if err != nil {
			h.t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// accountSnapshots reads every account state in Redis and takes its
// contribution.
func (h *harness) accountSnapshots() map[string]group.Snapshot {
	h.t.Helper()
	own := map[string]group.Snapshot{}
	for a, v := range dump(h.t, h.rdb, h.pref, h.kcfg.Partitions) {
		st := &core.State{Account: a}
		if err := st.UnmarshalBinary([]byte(v)); err != nil {
			h.t.Fatal(err)
		}
		own[a] = group.Take(st)
	}
	return own
}

// expectedGroups recomputes every group's totals from the account states
// in Redis: the sum of its children's own contributions and of the
// subtrees of those children that are groups themselves.
func (h *harness) expectedGroups() map[string]group.Totals {
	h.t.Helper()
	own := h.accountSnapshots()
	kids := map[string][]string{}
	for a, s := range own {
		if s.OK {
			kids[s.Parent] = append(kids[s.Parent], a)
		}
	}
	memo := map[string]group.Totals{}
	var subtree func(g string) group.Totals
	subtree = func(g string) group.Totals {
		if t, ok := memo[g]; ok {
			return t
		}
		var parts []group.Totals
		for _, c := range kids[g] {
			parts = append(parts, own[c].Totals)
			if len(kids[c]) > 0 {
				parts = append(parts, subtree(c))
			}
		}
		t := group.Sum(parts...)
		if len(parts) > 0 {
			t.Depth++
		}
		memo[g] = t
		return t
	}
	out := map[string]group.Totals{}
	for g := range kids {
		out[g] = subtree(g)
	}
	return out
}

// checkNodes asserts every stored node's totals are the sum of its stored
// children: true after every committed group batch.
func checkNodes(t testing.TB, nodes map[string]*group.Node) {
	t.Helper()
	for id, n := range nodes {
		var parts []group.Totals
		for _, c := range n.Children {
			parts = append(parts, c.Totals)
		}
		want := group.Sum(parts...)
		if len(parts) > 0 {
			want.Depth++
		}
		if !n.Totals.Equal(want) {
			t.Fatalf("node %s: stored totals are not the sum of its %d children", id, len(n.Children))
		}
	}
}

// waitGroupsQuiet waits until the account stage committed every input and
// the group stage every contribution, ends unchanged over two looks (the
// group stage's forwards are contributions too).
func (h *harness) waitGroupsQuiet(timeout time.Duration) {
	h.t.Helper()
	h.waitCaughtUp(h.group, timeout)
	cl, err := kgo.NewClient(h.kcfg.ClientOpts()...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	topic, gid := h.kcfg.Topics.GroupContributions, h.group+"-groups"
	last := ""
	waitFor(h.t, "the group stage to commit every contribution", timeout, func() bool {
		checkNodes(h.t, h.groupNodes()) // holds at any moment, mid-run too
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offs, err := adm.FetchOffsets(ctx, gid)
		if err != nil {
			return false
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false
		}
		done, sig := true, ""
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := offs.Lookup(o.Topic, o.Partition)
			if !ok && o.Offset > 0 || ok && c.At < o.Offset {
				done = false
			}
			sig += fmt.Sprintf("%d:%d ", o.Partition, o.Offset)
		})
		if !done {
			last = ""
			return false
		}
		if sig != last {
			last = sig
			time.Sleep(500 * time.Millisecond)
			return false
		}
		return true
	})
}

// compareGroups asserts each group's stored totals equal the recomputation
// from the account states, and that no other node holds children.
func (h *harness) compareGroups(what string) map[string]group.Totals {
	h.t.Helper()
	want := h.expectedGroups()
	nodes := h.groupNodes()
	checkNodes(h.t, nodes)
	var bad []string
	for g, w := range want {
		n := nodes[g]
		if n == nil || !n.Totals.Equal(w) {
			bad = append(bad, g)
		}
	}
	for g, n := range nodes {
		if _, ok := want[g]; !ok && len(n.Children) > 0 {
			bad = append(bad, g+" (holds children, none expected)")
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		h.t.Errorf("%s: %d groups differ from the sum over their children's account states: %v", what, len(bad), bad[:min(len(bad), 10)])
		h.childDiff(nodes, bad)
		h.t.FailNow()
	}
	return want
}

// childDiff logs, for each group in bad, the children whose stored
// contribution differs from their account's state (or is missing or extra).
func (h *harness) childDiff(nodes map[string]*group.Node, bad []string) {
	h.t.Helper()
	own := h.accountSnapshots()
	for _, g := range bad {
		n := nodes[g]
		if n == nil {
			h.t.Logf("%s: no node", g)
			continue
		}
		for a, s := range own {
			c, ok := n.Children[group.AccountChild+a]
			switch {
			case s.OK && s.Parent == g && !ok:
				h.t.Logf("%s: child %s missing (its state: %+v)", g, a, s.Totals)
			case ok && !(s.OK && s.Parent == g):
				h.t.Logf("%s: child %s held at v%d, its state has parent %q ok=%v", g, a, c.Version, s.Parent, s.OK)
			case ok && !c.Totals.Equal(s.Totals):
				h.t.Logf("%s: child %s at v%d holds %+v, its state %+v", g, a, c.Version, c.Totals, s.Totals)
			}
		}
		for k, c := range n.Children {
			if strings.HasPrefix(k, group.GroupChild) {
				h.t.Logf("%s: group child %s at v%d: %d accounts", g, k, c.Version, c.Totals.Accounts)
			} else if _, ok := own[strings.TrimPrefix(k, group.AccountChild)]; !ok {
				h.t.Logf("%s: child %s at v%d has no account state", g, k, c.Version)
			}
		}
	}
}

// TestGroupsAcrossPartitions: a 3-level hierarchy of 1,000 children over
// all 6 partitions, two instances of each stage joining and leaving
// (rebalances of both consumer groups), children moving between mids and
// back, paying, closing and erased, a mid moving to another top, the group
// store flushed between phases: at every
// quiescent checkpoint each group's aggregate in Redis equals the sum over
// its children recomputed from the account states, and every stored node
// sums its children at every look.
func TestGroupsAcrossPartitions(t *testing.T) {
	t.Parallel() // the longest tests of the package (own topics, prefix, no listener): they overlap in CI
	t.Run("redis", func(t *testing.T) { groupsAcrossPartitions(t, groupsHarness(t)) })
	t.Run("redis-cluster", func(t *testing.T) {
		h := groupsHarness(t)
		h.rdb, h.pref = testkit.RedisClusterClient(t)
		groupsAcrossPartitions(t, h)
	})
}

func groupsAcrossPartitions(t *testing.T, h *harness) {
	y := &hierarchy{h: h, n: 1000}
	reg := prometheus.NewRegistry()
	groupsReg.set(h, reg)
	stopA, stopGA := h.start("a"), h.startGroups("a")
	h.produceAll(y.phase1())
	h.waitGroupsQuiet(120 * time.Second)
	want := h.compareGroups("after phase 1")
	if c, f := metricSum(t, reg, "arrears_groups_transactions_total"), metricSum(t, reg, "arrears_groups_forwards_total"); c < 1 || f < 10 {
		t.Errorf("group metrics: %v committed or aborted transactions, %v forwards; want some, and >= 10 forwards (the mids)", c, f)
	}
	if got := want["T"].Accounts; got != 1010 {
		t.Fatalf("T sums %d accounts, want 1010", got)
	}
	// a change that leaves the contributions as they are writes none
	before := h.contributionsEnd()
	at := t0.Add(39 * 24 * time.Hour)
	for i := 0; i < 100; i++ {
		y.add(event.Event{ID: "limit-" + child(i), Time: at, Source: "crm", Account: child(i), Body: &event.AccountUpserted{
			Segment: event.Corporate, ParentID: mid(i), Currency: "EUR", Timezone: "Europe/Berlin",
			CreditLimit: event.MustAmount("7000"), Consents: []event.Channel{event.Email, event.Letter}}})
	}
	h.produceAll(y.flush(0, 0))
	h.waitGroupsQuiet(120 * time.Second)
	if st := h.state(child(0)); st.Ledger.Master().CreditLimit != event.MustAmount("7000") {
		t.Fatalf("credit limit %s, the upsert was not applied", st.Ledger.Master().CreditLimit)
	}
	if after := h.contributionsEnd(); after != before {
		t.Fatalf("100 credit-limit changes wrote %d contribution records, want none", after-before)
	}
	// the group store is lost: restored from its changelog
	testkit.DeletePrefix(h.rdb, processor.GroupStorePrefix(h.pref))
	stopB, stopGB := h.start("b"), h.startGroups("b") // rebalance of both stages
	h.produceAll(y.phase2())
	time.Sleep(300 * time.Millisecond)
	stopGA() // rebalance mid-phase
	h.waitGroupsQuiet(120 * time.Second)
	want = h.compareGroups("after the moves")
	if got, w := want["T"].Accounts+want["T2"].Accounts, int64(1010-10); got != w {
		t.Fatalf("T and T2 sum %d accounts, want %d (10 closed)", got, w)
	}
	stopGA = h.startGroups("a")
	h.produceAll(y.phase3())
	time.Sleep(200 * time.Millisecond)
	stopA()
	h.waitGroupsQuiet(120 * time.Second)
	want = h.compareGroups("at the end")
	if got := want["T"].Accounts + want["T2"].Accounts; got != 1000-5 {
		t.Fatalf("T and T2 sum %d accounts at the end, want 995 (10 closed, 5 erased)", got)
	}
	stopB()
	stopGA()
	stopGB()
}

// TestGroupsSIGKILL: `arrears run` with processor.groups.enabled (both
// stages in one process) is killed with SIGKILL at random moments while the
// hierarchy's three phases go in; afterwards each group's aggregate equals
// the recomputation from the account states.
func TestGroupsSIGKILL(t *testing.T) {
	t.Parallel() // the longest tests of the package (own topics, prefix, no listener): they overlap in CI
	h := groupsHarness(t)
	bin := testkit.ArrearsBinary(t)
	env := append(os.Environ(),
		"ARREARS_KAFKA_BROKERS="+h.kcfg.Brokers[0],
		"ARREARS_KAFKA_TOPICS_EVENTS="+h.kcfg.Topics.Events,
		"ARREARS_KAFKA_TOPICS_ACTIONS="+h.kcfg.Topics.Actions,
		"ARREARS_KAFKA_TOPICS_RISK="+h.kcfg.Topics.Risk,
		"ARREARS_KAFKA_TOPICS_STATUS="+h.kcfg.Topics.Status,
		"ARREARS_KAFKA_TOPICS_GL="+h.kcfg.Topics.GL,
		"ARREARS_KAFKA_TOPICS_DLQ="+h.kcfg.Topics.DLQ,
		"ARREARS_KAFKA_TOPICS_ACCEPTED="+h.kcfg.Topics.Accepted,
		"ARREARS_KAFKA_TOPICS_POLICIES="+h.kcfg.Topics.Policies,
		"ARREARS_KAFKA_TOPICS_GROUP_CONTRIBUTIONS="+h.kcfg.Topics.GroupContributions,
		"ARREARS_KAFKA_TOPICS_GROUP_CHANGELOG="+h.kcfg.Topics.GroupChangelog,
		"ARREARS_PROCESSOR_GROUPS_ENABLED=true",
		"ARREARS_PROCESSOR_TIME=simulated",
		"ARREARS_REDIS_ADDRS="+testkit.RedisAddr,
		"ARREARS_REDIS_PREFIX="+h.pref,
		"ARREARS_PROCESSOR_GROUP_ID="+h.group,
		"ARREARS_PROCESSOR_TRANSACTIONAL_ID="+h.group+"-crash",
		"ARREARS_PROCESSOR_MAX_POLL_RECORDS=1000",
		"ARREARS_PROCESSOR_GROUPS_MAX_POLL_RECORDS=500",
		"ARREARS_HTTP_LISTEN=",
		"ARREARS_LOG_LEVEL=info",
		"ARREARS_PROCESSOR_SESSION_TIMEOUT=6s",
		"ARREARS_CORE_POLICY_DIR=../deploy/policies",
		"ARREARS_CORE_SCORECARD=../deploy/risk/scorecard.yaml",
	)
	logf, err := os.CreateTemp("", "arrears-groups-crash-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	startProc := func() *exec.Cmd {
		cmd := exec.Command(bin, "run")
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	y := &hierarchy{h: h, n: 1000}
	var recs []*kgo.Record
	for _, phase := range []func() []*kgo.Record{y.phase1, y.phase2, y.phase3} {
		recs = append(recs, phase()...)
	}
	cmd := startProc()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(recs); i += 200 { // spread over the kills
			h.produceAll(recs[i:min(i+200, len(recs))])
			time.Sleep(200 * time.Millisecond)
		}
	}()
	r := rand.New(rand.NewPCG(15, 1))
	kills := 0
	for ; kills < 8; kills++ {
		time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		cmd = startProc()
	}
	<-done
	h.waitGroupsQuiet(240 * time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	t.Logf("killed `arrears run` %d times among %d input records; log in %s", kills, len(recs), logf.Name())
	want := h.compareGroups("after the kills")
	if got := want["T"].Accounts + want["T2"].Accounts; got != 995 {
		t.Fatalf("T and T2 sum %d accounts, want 995 (10 closed, 5 erased)", got)
	}
	// arrears groups show reads the same aggregate
	day := event.DateOf(t0) + 90
	show := exec.Command(bin, "groups", "show", "T", "-at", day.String())
	show.Env = env
	out, err := show.CombinedOutput()
	if err != nil {
		t.Fatalf("groups show: %v\n%s", err, out)
	}
	eur := want["T"].Currencies["EUR"]
	for _, line := range []string{
		fmt.Sprintf("accounts    %d (", want["T"].Accounts),
		fmt.Sprintf("EUR exposure %s, overdue %s,", event.Amount(eur.Exposure), event.Amount(want["T"].Overdue("EUR", day))),
		fmt.Sprintf("worst days past due %d", want["T"].WorstDPD(day)),
	} {
		if !strings.Contains(string(out), line) {
			t.Errorf("groups show lacks %q:\n%s", line, out)
		}
	}
	// arrears explain shows a child's group context
	explain := exec.Command(bin, "explain", child(500))
	explain.Env = env
	if out, err = explain.CombinedOutput(); err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	for _, line := range []string{"group " + mid(500) + " (as of", fmt.Sprintf("accounts    %d (", want[mid(500)].Accounts), "  parent      T\n"} {
		if !strings.Contains(string(out), line) {
			t.Errorf("explain lacks %q:\n%s", line, out)
		}
	}
}

// contributionsEnd sums the contributions topic's end offsets.
func (h *harness) contributionsEnd() int64 {
	h.t.Helper()
	cl, err := kgo.NewClient(h.kcfg.ClientOpts()...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), h.kcfg.Topics.GroupContributions)
	if err != nil {
		h.t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// groupsReg hands a registry to the first group stage a test starts.
var groupsReg = &regs{m: map[*harness]prometheus.Registerer{}}

type regs struct {
	mu sync.Mutex
	m  map[*harness]prometheus.Registerer
}

func (r *regs) set(h *harness, reg prometheus.Registerer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[h] = reg
}

func (r *regs) take(h *harness) prometheus.Registerer {
	r.mu.Lock()
	defer r.mu.Unlock()
	reg := r.m[h]
	delete(r.m, h)
	return reg
}

// metricSum adds up every sample of a counter family.
func metricSum(t testing.TB, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range fams {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
