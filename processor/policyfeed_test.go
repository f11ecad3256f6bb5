package processor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

var policyCodec = processor.PolicyCodec{Encode: schemas.EncodePolicy, Decode: schemas.DecodePolicy}

// postpaidVersion is the shipped postpaid policy with another description
// and reminder template: another version of postpaid-standard.
func postpaidVersion(t testing.TB, tag string) policy.File {
	t.Helper()
	b, err := os.ReadFile("../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "description: Consumer postpaid default path", "description: Consumer postpaid "+tag, 1)
	if s == string(b) {
		t.Fatal("postpaid.yaml has no description line to vary")
	}
	return policy.File{Name: "postpaid-" + tag + ".yaml", Data: []byte(s)}
}

func applyAt(t testing.TB, kcfg kafkax.Config, f policy.File, eff, now time.Time) policy.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{f}, eff, now, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Unchanged {
		t.Fatalf("apply %s: %+v", f.Name, out)
	}
	return out[0].Record
}

// actionLines renders every committed action as "id type time policy@version".
func (h *harness) actionLines(kcfg kafkax.Config) []string {
	h.t.Helper()
	var out []string
	for _, r := range testkit.ConsumeWith(h.t, kcfg, kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s@%s", a.ActionID, a.Type, a.Time.UTC().Format(time.RFC3339Nano), a.PolicyName, a.PolicyVersion))
	}
	sort.Strings(out)
	return out
}

// checkStatusVersions: every status record of an account of seg carries
// old before T and new from T (the version governing it at its time).
func (h *harness) checkStatusVersions(seg event.Segment, T time.Time, old, new string) {
	h.t.Helper()
	n := map[string]int{}
	for _, r := range testkit.ConsumeWith(h.t, h.kcfg, h.kcfg.Topics.Status, 1<<30, 5*time.Second) {
		if r.Value == nil {
			continue
		}
		s, err := h.codec.DecodeStatus(context.Background(), r.Value)
		if err != nil {
			h.t.Fatal(err)
		}
		if s.Segment != seg {
			continue
		}
		want := old
		if !s.Time.Before(T) {
			want = new
		}
		if s.PolicyVersion != want {
			h.t.Errorf("status of %s at %s carries policy version %q, want %s", s.Account, s.Time.Format(time.RFC3339), s.PolicyVersion, want)
			return
		}
		n[want]++
	}
	if n[old] == 0 || n[new] == 0 {
		h.t.Errorf("status records: %v, want some on each side of the switch", n)
	}
}

