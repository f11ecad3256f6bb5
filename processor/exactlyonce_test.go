package processor_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/sinks/redisstore"
)

// workload builds n deterministic events over accts accounts spread over
// about four months: an AccountUpserted per account, then invoices and
// payments (some partial, some missing, so dunning escalates), a ClockTick
// per partition every simulated day, and bad records (every badEvery-th is a
// negative amount, which the ledger rejects to the DLQ).
func (h *harness) workload(seed uint64, n, accts, badEvery int) []*kgo.Record {
	r := rand.New(rand.NewPCG(seed, 7))
	recs := make([]*kgo.Record, 0, n+accts+130*h.kcfg.Partitions)
	enc := func(e event.Event) {
		v, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, e)
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Key: []byte(e.Account), Value: v})
	}
	for a := 0; a < accts; a++ {
		acct := "ACC-" + strconv.Itoa(a)
		seg := []event.Segment{event.Postpaid, event.Postpaid, event.Postpaid, event.Corporate, event.Prepaid}[a%5]
		enc(event.Event{ID: fmt.Sprintf("%d-up-%d", seed, a), Time: t0, Source: "test", Account: acct, Body: &event.AccountUpserted{
			Segment: seg, Currency: "EUR", Timezone: "Europe/Berlin", CreditLimit: event.MustAmount("500"),
			Consents: []event.Channel{event.Email, event.SMS, event.Letter}}})
	}
	step := 120 * 24 * time.Hour / time.Duration(n)
	day := t0
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * step)
		for day.Before(at) {
			recs = append(recs, h.ticks(day)...)
			day = day.Add(24 * time.Hour)
		}
		acct := "ACC-" + strconv.Itoa(r.IntN(accts))
		amt := event.Amount(1+r.IntN(20000)) * 100
		if badEvery > 0 && i%badEvery == badEvery-1 {
			amt = -amt
		}
		var body event.Body
		id := fmt.Sprintf("%d-%d", seed, i)
		if r.IntN(3) == 0 {
			body = &event.PaymentReceived{PaymentID: "P" + id, Currency: "EUR", Amount: amt, Method: "card"}
		} else {
			body = &event.InvoiceIssued{InvoiceID: "I" + id, Currency: "EUR", Amount: amt, IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14}
		}
		enc(event.Event{ID: "ev-" + id, Time: at, Source: "test", Account: acct, Body: body})
	}
	return recs
}

// ticks returns one ClockTick per partition at the given time.
func (h *harness) ticks(at time.Time) []*kgo.Record {
	var recs []*kgo.Record
	for p := 0; p < h.kcfg.Partitions; p++ {
		v, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, event.Event{
			ID: fmt.Sprintf("tick-%d-%d", p, at.UnixMilli()), Time: at, Source: "test", Body: &event.ClockTick{Partition: int32(p)}})
		if err != nil {
			h.t.Fatal(err)
		}
		recs = append(recs, &kgo.Record{Partition: int32(p), Value: v})
	}
	return recs
}

// produceAll writes records (ticks to their explicit partition, the rest by key).
func (h *harness) produceAll(recs []*kgo.Record) {
	h.t.Helper()
	cl, err := kgo.NewClient(append(h.kcfg.ClientOpts(), kgo.DefaultProduceTopic(h.kcfg.Topics.Events),
		kgo.RecordPartitioner(kafkax.KeyOrExplicit()), kgo.ProducerLinger(5*time.Millisecond))...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// waitCaughtUp waits until the group committed every input offset and
// fired every wake-up due (a burst outlasts the last offset commit).
func (h *harness) waitCaughtUp(group string, timeout time.Duration) {
	h.t.Helper()
	adm := h.admin()
	waitFor(h.t, "group "+group+" to commit every input offset", timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// offsets first: a record forwarded to another partition
		// (misroute.go) exists once its original's offset is committed,
		// so ends read after the offsets count it
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return false
		}
		ends, err := adm.ListEndOffsets(ctx, h.kcfg.Topics.Events)
		if err != nil {
			return false
		}
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			c, ok := offs.Lookup(o.Topic, o.Partition)
			// a transactional commit marker follows the last record
			if !ok && o.Offset > 0 || ok && c.At < o.Offset {
				done = false
			}
		})
		return done
	})
	if !testkit.WaitWakeupsFired(h.rdb, h.pref, h.kcfg.Partitions, timeout) {
		h.t.Fatalf("group %s: wake-ups still due %s after every input offset was committed", group, timeout)
	}
}

