package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/arrears/arrears/processor/faults"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/schemas"
)

// confluentID is the schema id of the Confluent-framed input: the test
// stack has no registry, so codec.known_ids maps it to arrears.ArEvent.
const confluentID = 4242

// account is one account of the book and what the test expects of it.
type account struct {
	ID      string  `json:"id"`
	Segment string  `json:"segment"`
	Invoice string  `json:"invoice"`
	Paid    *string `json:"paid"`
	Payer   string  `json:"payer"`   // default | murmur2: which producer pays
	Framing string  `json:"framing"` // single | confluent
	// Overdue is the overdue amount of the one reminder expected, "" for
	// none (the invoice was paid in full).
	Overdue string `json:"-"`
}

// plan is what producer.py reads on stdin.
type plan struct {
	Brokers     string     `json:"brokers"`
	Topic       string     `json:"topic"`
	Partitions  int        `json:"partitions"`
	Start       string     `json:"start"`
	TickDays    int        `json:"tick_days"`
	ConfluentID int        `json:"confluent_id,omitempty"`
	Registry    string     `json:"registry,omitempty"`
	Accounts    []*account `json:"accounts"`
}

// newBook builds the accounts: unpaid, fully and partly paid, in both
// framings, some paid by the murmur2 producer. Those (split) accounts' ids are
// chosen so that librdkafka's CRC32 and murmur2 put them on different
// partitions: their invoice and their payment arrive on two partitions.
func newBook(kc kafkax.Config) plan {
	run := testkit.ID()
	n := int32(kc.Partitions)
	pick := func(name string, split bool) string {
		for i := 0; ; i++ {
			id := fmt.Sprintf("IO-%s-%s-%d", run, name, i)
			if !split || crc32Partition([]byte(id), n) != kafkax.PartitionFor([]byte(id), n) {
				return id
			}
		}
	}
	paid := func(s string) *string { return &s }
	type spec struct {
		name, paid, payer, framing, overdue string
	}
	var accts []*account
	for _, s := range []spec{
		{"unpaid-a", "", "default", "single", "120.0000"},
		{"unpaid-b", "", "default", "single", "120.0000"},
		{"unpaid-c", "", "default", "confluent", "120.0000"},
		{"paid-a", "120.00", "default", "single", ""},
		{"paid-b", "120.00", "default", "confluent", ""},
		{"partial-a", "50.00", "default", "single", "70.0000"},
		{"split-paid-a", "120.00", "murmur2", "single", ""},
		{"split-paid-b", "120.00", "murmur2", "single", ""},
		{"split-paid-c", "120.00", "murmur2", "confluent", ""},
		{"split-partial-a", "50.00", "murmur2", "single", "70.0000"},
	} {
		a := &account{ID: pick(s.name, s.payer == "murmur2"), Segment: "postpaid", Invoice: "120.00",
			Payer: s.payer, Framing: s.framing, Overdue: s.overdue}
		if s.paid != "" {
			a.Paid = paid(s.paid)
		}
		accts = append(accts, a)
	}
	// Invoices due on day 14; the postpaid reminder comes at 3 days past due
	// (day 17), the second at 10 (day 24): 21 days of ticks give exactly one
	// reminder to each account that still owes.
	return plan{Brokers: strings.Join(kc.Brokers, ","), Topic: kc.Topics.Events, Partitions: kc.Partitions,
		Start: "2026-03-02T12:00:00Z", TickDays: 21, ConfluentID: confluentID, Accounts: accts}
}

// crc32Partition is librdkafka's default (consistent_random) placement of a
// keyed record: CRC-32 (IEEE) of the key modulo the partition count.
func crc32Partition(key []byte, n int32) int32 { return int32(crc32.ChecksumIEEE(key) % uint32(n)) }