// TestPolicySwitchAtEffectiveFrom (issue 14, done-when 1): a new version of
// the postpaid policy is published with effective_from T while events flow
// through two instances of one group. Every postpaid action before T
// carries the old version, every one at or after T the new; the other
// policies keep their files' versions; and a replay of the same input from
// scratch (fresh group, Redis prefix and output topics, the same
// ar.policies) emits exactly the same actions.
func TestPolicySwitchAtEffectiveFrom(t *testing.T) {
	h := newHarness(t, 4)
	h.env = fullEnv(t)
	h.policies = true
	h.tune = func(c *processor.Config) {
		c.Time = processor.TimeSimulated
		c.PolicyRefresh = 0 // every batch reads the topic to its end first
	}
	v1 := applyAt(t, h.kcfg, postpaidVersion(t, "v1"), t0.Add(-time.Hour), t0.Add(-2*time.Hour))
	T := t0.Add(60 * 24 * time.Hour)
	recs := h.workload(14, 16000, 400, 0)
	split := 0
	for i, r := range recs {
		ev, err := h.codec.DecodeEvent(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.Time.Before(T.Add(-2 * 24 * time.Hour)) {
			split = i
			break
		}
	}
	stopA := h.start("a")
	stopB := h.start("b")
	h.produceAll(recs[:split])
	// published while the instances work through the first half: the
	// producer has written nothing at or after T-2d yet
	v2 := applyAt(t, h.kcfg, postpaidVersion(t, "v2"), T, T.Add(-2*24*time.Hour))
	if v1.Version == v2.Version {
		t.Fatal("the two versions hash the same")
	}
	h.produceAll(recs[split:])
	h.produceAll(h.ticks(t0.Add(200 * 24 * time.Hour)))
	h.waitCaughtUp(h.group, 120*time.Second)
	stopA()
	stopB()

	got := h.actionLines(h.kcfg)
	files := map[string]string{}
	for _, p := range h.env.Policies.Policies() {
		files[p.Name] = p.Version
	}
	before, after := 0, 0
	for _, line := range got {
		f := strings.Fields(line)
		at, err := time.Parse(time.RFC3339Nano, f[2])
		if err != nil {
			t.Fatal(err)
		}
		name, version, _ := strings.Cut(f[3], "@")
		want := files[name]
		if name == v1.Name {
			want = v1.Version
			before++
			if !at.Before(T) {
				want = v2.Version
				before--
				after++
			}
		}
		if version != want {
			t.Errorf("action %s at %s carries %s@%s, want version %s (T %s)", f[0], f[2], name, version, want, T.Format(time.RFC3339))
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("postpaid actions: %d before T, %d after: the workload does not straddle the switch", before, after)
	}
	t.Logf("%d actions, postpaid %d before T (%s) and %d after (%s)", len(got), before, v1.Version, after, v2.Version)
	h.checkStatusVersions(event.Postpaid, T, v1.Version, v2.Version)

	ref := h.referenceRun()
	replay := h.actionLines(ref.kcfg)
	if strings.Join(replay, "\n") != strings.Join(got, "\n") {
		t.Errorf("the replay emitted %d actions, the live run %d, and they differ", len(replay), len(got))
		diff := 0
		for i := 0; i < min(len(got), len(replay)) && diff < 5; i++ {
			if got[i] != replay[i] {
				t.Errorf("live %q, replay %q", got[i], replay[i])
				diff++
			}
		}
	}
}

// TestPolicyFeedTopicLifecycle: with the topic absent the feed syncs to no
// versions (the files decide); once the topic exists, a valid record's
// versions are read, an undecodable or invalid one is skipped; apply
// refuses an effective_from inside the lead time and a second version at
// one instant, and reports a version already in force as unchanged.
func TestPolicyFeedTopicLifecycle(t *testing.T) {
	testkit.Integration(t, "kafka")
	kcfg := kafkax.Defaults()
	kcfg.Brokers = []string{testkit.KafkaAddr}
	kcfg.Topics = kafkax.PrefixedTopics("tpol" + testkit.ID())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	base := fullEnv(t).Policies
	feed, err := processor.NewPolicyFeed(kcfg, base, schemas.DecodePolicy, log)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if changed, err := feed.Sync(ctx); err != nil || changed || feed.Timeline() != nil {
		t.Fatalf("absent topic: changed %v, err %v, timeline %v", changed, err, feed.Timeline())
	}

	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	f := postpaidVersion(t, "v1")
	lead := time.Hour
	if _, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{f}, now.Add(2*lead), now, lead, log); !errors.Is(err, processor.ErrNoPolicyTopic) {
		t.Fatalf("apply without the topic: %v, want ErrNoPolicyTopic (a broker would auto-create it uncompacted)", err)
	}
	createTopics(t, kcfg)
	t.Cleanup(func() { deleteTopic(t, kcfg, kcfg.Topics.Policies) })
	for _, eff := range []time.Time{now.Add(-time.Minute), now.Add(lead - time.Millisecond)} {
		if _, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{f}, eff, now, lead, log); !errors.Is(err, processor.ErrEffectiveTooSoon) {
			t.Errorf("effective %s with lead %s: %v, want ErrEffectiveTooSoon", eff.Sub(now), lead, err)
		}
	}
	bad := policy.File{Name: "bad.yaml", Data: []byte("name: x\nstages: []\nunknown: 1\n")}
	var es policy.Errors
	if _, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{bad}, now.Add(2*lead), now, lead, log); !errors.As(err, &es) {
		t.Errorf("invalid file: %v, want the loader's errors", err)
	}
	// junk, then a record whose version is not its YAML's: both skipped
	p1, _ := policy.Load(f.Data, f.Name)
	mismatch, err := schemas.EncodePolicy(policy.Record{Name: p1.Name, Version: "000000000000", EffectiveFrom: now, AppliedAt: now, YAML: f.Data})
	if err != nil {
		t.Fatal(err)
	}
	produceValues(t, kcfg, kcfg.Topics.Policies, p1.Name, []byte("junk"), mismatch)
	eff := now.Add(2 * lead)
	rec := applyAt(t, kcfg, f, eff, now)
	if _, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{postpaidVersion(t, "v2")}, eff, now, lead, log); !errors.Is(err, processor.ErrEffectiveTaken) {
		t.Errorf("second version at the same instant: %v, want ErrEffectiveTaken", err)
	}
	if out, err := processor.ApplyPolicies(ctx, kcfg, policyCodec, []policy.File{f}, eff.Add(time.Hour), now, lead, log); err != nil || len(out) != 1 || !out[0].Unchanged {
		t.Errorf("the version in force again: %+v %v, want unchanged", out, err)
	}
	// the feed's client cached the topic as absent: it looks again within
	// the metadata's minimum age (franz-go's 5s)
	waitFor(t, "the feed to read the published version", 20*time.Second, func() bool {
		changed, err := feed.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return changed
	})
	tl := feed.Timeline()
	if tl.Len() != 1 {
		t.Fatalf("%d versions, want the one valid", tl.Len())
	}
	if got := tl.At(eff.Add(-time.Millisecond)).Get(p1.Name); got != base.Get(p1.Name) {
		t.Errorf("before effective_from: %s@%s, want the file's", got.Name, got.Version)
	}
	if got := tl.At(eff).Get(p1.Name); got.Version != rec.Version {
		t.Errorf("at effective_from: %s, want %s", got.Version, rec.Version)
	}
	if changed, err := feed.Sync(ctx); err != nil || changed {
		t.Errorf("nothing new: changed %v, err %v", changed, err)
	}
}