// dump returns every account state in Redis under prefix.
func dump(t testing.TB, rdb redis.UniversalClient, prefix string, partitions int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p := 0; p < partitions; p++ {
		m, err := rdb.HGetAll(context.Background(), prefix+":{p"+strconv.Itoa(p)+"}:acct").Result()
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// reference runs an undisturbed processor over the same input (own group,
// own Redis prefix, own output topics) and returns its final states.
func (h *harness) reference() map[string]string {
	return h.referenceRun().states
}

// refResult is what the undisturbed run produced.
type refResult struct {
	states  map[string]string
	actions map[string]int
	risk    map[string]int
	gl      map[string]int
	kcfg    kafkax.Config
}

// matchesReference checks what the harness's instances left (Redis states,
// actions, risk events, GL entries) against the undisturbed reference run
// and returns that run.
func (h *harness) matchesReference(t *testing.T) refResult {
	t.Helper()
	ref := h.referenceRun()
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), ref.states)
	compareActions(t, h.actionIDs(), ref.actions)
	compareRisk(t, h.riskIDs(), ref.risk)
	compareOutputs(t, "GL entries", h.glIDs(), ref.gl)
	return ref
}

func (h *harness) referenceRun() refResult {
	h.t.Helper()
	ref := *h
	ref.group = h.group + "-ref"
	ref.kafkaFor = nil // the reference runs as the test's own (admin) client
	ref.pref = h.pref + "ref"
	ref.kcfg.Topics = kafkax.PrefixedTopics("r" + testkit.ID())
	ref.kcfg.Topics.Events, ref.kcfg.Topics.ExtraInputs = h.kcfg.Topics.Events, h.kcfg.Topics.ExtraInputs
	ref.kcfg.Topics.Policies = h.kcfg.Topics.Policies // the same published versions
	createTopics(h.t, ref.kcfg)
	h.t.Cleanup(func() { testkit.DeletePrefix(h.rdb, ref.pref) })
	stop := ref.start("ref")
	ref.waitCaughtUp(ref.group, 180*time.Second)
	stop()
	return refResult{states: dump(h.t, h.rdb, ref.pref, h.kcfg.Partitions), actions: ref.actionIDs(), risk: ref.riskIDs(), gl: ref.glIDs(), kcfg: ref.kcfg}
}

// outputIDs counts every committed record of topic by the id in it.
func (h *harness) outputIDs(topic string, id func(v []byte) (string, error)) map[string]int {
	h.t.Helper()
	out := map[string]int{}
	for _, r := range testkit.ConsumeWith(h.t, h.kcfg, topic, 1<<30, 5*time.Second) {
		k, err := id(r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		out[k]++
	}
	return out
}

// actionIDs counts every committed dunning action by id.
func (h *harness) actionIDs() map[string]int {
	return h.outputIDs(h.kcfg.Topics.Actions, func(v []byte) (string, error) {
		a, err := h.codec.DecodeAction(context.Background(), v)
		return a.ActionID, err
	})
}

// riskIDs counts every committed risk event (tier change, PD move) by id.
func (h *harness) riskIDs() map[string]int {
	return h.outputIDs(h.kcfg.Topics.Risk, func(v []byte) (string, error) {
		r, err := h.codec.DecodeRisk(context.Background(), v)
		return r.EventID, err
	})
}

// compareActions: every action of the undisturbed run appears exactly once.
func compareActions(t testing.TB, got, want map[string]int) {
	t.Helper()
	compareOutputs(t, "actions", got, want)
}

// compareRisk: every risk event of the undisturbed run appears exactly once.
func compareRisk(t testing.TB, got, want map[string]int) {
	t.Helper()
	compareOutputs(t, "risk events", got, want)
}

// compareOutputs: every output of the undisturbed run appears exactly once.
func compareOutputs(t testing.TB, what string, got, want map[string]int) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("the reference run emitted no %s: the workload does not exercise them", what)
	}
	missing, dup, extra := 0, 0, 0
	for id := range want {
		switch n := got[id]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
	}
	for id := range got {
		if want[id] == 0 {
			extra++
		}
	}
	if missing+dup+extra > 0 {
		t.Errorf("%s: %d missing, %d duplicated, %d unexpected (of %d)", what, missing, dup, extra, len(want))
	}
}

