package processor_test

import (
	"context"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/testkit"
)

// crc32Partition is librdkafka's default partitioner (consistent_random)
// for a keyed record: CRC32 (IEEE) of the key modulo the partition count.
func crc32Partition(key []byte, n int) int32 {
	return int32(crc32.ChecksumIEEE(key) % uint32(n))
}

// mixedBook is a small postpaid book in phases: the accounts (from a
// murmur2 producer), two invoices each (billing's producer), payments in
// full for three accounts of four (the payment gateway's murmur2
// producer), then daily ticks for 50 days, past the fee (17 days past due)
// and barring (21) stages of the unpaid ones.
type mixedBook struct {
	accounts []string
	upserts  []event.Event
	invoices []event.Event
	payments []event.Event
	paid     map[string]bool
}

func newMixedBook(n int) mixedBook {
	b := mixedBook{paid: map[string]bool{}}
	due := event.DateOf(t0) + 14
	for i := range n {
		a := fmt.Sprintf("MIX-%02d", i)
		b.accounts = append(b.accounts, a)
		b.upserts = append(b.upserts, event.Event{ID: a + "-up", Time: t0, Source: "crm", Account: a, Body: &event.AccountUpserted{
			Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin",
			Consents: []event.Channel{event.Email, event.SMS, event.Letter}}})
		b.invoices = append(b.invoices, invoice(a, a+"-INV-1", "100.00", due), invoice(a, a+"-INV-2", "50.00", due))
		if i%4 != 0 {
			b.paid[a] = true
			p := payment(a, a+"-PAY", "150.00")
			p.Time = t0.Add(5 * 24 * time.Hour)
			b.payments = append(b.payments, p)
		}
	}
	return b
}

// run feeds the book phase by phase, each phase processed before the next
// is produced; the invoices go through produceInvoices.
func (b mixedBook) run(h *harness, produceInvoices func([]*kgo.Record)) {
	h.t.Helper()
	h.produceAll(recordsOf(h, b.upserts))
	h.waitCaughtUp(h.group, 60*time.Second)
	produceInvoices(recordsOf(h, b.invoices))
	h.waitCaughtUp(h.group, 60*time.Second)
	h.produceAll(recordsOf(h, b.payments))
	h.waitCaughtUp(h.group, 60*time.Second)
	var ticks []*kgo.Record
	for d := 1; d <= 50; d++ {
		ticks = append(ticks, h.ticks(t0.Add(time.Duration(d)*24*time.Hour))...)
	}
	h.produceAll(ticks)
	h.waitCaughtUp(h.group, 60*time.Second)
}

// produceCRC32 writes keyed records where librdkafka's default partitioner
// puts them.
func (h *harness) produceCRC32(recs []*kgo.Record) {
	h.t.Helper()
	for _, r := range recs {
		r.Partition = crc32Partition(r.Key, h.kcfg.Partitions)
	}
	h.produceManual(recs)
}

// produceManual writes records to the events topic on the partition set
// on each.
func (h *harness) produceManual(recs []*kgo.Record) {
	h.t.Helper()
	for _, r := range recs {
		r.Topic = h.kcfg.Topics.Events
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.kcfg.Brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		h.t.Fatal(err)
	}
}

// misroutedInvoices counts the book's invoices whose two partitioners
// disagree, and the accounts they belong to.
func (b mixedBook) misroutedInvoices(n int) (invoices int, accounts map[string]bool) {
	accounts = map[string]bool{}
	for _, e := range b.invoices {
		k := []byte(e.Account)
		if crc32Partition(k, n) != kafkax.PartitionFor(k, int32(n)) {
			invoices++
			accounts[e.Account] = true
		}
	}
	return invoices, accounts
}