func produceValues(t testing.TB, kcfg kafkax.Config, topic, key string, values ...[]byte) {
	t.Helper()
	cl, err := kgo.NewClient(append(kcfg.ClientOpts(), kgo.UnknownTopicRetries(-1))...) // a topic just created
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

func deleteTopic(t testing.TB, kcfg kafkax.Config, topic string) {
	cl, err := kgo.NewClient(kcfg.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	_, _ = kadm.NewClient(cl).DeleteTopics(context.Background(), topic)
}

// TestPolicyConfig: the lead time must exceed max_clock_skew +
// policy_refresh, or a live partition clock could reach a version's
// effective_from before an instance has read it.
func TestPolicyConfig(t *testing.T) {
	c := processor.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	c.PolicyLeadTime = c.MaxClockSkew + c.PolicyRefresh
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "processor.policy_lead_time") {
		t.Errorf("lead = skew + refresh: %v", err)
	}
	c = processor.Defaults()
	c.PolicyRefresh = -time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "processor.policy_refresh") {
		t.Errorf("negative refresh: %v", err)
	}
}

// TestRepairHistory: when a policy's last record lacks a version an
// earlier record holds (two applies that read the topic at the same
// time), repairHistory publishes it again with every version, so the
// compacted topic keeps them all; a complete record is left alone.
func TestRepairHistory(t *testing.T) {
	testkit.Integration(t, "kafka")
	kcfg := testkit.KafkaConfig(t, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	codec := policyCodec
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	rec := func(desc string, eff time.Time) policy.Record {
		y := []byte("name: p\ndescription: " + desc + "\nselection: {segments: [postpaid]}\nmin_overdue: {EUR: \"1\"}\nstages:\n  - {name: s, days_past_due: 1, actions: [{type: suspend}]}\n")
		p, err := policy.Load(y, "p")
		if err != nil {
			t.Fatal(err)
		}
		return policy.Record{Name: "p", Version: p.Version, EffectiveFrom: eff, AppliedAt: at, YAML: y}
	}
	a, b := rec("a", at.Add(time.Hour)), rec("b", at.Add(2*time.Hour)) // b's apply missed a
	cl, err := kgo.NewClient(append(kcfg.ClientOpts(), kgo.UnknownTopicRetries(-1))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, r := range []policy.Record{a, b} {
		v, err := codec.Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: kcfg.Topics.Policies, Key: []byte("p"), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	set, _ := policy.NewSet(mustPolicyOf(t, b))
	for range 2 { // the second finds the record complete
		if err := processor.RepairHistory(ctx, kcfg, codec, cl, set, log); err != nil {
			t.Fatal(err)
		}
	}
	feed, err := processor.NewPolicyFeed(kcfg, nil, codec.Decode, log)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	if _, err := feed.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	last := processor.LatestRecord(feed, "p")
	if f := last.Flatten(); len(f) != 2 || f[0].Version != a.Version || f[1].Version != b.Version {
		t.Errorf("last record holds %d versions, want a then b", len(f))
	}
	if n := len(testkit.ConsumeWith(t, kcfg, kcfg.Topics.Policies, 1<<30, 3*time.Second)); n != 3 {
		t.Errorf("%d records, want the two and one repair", n)
	}
}

func mustPolicyOf(t *testing.T, r policy.Record) *policy.Policy {
	t.Helper()
	p, err := policy.Load(r.YAML, r.Name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