func createTopics(t testing.TB, c kafkax.Config) {
	cl, err := kgo.NewClient(c.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := kafkax.CreateTopics(context.Background(), adm, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adm.DeleteTopics(context.Background(), c.Topics.Outputs()...) })
}

// compareStates fails on any account whose state differs.
func compareStates(t testing.TB, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d accounts, want %d", len(got), len(want))
	}
	bad := 0
	for a, w := range want {
		if got[a] != w {
			bad++
			if bad <= 5 {
				t.Errorf("account %s: state differs from the undisturbed run", a)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d accounts differ", bad, len(want))
	}
}

// checkDLQ asserts every bad input is dead-lettered exactly once.
func (h *harness) checkDLQ(want int) {
	h.t.Helper()
	recs := testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.DLQ, want, 60*time.Second)
	time.Sleep(time.Second)
	recs = append(recs, testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.DLQ, 0, time.Second)...)
	seen := map[string]int{}
	for _, r := range recs {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		seen[fmt.Sprintf("%d@%d", d.Partition, d.Offset)]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if len(seen) != want || dups > 0 {
		// name the inputs that should be there and are not
		var missing []string
		for _, r := range testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.Events, 1<<30, 10*time.Second) {
			ev, err := h.codec.DecodeEvent(context.Background(), r.Value)
			if err != nil {
				continue
			}
			bad := false
			switch b := ev.Body.(type) {
			case *event.InvoiceIssued:
				bad = b.Amount <= 0
			case *event.PaymentReceived:
				bad = b.Amount <= 0
			}
			if k := fmt.Sprintf("%d@%d", r.Partition, r.Offset); bad && seen[k] == 0 {
				missing = append(missing, k+" "+ev.ID)
			}
		}
		h.t.Fatalf("DLQ holds %d distinct inputs (%d duplicated), want %d each once; missing: %v", len(seen), dups, want, missing)
	}
}

// stores runs f against standalone Redis and against the 3-master cluster.
func stores(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Run("redis", func(t *testing.T) {
		h := newHarness(t, 6)
		h.env = fullEnv(t)
		f(t, h)
	})
	t.Run("redis-cluster", func(t *testing.T) {
		h := newHarness(t, 6)
		h.env = fullEnv(t)
		h.rdb, h.pref = testkit.RedisClusterClient(t)
		f(t, h)
	})
}

// TestRedisFlushedMidRun: the partition state is deleted from Redis while the
// processor runs; it restores from the changelog and ends equal to an
// undisturbed run.
func TestRedisFlushedMidRun(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		recs := h.workload(1, 20000, 500, 97)
		stop := h.start("a")
		h.produceAll(recs[:10000])
		h.waitCaughtUp(h.group, 60*time.Second)
		testkit.DeletePrefix(h.rdb, h.pref) // Redis "lost" everything of ours
		h.produceAll(recs[10000:])
		h.produceAll(h.ticks(t0.Add(200 * 24 * time.Hour)))
		h.waitCaughtUp(h.group, 60*time.Second)
		stop()
		h.matchesReference(t)
		h.checkDLQ(20000 / 97)
	})
}

// TestTwoInstances: two processors share the group; one is stopped and
// started again during the run. Same final state, no duplicates.
func TestTwoInstances(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		recs := h.workload(2, 30000, 800, 89)
		stopA := h.start("a")
		stopB := h.start("b")
		h.produceAll(recs[:10000])
		time.Sleep(500 * time.Millisecond)
		stopB()
		h.produceAll(recs[10000:20000])
		stopB = h.start("b")
		h.produceAll(recs[20000:])
		h.waitCaughtUp(h.group, 90*time.Second)
		stopA()
		stopB()
		h.matchesReference(t)
		h.checkDLQ(30000 / 89)
	})
}

