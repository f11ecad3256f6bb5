package chsink

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/arrears/arrears/processor/group"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// TestSinkPicksUpGroupChangelog: on the real stack, a sink started while
// the configured group changelog does not exist lands everything else,
// says so once (one log line and the unreadable{reason="absent"} gauge at
// 1, however many checks), and when the topic is created later lands its
// records without a restart (the gauge back to 0).
func TestSinkPicksUpGroupChangelog(t *testing.T) {
	h := newHarness(t)
	h.cfg.GroupChangelogRecheck = 200 * time.Millisecond
	topic := h.kcfg.Topics.GroupChangelog
	cl, err := kgo.NewClient(h.kcfg.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if _, err := adm.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, adm, topic, false)

	w := h.buildWorkload("cl", 20)
	h.produceTx(w.records, false)
	stop := h.start()
	h.waitFor(w.want, 60*time.Second)
	time.Sleep(5 * h.cfg.GroupChangelogRecheck) // several checks
	if got := gaugeVec(t, h.reg, "arrears_sink_group_changelog_unreadable", "absent"); got != 1 {
		t.Errorf("unreadable{absent} = %v while the topic does not exist, want 1", got)
	}
	if n := changelogLines(t, h); n != 1 {
		t.Errorf("%d log lines say the group changelog is missing, want exactly 1", n)
	}

	if _, err := adm.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": ptr("compact")}, topic); err != nil {
		t.Fatal(err)
	}
	waitTopic(t, adm, topic, true)
	n, err := (&group.Node{Children: map[string]group.Child{"a:X1": {Version: 1}}, At: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixMilli()}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.produceTx([]*kgo.Record{{Topic: topic, Key: []byte("X"), Value: n}}, false)
	w.want["group_exposure"] = 1
	h.waitFor(w.want, 60*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := gaugeVec(t, h.reg, "arrears_sink_group_changelog_unreadable", "absent"); got != 0 {
		t.Errorf("unreadable{absent} = %v once the topic is consumed, want 0", got)
	}
}

func ptr[T any](v T) *T { return &v }

// waitTopic waits until topic's metadata says it exists (or not).
func waitTopic(t *testing.T, adm *kadm.Client, topic string, exists bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		md, err := adm.ListTopics(context.Background(), topic)
		d, ok := md[topic]
		if err == nil && (ok && d.Err == nil && len(d.Partitions) > 0) == exists {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s exists=%v not reached: %v %+v", topic, exists, err, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// changelogLines counts the sink's log lines about an unreadable group
// changelog.
func changelogLines(t *testing.T, h *harness) int {
	n := 0
	for _, l := range h.logs.lines(t, slog.LevelInfo) {
		if strings.Contains(fmt.Sprint(l["msg"]), "group changelog") && fmt.Sprint(l["topic"]) == h.kcfg.Topics.GroupChangelog &&
			!strings.Contains(fmt.Sprint(l["msg"]), "readable: landing") {
			n++
		}
	}
	return n
}

// gaugeVec reads the gauge name{reason} from reg (0 when absent).
func gaugeVec(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

// TestSinkWaitsForChangelogACL: on a broker with ACLs (kfake: SASL and
// ACLs, ClickHouse the real one) where the sink's principal may not Read
// the group changelog (no ACL on it: its metadata is refused; or Describe
// only: the metadata is there, the authorized operations lack Read), the
// sink lands everything else, logs one Error and sets
// unreadable{reason="unauthorized"} to 1; once Read is granted it lands
// the changelog without a restart.
func TestSinkWaitsForChangelogACL(t *testing.T) {
	for _, describe := range []bool{false, true} {
		t.Run(fmt.Sprint("describe=", describe), func(t *testing.T) { testChangelogACL(t, describe) })
	}
}

func testChangelogACL(t *testing.T, describe bool) {
	h := newHarness(t)
	h.cfg.GroupChangelogRecheck = 200 * time.Millisecond
	topics := kafkax.PrefixedTopics("t" + testkit.ID())
	all := append(append(topics.Inputs(), topics.Outputs()...), append([]string{topics.Policies}, topics.Groups()...)...)
	literal := func(res kmsg.ACLResourceType, name string, op kmsg.ACLOperation) kfake.ACL {
		return kfake.ACL{Resource: res, Name: name, Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: op, Allow: true}
	}
	acls := []kfake.ACL{literal(kmsg.ACLResourceTypeGroup, h.cfg.GroupID, kmsg.ACLOperationRead),
		// the sink's own dead letters (the workload's undecodable records)
		literal(kmsg.ACLResourceTypeTopic, topics.DLQ, kmsg.ACLOperationWrite),
		literal(kmsg.ACLResourceTypeCluster, "kafka-cluster", kmsg.ACLOperationIdempotentWrite)}
	if describe {
		acls = append(acls, literal(kmsg.ACLResourceTypeTopic, topics.GroupChangelog, kmsg.ACLOperationDescribe))
	}
	for _, tp := range all {
		if tp != topics.GroupChangelog {
			acls = append(acls, literal(kmsg.ACLResourceTypeTopic, tp, kmsg.ACLOperationRead))
		}
	}
	const mech = "SCRAM-SHA-512"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, all...), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser(mech, "admin", "admin-pw"), kfake.User(mech, "sink", "sink-pw", acls...))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	as := func(user, pw string) kafkax.Config {
		k := kafkax.Defaults()
		k.Brokers, k.Topics, k.Partitions = c.ListenAddrs(), topics, 3
		k.SASL = kafkax.SASL{Mechanism: kafkax.MechanismScramSHA512, Username: user, Password: pw}
		return k
	}
	admin := as("admin", "admin-pw")
	h.kcfg = admin // the producers
	w := h.buildWorkload("acl", 10)
	n, err := (&group.Node{Children: map[string]group.Child{"a:X1": {Version: 1}}, At: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC).UnixMilli()}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.produceTx(append(w.records, &kgo.Record{Topic: topics.GroupChangelog, Key: []byte("X"), Value: n}), false)

	h.kcfg = as("sink", "sink-pw")
	stop := h.start()
	h.waitFor(w.want, 60*time.Second)
	time.Sleep(5 * h.cfg.GroupChangelogRecheck)
	if got := gaugeVec(t, h.reg, "arrears_sink_group_changelog_unreadable", "unauthorized"); got != 1 {
		t.Errorf("unreadable{unauthorized} = %v without Read on the changelog, want 1", got)
	}
	var errs int
	for _, l := range h.logs.lines(t, slog.LevelError) {
		if strings.Contains(fmt.Sprint(l["msg"]), "may not read the group changelog") {
			errs++
		}
	}
	if errs != 1 || changelogLines(t, h) != 1 {
		t.Errorf("%d Error lines (%d in all) say the sink may not read the group changelog, want exactly 1", errs, changelogLines(t, h))
	}
	if got, _ := h.counts(); got["group_exposure"] != 0 {
		t.Fatalf("group_exposure has %d rows before Read is granted", got["group_exposure"])
	}

	cl, err := kgo.NewClient(admin.ClientOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	grant := kadm.NewACLs().Allow("User:sink").Topics(topics.GroupChangelog).Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := kadm.NewClient(cl).CreateACLs(context.Background(), grant)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	w.want["group_exposure"] = 1
	h.waitFor(w.want, 60*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := gaugeVec(t, h.reg, "arrears_sink_group_changelog_unreadable", "unauthorized"); got != 0 {
		t.Errorf("unreadable{unauthorized} = %v once Read is granted, want 0", got)
	}
}