// TestIndependentClients: a book written by Python confluent-kafka +
// fastavro (default partitioner, single-object and Confluent framing, some
// payments by a murmur2 producer) is processed by `arrears run`; kafkajs +
// avsc (read_committed) decode every action and risk event, Apache Avro for
// Java and fastavro decode the actions, and each account got exactly the
// reminder it owes (none when paid, the rest when partly paid), with no dead
// letter and one state per account.
func TestIndependentClients(t *testing.T) {
	testkit.Integration(t, "kafka", "redis")
	cl := install(t)
	// No registry: outputs in single-object encoding; the Confluent-framed
	// input's id is mapped to arrears.ArEvent by codec.known_ids.
	t.Run("single-object", func(t *testing.T) { runBook(t, cl, "") })
	// A Schema Registry (franz-go's srfake, over HTTP): the Python producer
	// registers ar_event.avsc and frames with the id it gets; the outputs are
	// Confluent-framed and the consumer checks the registry's schemas.
	t.Run("registry", func(t *testing.T) {
		reg := srfake.New()
		t.Cleanup(reg.Close)
		runBook(t, cl, reg.URL())
	})
}

// runBook runs the book through a processor of its own (own topics, group
// and Redis prefix), with the Schema Registry at registry or none.
func runBook(t *testing.T, cl clients, registry string) {
	s := faults.NewStack(t, []string{testkit.KafkaAddr}, 6)
	book := newBook(s.Kafka)
	if registry == "" {
		cfg := filepath.Join(t.TempDir(), "arrears.yaml")
		known := fmt.Sprintf("codec:\n  known_ids:\n    %d: arrears.ArEvent\n", confluentID)
		if err := os.WriteFile(cfg, []byte(known), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("ARREARS_CONFIG", cfg) // the child inherits it; kafka.compression stays the default
	} else {
		book.Registry, book.ConfluentID = registry, 0
		codec, err := schemas.New(schemas.Config{RegistryURL: registry})
		if err != nil {
			t.Fatal(err)
		}
		s.Codec = codec // the test's own reading of the Confluent-framed outputs
		t.Setenv("ARREARS_CODEC_REGISTRY_URL", registry)
		t.Setenv("REGISTRY_URL", registry) // consumer.js
	}
	proc := s.Run("run", faults.RunOpts{})
	planJSON, err := json.Marshal(book)
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"book", "payments", "ticks"} {
		out, _ := cl.py(t, planJSON, "producer.py", phase, schemaDir)
		checkPlacement(t, phase, jsonLines(t, "producer.py", out), int32(book.Partitions))
		if !s.WaitCaughtUp(s.Group, 3*time.Minute, s.Kafka.Topics.Events) ||
			!testkit.WaitWakeupsFired(s.Redis, s.Prefix, book.Partitions, time.Minute) {
			t.Fatalf("the processor did not consume the %s phase\n%s", phase, proc.LogTail(40))
		}
	}
	actions, risk := outputs(t, s)
	goIDs := s.Collect(s.Kafka.Topics, s.Prefix).Actions

	lines, stderr, exit := cl.consume(t, strings.Join(s.Kafka.Brokers, ","), len(actions)+len(risk),
		map[string]string{s.Kafka.Topics.Actions: "dunning_action.avsc", s.Kafka.Topics.Risk: "risk_event.avsc"})
	if exit != 0 {
		t.Fatalf("consumer.js exited %d\n%s\n%s", exit, stderr, tail(fmt.Sprint(lines), 10))
	}
	byTopic := map[string][]map[string]any{}
	for _, l := range lines {
		byTopic[str(l, "topic")] = append(byTopic[str(l, "topic")], l)
		if framed := str(l, "schema_id") != ""; framed != (registry != "") {
			t.Fatalf("%s record %s/%s: Confluent-framed %v with registry %q", str(l, "topic"), str(l, "partition"), str(l, "offset"), framed, registry)
		}
	}
	jsActions := values(byTopic[s.Kafka.Topics.Actions])
	checkActions(t, book.Accounts, jsActions, goIDs)
	checkRisk(t, book.Accounts, values(byTopic[s.Kafka.Topics.Risk]))
	if registry == "" {
		otherDecoders(t, cl, actions, jsActions, str(byTopic[s.Kafka.Topics.Actions][0], "fingerprint"))
	}
	checkStates(t, s, book)
}