// TestMixedPartitioners: an account's invoices come from a producer with
// librdkafka's default partitioner (CRC32) and its payments from one with
// Kafka's murmur2. Every misrouted invoice is forwarded once to its key's
// partition: the final states equal a run where every record came by
// murmur2, each account has status records on one partition only, paid
// accounts get no fee and no barring, the metric counts exactly the
// forwarded records and nothing is dead-lettered.
func TestMixedPartitioners(t *testing.T) {
	const parts = 6
	book := newMixedBook(24)
	forwarded, split := book.misroutedInvoices(parts)
	if len(split) < 3 || len(split) == len(book.accounts) {
		t.Fatalf("%d of %d accounts have partitioners that disagree: the book must have both kinds", len(split), len(book.accounts))
	}

	ref := newHarness(t, parts)
	ref.env = policyEnv(t)
	stopRef := ref.start("ref")
	book.run(ref, ref.produceAll)
	stopRef()

	h := newHarness(t, parts)
	h.env = policyEnv(t)
	reg := prometheus.NewRegistry()
	h.reg = reg
	stop := h.start("a")
	book.run(h, h.produceCRC32)
	stop()

	got := dump(t, h.rdb, h.pref, parts)
	compareStates(t, got, dump(t, ref.rdb, ref.pref, parts))
	compareActions(t, h.actionIDs(), ref.actionIDs())
	h.checkOwnedOnce(book.accounts)

	fees, bars := map[string]int{}, map[string]int{}
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Actions, 1<<30, 5*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		switch a.Type {
		case event.ActionFee:
			fees[a.Account]++
		case event.ActionBarOutgoing:
			bars[a.Account]++
		}
	}
	for _, a := range book.accounts {
		switch {
		case book.paid[a] && fees[a]+bars[a] > 0:
			t.Errorf("%s paid in full but got %d fees and %d barrings", a, fees[a], bars[a])
		case !book.paid[a] && (fees[a] != 1 || bars[a] != 1):
			t.Errorf("%s did not pay: got %d fees and %d barrings, want 1 each", a, fees[a], bars[a])
		}
	}

	if n := misroutedCount(t, reg, "forward"); n != float64(forwarded) {
		t.Errorf("arrears_processor_misrouted_total{action=forward} = %v, want %d (the invoices CRC32 put elsewhere)", n, forwarded)
	}
	if n := misroutedCount(t, reg, "dead_letter"); n != 0 {
		t.Errorf("arrears_processor_misrouted_total{action=dead_letter} = %v, want 0", n)
	}
	if dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1, 3*time.Second); len(dlq) != 0 {
		t.Errorf("DLQ holds %d records, want none", len(dlq))
	}
	// the input holds each record once, each misrouted invoice twice
	// (where it landed and its forwarded copy), and nothing forwarded twice
	ins := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Events, 1<<30, 5*time.Second)
	copies := 0
	for _, r := range ins {
		for _, hd := range r.Headers {
			if hd.Key == processor.HeaderForwardedFrom {
				copies++
				if r.Partition != kafkax.PartitionFor(r.Key, parts) {
					t.Errorf("forwarded copy from %s is on partition %d, not its key's %d", hd.Value, r.Partition, kafkax.PartitionFor(r.Key, parts))
				}
			}
		}
	}
	if copies != forwarded {
		t.Errorf("the input holds %d forwarded copies, want %d", copies, forwarded)
	}
	t.Logf("%d accounts, %d split by the two partitioners, %d invoices forwarded", len(book.accounts), len(split), forwarded)
}