// TestCrashSIGKILL: >= 200k events while `arrears run` is killed with SIGKILL
// at 10+ random moments and restarted. Afterwards Redis equals an undisturbed
// run and every rejected input is in the DLQ exactly once.
func TestCrashSIGKILL(t *testing.T) {
	t.Parallel() // the longest tests of the package (own topics, prefix, no listener): they overlap in CI
	h := newHarness(t, 6)
	h.env = fullEnv(t)
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
		"ARREARS_PROCESSOR_TIME=simulated",
		"ARREARS_REDIS_ADDRS="+testkit.RedisAddr,
		"ARREARS_REDIS_PREFIX="+h.pref,
		"ARREARS_PROCESSOR_GROUP_ID="+h.group,
		"ARREARS_PROCESSOR_TRANSACTIONAL_ID="+h.group+"-crash",
		"ARREARS_PROCESSOR_MAX_POLL_RECORDS=3000",
		"ARREARS_HTTP_LISTEN=",
		"ARREARS_LOG_LEVEL=warn",
		"ARREARS_PROCESSOR_SESSION_TIMEOUT=6s",
		"ARREARS_CORE_POLICY_DIR=../deploy/policies",
		"ARREARS_CORE_SCORECARD=../deploy/risk/scorecard.yaml",
	)
	logf, err := os.CreateTemp("", "arrears-crash-*.log")
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

	const n = 200000
	recs := h.workload(3, n, 5000, 499)
	cmd := startProc()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < len(recs); i += 10000 {
			h.produceAll(recs[i:min(i+10000, len(recs))])
			time.Sleep(150 * time.Millisecond)
		}
		h.produceAll(h.ticks(t0.Add(365 * 24 * time.Hour)))
	}()
	r := rand.New(rand.NewPCG(42, 42))
	kills := 0
	for kills < 12 {
		time.Sleep(time.Duration(200+r.IntN(600)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		kills++
		cmd = startProc()
	}
	<-done
	h.waitCaughtUp(h.group, 240*time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	t.Logf("killed the processor %d times; log in %s", kills, logf.Name())

	ref := h.matchesReference(t)
	h.checkDLQ(n / 499)
	h.checkLatestStatus()
	t.Logf("%d accounts, %d dunning actions, %d risk events and %d GL entries, each exactly once", len(ref.states), len(ref.actions), len(ref.risk), len(ref.gl))
}

// checkLatestStatus asserts the latest status record per account carries the
// state Redis holds.
func (h *harness) checkLatestStatus() {
	h.t.Helper()
	want := dump(h.t, h.rdb, h.pref, h.kcfg.Partitions)
	recs := testkit.Consume(h.t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 20*time.Second)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Offset < recs[j].Offset })
	latest := map[string]string{}
	for _, r := range recs {
		s, err := h.codec.DecodeStatus(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		latest[s.Account] = string(s.State)
	}
	compareStates(h.t, latest, want)
}

// TestRestoreFromChangelog: with the processors stopped and Redis emptied,
// processor.Restore (`arrears state restore`) rebuilds every account state
// and timer from the compacted status topic.
func TestRestoreFromChangelog(t *testing.T) {
	h := newHarness(t, 4)
	h.env = fullEnv(t)
	stop := h.start("a")
	h.produceAll(h.workload(5, 8000, 300, 0))
	h.waitCaughtUp(h.group, 60*time.Second)
	stop()
	before := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	timers := func() map[string]string {
		out := map[string]string{}
		for p := 0; p < h.kcfg.Partitions; p++ {
			zs, err := h.rdb.ZRangeWithScores(context.Background(), h.pref+":{p"+strconv.Itoa(p)+"}:timers", 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range zs {
				out[z.Member.(string)] = strconv.FormatFloat(z.Score, 'f', 0, 64)
			}
		}
		return out
	}
	timersBefore := timers()
	testkit.DeletePrefix(h.rdb, h.pref)
	n, err := processor.Restore(context.Background(), h.kcfg, redisstore.New(h.rdb, h.pref), h.codec, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != h.kcfg.Partitions {
		t.Errorf("restored %d partitions, want %d", n, h.kcfg.Partitions)
	}
	compareStates(t, dump(t, h.rdb, h.pref, h.kcfg.Partitions), before)
	compareStates(t, timers(), timersBefore)
	if len(timersBefore) == 0 {
		t.Error("no timers before the restore: the workload does not exercise them")
	}
}