// outputs checks that nothing was dead-lettered and that the outputs are
// compressed with the default codec, and returns every committed action
// and risk event.
func outputs(t *testing.T, s *faults.Stack) (actions, risk []*kgo.Record) {
	t.Helper()
	if dl := testkit.Consume(t, s.Kafka.Brokers, s.Kafka.Topics.DLQ, 1<<30, 3*time.Second); len(dl) > 0 {
		for _, r := range dl[:min(len(dl), 5)] {
			d, err := s.Codec.DecodeDeadLetter(context.Background(), r.Value)
			t.Errorf("dead letter: code %s reason %q (%v)", d.Code, d.Reason, err)
		}
		t.Fatalf("%d records of the Python producers were dead-lettered; every one must be accepted", len(dl))
	}
	actions = testkit.Consume(t, s.Kafka.Brokers, s.Kafka.Topics.Actions, 1<<30, 5*time.Second)
	risk = testkit.Consume(t, s.Kafka.Brokers, s.Kafka.Topics.Risk, 1<<30, 3*time.Second)
	codecs := map[uint8]int{}
	for _, r := range append(slices.Clone(actions), risk...) {
		codecs[r.Attrs.CompressionType()]++
	}
	// kafka.compression's default, gzip, a codec kafkajs reads without a
	// plugin; franz-go sends a batch that gzip would not shrink as is (0).
	t.Logf("%d actions and %d risk events; records by batch codec: %v", len(actions), len(risk), codecs)
	if len(codecs) > codecs[0]+codecs[1] || codecs[1] == 0 {
		t.Errorf("records by batch codec %v: want gzip (1), or none (0) for a batch too small to shrink", codecs)
	}
	return actions, risk
}

// otherDecoders: Apache Avro for Java and fastavro decode the same
// single-object action records as avsc, computing the same fingerprint.
func otherDecoders(t *testing.T, cl clients, actions []*kgo.Record, jsActions []map[string]any, fp string) {
	t.Helper()
	files := writeValues(t, actions)
	schema := filepath.Join(schemaDir, "dunning_action.avsc")
	javaOut, javaErr := cl.java(t, "dunning_action.avsc", files...)
	pyOut, pyErr := cl.py(t, nil, "decode.py", append([]string{schema}, files...)...)
	for name, e := range map[string]string{"Decode.java": javaErr, "decode.py": pyErr} {
		if !strings.Contains(e, "fingerprint "+fp) {
			t.Errorf("%s computed another fingerprint than avsc's %s: %s", name, fp, e)
		}
	}
	for name, out := range map[string]string{"Decode.java": javaOut, "decode.py": pyOut} {
		if got := jsonLines(t, name, out); !sameActions(got, jsActions) {
			t.Errorf("%s decoded the actions differently from avsc:\n%s\navsc:\n%v", name, tail(out, 5), jsActions[:min(len(jsActions), 3)])
		}
	}
}

// checkPlacement: the default producer put every keyed record where
// librdkafka's CRC32 does, the murmur2 producer where Kafka's default does,
// and each ClockTick on its own partition (so the split accounts are split).
func checkPlacement(t testing.TB, phase string, lines []map[string]any, n int32) {
	t.Helper()
	if len(lines) == 0 {
		t.Fatalf("producer.py %s delivered nothing", phase)
	}
	for _, l := range lines {
		key, id := str(l, "key"), str(l, "id")
		part, err := strconv.Atoi(str(l, "partition"))
		if err != nil {
			t.Fatalf("producer.py %s: partition of %s: %v", phase, id, err)
		}
		want := crc32Partition([]byte(key), n)
		switch {
		case phase == "ticks":
			want = int32(-1)
			if f := strings.Split(id, "-"); len(f) == 3 {
				if p, err := strconv.Atoi(f[1]); err == nil {
					want = int32(p)
				}
			}
		case phase == "payments":
			want = kafkax.PartitionFor([]byte(key), n)
		}
		if int32(part) != want {
			t.Fatalf("producer.py %s: %s went to partition %d, want %d", phase, id, part, want)
		}
	}
}

// values returns the decoded values of the consumer's lines.
func values(lines []map[string]any) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if v, ok := l["value"].(map[string]any); ok {
			out = append(out, v)
		}
	}
	return out
}