// TestMisroutedDeadLetter: with processor.misrouted: dead-letter a
// misrouted invoice is dead-lettered MISROUTED, naming the partition it is
// on and the one its key belongs to, and is applied nowhere.
func TestMisroutedDeadLetter(t *testing.T) {
	const parts = 4
	book := newMixedBook(12)
	want, split := book.misroutedInvoices(parts)
	if len(split) == 0 || len(split) == len(book.accounts) {
		t.Fatalf("%d of %d accounts split: the book must have both kinds", len(split), len(book.accounts))
	}
	h := newHarness(t, parts)
	h.tune = func(c *processor.Config) { c.Misrouted = processor.MisroutedDeadLetter }
	reg := prometheus.NewRegistry()
	h.reg = reg
	stop := h.start("a")
	defer stop()
	h.produceAll(recordsOf(h, book.upserts))
	h.waitCaughtUp(h.group, 60*time.Second)
	h.produceCRC32(recordsOf(h, book.invoices))
	h.waitCaughtUp(h.group, 60*time.Second)

	dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, want, 30*time.Second)
	dlq = append(dlq, testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 0, time.Second)...)
	if len(dlq) != want {
		t.Fatalf("DLQ holds %d records, want %d (each misrouted invoice once)", len(dlq), want)
	}
	for _, r := range dlq {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		owner := kafkax.PartitionFor(d.Key, parts)
		if d.Code != "MISROUTED" || !strings.Contains(d.Reason, "partition "+strconv.Itoa(int(d.Partition))) ||
			!strings.Contains(d.Reason, "partition "+strconv.Itoa(int(owner))+" of "+strconv.Itoa(parts)) {
			t.Errorf("dead letter %s (%s), want MISROUTED naming partitions %d and %d", d.Code, d.Reason, d.Partition, owner)
		}
	}
	if n := misroutedCount(t, reg, "dead_letter"); n != float64(want) {
		t.Errorf("arrears_processor_misrouted_total{action=dead_letter} = %v, want %d", n, want)
	}
	if n := misroutedCount(t, reg, "forward"); n != 0 {
		t.Errorf("arrears_processor_misrouted_total{action=forward} = %v, want 0", n)
	}
	for _, a := range book.accounts {
		st := h.state(a)
		if st == nil {
			t.Fatalf("%s has no state", a)
		}
		open := len(st.Status(t0).Balances) > 0 && st.Status(t0).Balances[0].Open != 0
		if open == split[a] {
			t.Errorf("%s: open balance %v, want %v (its invoices were misrouted: %v)", a, open, !split[a], split[a])
		}
	}
	h.checkOwnedOnce(book.accounts)
}

// recordsOf encodes events as keyed records.
func recordsOf(h *harness, evs []event.Event) []*kgo.Record {
	recs := make([]*kgo.Record, len(evs))
	for i, e := range evs {
		recs[i] = h.binary(e)
	}
	return recs
}

// checkOwnedOnce asserts each account's state is in Redis on its key's
// murmur2 partition only, and its status records are all on that partition.
func (h *harness) checkOwnedOnce(accounts []string) {
	h.t.Helper()
	n := int32(h.kcfg.Partitions)
	for p := range n {
		keys, err := h.rdb.HKeys(context.Background(), h.pref+":{p"+strconv.Itoa(int(p))+"}:acct").Result()
		if err != nil {
			h.t.Fatal(err)
		}
		for _, a := range keys {
			if owner := kafkax.PartitionFor([]byte(a), n); owner != p {
				h.t.Errorf("%s has a state on partition %d; its key belongs to %d", a, p, owner)
			}
		}
	}
	on := map[string]map[int32]bool{}
	for _, r := range testkit.Consume(h.t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 5*time.Second) {
		if on[string(r.Key)] == nil {
			on[string(r.Key)] = map[int32]bool{}
		}
		on[string(r.Key)][r.Partition] = true
	}
	for _, a := range accounts {
		if ps := on[a]; len(ps) != 1 || !ps[kafkax.PartitionFor([]byte(a), n)] {
			h.t.Errorf("%s has status records on partitions %v, want only %d", a, ps, kafkax.PartitionFor([]byte(a), n))
		}
	}
}

// misroutedCount is arrears_processor_misrouted_total{action} (0 if never counted).
func misroutedCount(t *testing.T, reg *prometheus.Registry, action string) float64 {
	t.Helper()
	v, _ := counterValue(t, reg, "arrears_processor_misrouted_total", "action", action)
	return v
}

