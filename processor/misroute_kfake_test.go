package processor_test

import (
	"context"
	"fmt"
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