// checkActions: every action avsc decoded is one Go's codec decoded (each
// once), and each account has exactly the reminder it owes.
func checkActions(t testing.TB, accts []*account, got []map[string]any, goIDs map[string]int) {
	t.Helper()
	if len(got) != len(goIDs) {
		t.Errorf("avsc decoded %d actions, Go's codec %d distinct", len(got), len(goIDs))
	}
	by := map[string][]map[string]any{}
	for _, a := range got {
		if goIDs[str(a, "action_id")] != 1 {
			t.Errorf("action %s: read %d times by Go's codec, want once", str(a, "action_id"), goIDs[str(a, "action_id")])
		}
		by[str(a, "account_id")] = append(by[str(a, "account_id")], a)
	}
	known := map[string]bool{}
	for _, acct := range accts {
		known[acct.ID] = true
		as := by[acct.ID]
		if acct.Overdue == "" {
			if len(as) > 0 {
				t.Errorf("%s paid in full (payer %s, %s framing) got %d actions, first %s %s", acct.ID, acct.Payer, acct.Framing,
					len(as), str(as[0], "action_type"), str(as[0], "stage"))
			}
			continue
		}
		if len(as) != 1 {
			t.Errorf("%s owes %s: got %d actions, want one reminder", acct.ID, acct.Overdue, len(as))
			continue
		}
		a := as[0]
		want := map[string]string{"action_type": "NOTIFY", "stage": "reminder", "channel": "email",
			"template": "postpaid_reminder", "currency": "EUR", "overdue_amount": acct.Overdue, "days_past_due": "3"}
		for k, v := range want {
			if str(a, k) != v {
				t.Errorf("%s reminder: %s = %q, want %q", acct.ID, k, str(a, k), v)
			}
		}
		if ids, _ := a["invoice_ids"].([]any); len(ids) != 1 || ids[0] != acct.ID+"-INV-1" {
			t.Errorf("%s reminder: invoice_ids %v, want [%s-INV-1]", acct.ID, a["invoice_ids"], acct.ID)
		}
	}
	for id := range by {
		if !known[id] {
			t.Errorf("an action for %q, an account not in the book", id)
		}
	}
}

// checkRisk: avsc decoded a first score for every account of the book.
func checkRisk(t testing.TB, accts []*account, got []map[string]any) {
	t.Helper()
	first := map[string]bool{}
	for _, r := range got {
		pd, err := strconv.ParseFloat(str(r, "pd"), 64)
		if err != nil || pd < 0 || pd > 1 || str(r, "tier") == "" || str(r, "model_version") == "" {
			t.Errorf("risk event %s: pd %q tier %q model %q", str(r, "event_id"), str(r, "pd"), str(r, "tier"), str(r, "model_version"))
		}
		if r["previous_tier"] == nil {
			first[str(r, "account_id")] = true
		}
	}
	for _, a := range accts {
		if !first[a.ID] {
			t.Errorf("%s: no first risk event (previous_tier null) among the %d avsc decoded", a.ID, len(got))
		}
	}
}

// sameActions: two decoders agree on every action's id, account, type,
// stage and overdue amount.
func sameActions(a, b []map[string]any) bool {
	key := func(m map[string]any) string {
		return strings.Join([]string{str(m, "action_id"), str(m, "account_id"), str(m, "action_type"), str(m, "stage"), str(m, "overdue_amount")}, "|")
	}
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return len(a) > 0 && slices.Equal(ka, kb)
}

// writeValues writes each record's value to a file of its own.
func writeValues(t testing.TB, recs []*kgo.Record) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for i, r := range recs {
		f := filepath.Join(dir, fmt.Sprintf("%04d.bin", i))
		if err := os.WriteFile(f, r.Value, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// checkStates: each account's state lives on exactly one partition.
func checkStates(t testing.TB, s *faults.Stack, b plan) {
	t.Helper()
	where := map[string][]int{}
	for p := range b.Partitions {
		ids, err := s.Redis.HKeys(context.Background(), s.Prefix+":{p"+strconv.Itoa(p)+"}:acct").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			where[id] = append(where[id], p)
		}
	}
	for _, a := range b.Accounts {
		if ps := where[a.ID]; len(ps) != 1 {
			t.Errorf("%s (payer %s): state on partitions %v, want exactly one", a.ID, a.Payer, ps)
		}
	}
}