// counterValue is the value of counter name whose label has value (label
// "": its first series); ok is false when no such series was counted.
func counterValue(t *testing.T, reg *prometheus.Registry, name, label, value string) (v float64, ok bool) {
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
			if label == "" {
				return m.GetCounter().GetValue(), true
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestForwardLoopGuard (kfake): a record this group forwarded once that
// still is not on its key's partition (the partition count changed since)
// is dead-lettered, not forwarded again; a misrouted record next to it is
// forwarded once and applied on the partition that owns its key; a copy
// another group forwarded is skipped.
func TestForwardLoopGuard(t *testing.T) {
	const parts = 3
	h := newHarness(t, parts)
	fakeKafka(t, h)
	reg := prometheus.NewRegistry()
	h.reg = reg
	acct := "ACC-LOOP"
	owner := kafkax.PartitionFor([]byte(acct), parts)
	other := (owner + 1) % parts
	again := h.binary(invoice(acct, "INV-AGAIN", "30.00", event.DateOf(t0)+14))
	again.Partition = other
	again.Headers = []kgo.RecordHeader{{Key: processor.HeaderForwardedFrom, Value: []byte("0/0")}, {Key: processor.HeaderForwardedBy, Value: []byte(h.group)}}
	misrouted := h.binary(invoice(acct, "INV-ONCE", "50.00", event.DateOf(t0)+14))
	misrouted.Partition = other
	foreign := h.binary(invoice(acct, "INV-FOREIGN", "70.00", event.DateOf(t0)+14))
	foreign.Partition = owner
	foreign.Headers = []kgo.RecordHeader{{Key: processor.HeaderForwardedFrom, Value: []byte("0/9")}, {Key: processor.HeaderForwardedBy, Value: []byte("another-group")}}
	h.produceManual([]*kgo.Record{again, misrouted, foreign})

	stop := h.start("a")
	h.waitCaughtUp(h.group, 60*time.Second)
	stop()

	dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1, 10*time.Second)
	if len(dlq) != 1 {
		t.Fatalf("DLQ holds %d records, want 1 (the record forwarded before)", len(dlq))
	}
	d, err := h.codec.DecodeDeadLetter(context.Background(), dlq[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if d.Code != "MISROUTED" || d.Partition != other || d.Offset != 0 || !strings.Contains(d.Reason, "not forwarded again") {
		t.Errorf("dead letter %s at %d@%d (%s), want MISROUTED of %d@0, not forwarded again", d.Code, d.Partition, d.Offset, d.Reason, other)
	}
	ins := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Events, 1<<30, 3*time.Second)
	if len(ins) != 4 {
		t.Errorf("the input holds %d records, want 4: the three produced and one forwarded copy", len(ins))
	}
	copies := 0
	for _, r := range ins {
		if r.Partition != owner || string(r.Value) == string(foreign.Value) {
			continue
		}
		copies++
		want := []kgo.RecordHeader{{Key: processor.HeaderForwardedFrom, Value: []byte(strconv.Itoa(int(other)) + "/1")}, {Key: processor.HeaderForwardedBy, Value: []byte(h.group)}}
		if string(r.Value) != string(misrouted.Value) || fmt.Sprint(r.Headers) != fmt.Sprint(want) {
			t.Errorf("record on the owner partition %d is not the copy of %d@1 (headers %v, want %v)", owner, other, r.Headers, want)
		}
	}
	if copies != 1 {
		t.Errorf("%d forwarded copies on the owner partition, want 1", copies)
	}
	st := h.state(acct)
	if st == nil || len(st.Status(t0).Balances) != 1 || st.Status(t0).Balances[0].Open != event.MustAmount("50") {
		t.Errorf("%s: want 50.00 open from the forwarded invoice only (not the skipped copy's 70.00), got %+v", acct, st)
	}
	h.checkOwnedOnce([]string{acct})
	if f, dl, sk := misroutedCount(t, reg, "forward"), misroutedCount(t, reg, "dead_letter"), misroutedCount(t, reg, "skip"); f != 1 || dl != 1 || sk != 1 {
		t.Errorf("misrouted_total forward=%v dead_letter=%v skip=%v, want 1 each", f, dl, sk)
	}
}
