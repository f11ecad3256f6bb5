package processor_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// TestBoundedWakesBatchingIndependent: the same input through tiny
// transactions (23 records a poll, 60 records and wake-ups a transaction,
// 9 wake-ups) gives the same account states, dunning actions and risk
// events as an undisturbed run with the defaults. A tick 200 days on wakes
// every account at once and nothing follows it but one payment: the burst is
// worked off over many transactions with no new records, and the payment is
// applied before the burst is done (wake-ups of other accounts follow its
// status record on its changelog partition).
func TestBoundedWakesBatchingIndependent(t *testing.T) {
	burstAgainstReference(t, func(c *processor.Config) {
		c.MaxPollRecords, c.MaxRecordsPerTxn, c.MaxWakesPerTxn = 23, 60, 9
	})
}

// TestApplyBudgetCarriesOver: with a time bound every batch passes at its
// first wake-ups (processor.max_apply_per_txn 1µs) and count bounds no
// batch reaches, the rest of each burst is carried to the next
// transactions and the result is that of the undisturbed run, as with the
// count bound.
func TestApplyBudgetCarriesOver(t *testing.T) {
	burstAgainstReference(t, func(c *processor.Config) {
		c.MaxRecordsPerTxn, c.MaxWakesPerTxn, c.MaxApplyPerTxn = 1_000_000, 500_000, time.Microsecond
	})
}

// burstAgainstReference runs the workload, a 200-day tick and one late
// payment under tune, then compares with a run on the defaults.
func burstAgainstReference(t *testing.T, tune func(*processor.Config)) {
	h := newHarness(t, 3)
	h.env = fullEnv(t)
	reg := prometheus.NewRegistry()
	h.reg = reg
	h.tune = tune
	recs := h.workload(11, 5000, 400, 0)
	end := t0.Add(200 * 24 * time.Hour)
	recs = append(recs, h.ticks(end)...)
	const payer = "ACC-7"
	pay := event.Event{ID: "ev-late-pay", Time: end.Add(time.Hour), Source: "gateway", Account: payer,
		Body: &event.PaymentReceived{PaymentID: "P-late", Currency: "EUR", Amount: event.MustAmount("50"), Method: "card"}}
	v, err := h.codec.EncodeEvent(context.Background(), h.kcfg.Topics.Events, pay)
	if err != nil {
		t.Fatal(err)
	}
	recs = append(recs, &kgo.Record{Key: []byte(payer), Value: v})

	stop := h.start("bounded")
	h.produceAll(recs)
	h.waitCaughtUp(h.group, 180*time.Second)
	stop()
	if n := counter(t, reg, "arrears_processor_wake_backlog_total"); n == 0 {
		t.Fatal("no batch left wake-ups for the next: the bound never engaged")
	}
	got := dump(t, h.rdb, h.pref, h.kcfg.Partitions)
	actions, risk := h.actionIDs(), h.riskIDs()
	after := h.statusAfter(payer)

	h.tune, h.reg = nil, nil // the defaults: the burst fits in one transaction
	ref := h.referenceRun()
	compareStates(t, got, ref.states)
	compareActions(t, actions, ref.actions)
	compareRisk(t, risk, ref.risk)
	if len(ref.actions) == 0 || len(got) == 0 {
		t.Fatalf("the workload produced %d actions for %d accounts: nothing compared", len(ref.actions), len(got))
	}
	if after == 0 {
		t.Errorf("no other account's status followed %s's last one: the payment waited for the whole burst", payer)
	}
	if n, err := testkit.DueWakeups(h.rdb, h.pref, h.kcfg.Partitions); err != nil || n != 0 {
		t.Errorf("wake-ups due after the run: %d (%v)", n, err)
	}
}

// statusAfter counts the status records of other accounts that follow the
// last status record of acct on its changelog partition.
func (h *harness) statusAfter(acct string) int {
	h.t.Helper()
	recs := testkit.Consume(h.t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 5*time.Second)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Offset < recs[j].Offset })
	part, last := int32(-1), int64(-1)
	for _, r := range recs {
		if string(r.Key) == acct {
			part, last = r.Partition, r.Offset
		}
	}
	n := 0
	for _, r := range recs {
		if r.Partition == part && r.Offset > last && string(r.Key) != acct {
			n++
		}
	}
	return n
}
