package processor_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// clockScenario is one account with an invoice due at t0+14 days, ticks up
// to t0+10 days, then an event dated 2099 for a second account on the same
// partition, then a valid invoice for that account at t0+11 days.
func clockScenario(h *harness) []*kgo.Record {
	upsert := func(acct string) event.Event {
		return event.Event{ID: acct + "-up", Time: t0, Source: "crm", Account: acct, Body: &event.AccountUpserted{
			Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email, event.SMS, event.Letter}}}
	}
	recs := []*kgo.Record{h.binary(upsert("ACC-1")), h.binary(upsert("ACC-2")),
		h.binary(invoice("ACC-1", "INV-1", "80.00", event.DateOf(t0)+14))}
	for d := 1; d <= 10; d++ {
		recs = append(recs, h.ticks(t0.Add(time.Duration(d)*24*time.Hour))...)
	}
	future := invoice("ACC-2", "INV-2099", "10.00", event.DateOf(t0)+14)
	future.ID, future.Time = "ev-2099", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	late := invoice("ACC-2", "INV-2", "20.00", event.DateOf(t0)+25)
	late.ID, late.Time = "ev-late", t0.Add(11*24*time.Hour)
	return append(recs, h.binary(future), h.binary(late))
}

// TestFutureEventTime: in live time one event dated 2099 among live
// traffic is dead-lettered with FUTURE_EVENT_TIME, fires no timer and does
// not move the partition clock; in simulated time the same input moves the
// clock to 2099 and every due timer fires, as docs/processing.md says.
func TestFutureEventTime(t *testing.T) {
	t.Run("live", func(t *testing.T) {
		h := newHarness(t, 1)
		h.env = policyEnv(t)
		h.tune = func(c *processor.Config) { c.Time, c.TickSource = processor.TimeLive, "test" }
		stop := h.start("a")
		defer stop()
		h.produceAll(clockScenario(h))
		h.waitCaughtUp(h.group, 60*time.Second)

		dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1, 30*time.Second)
		if len(dlq) != 1 {
			t.Fatalf("DLQ has %d records, want 1", len(dlq))
		}
		d, err := h.codec.DecodeDeadLetter(context.Background(), dlq[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Code != "FUTURE_EVENT_TIME" || d.ErrorClass != "validation" {
			t.Fatalf("dead letter code %q class %q (%s), want FUTURE_EVENT_TIME validation", d.Code, d.ErrorClass, d.Reason)
		}
		if acts := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Actions, 1<<30, 3*time.Second); len(acts) != 0 {
			t.Fatalf("%d dunning actions fired; the invoice is not overdue yet at t0+11d", len(acts))
		}
		// the status written for the late invoice carries the partition
		// clock: t0+11 days, not 2099
		last := lastStatus(t, h, "ACC-2")
		if want := t0.Add(11 * 24 * time.Hour); !last.Time.Equal(want) {
			t.Fatalf("partition clock after the 2099 event = %s, want %s", last.Time, want)
		}
		if st := h.state("ACC-2"); st == nil || len(st.Status(t0).Balances) != 1 || st.Status(t0).Balances[0].Open != event.MustAmount("20") {
			t.Fatalf("ACC-2 should hold only the late invoice (20.00 EUR): %+v", st)
		}
	})
	t.Run("simulated", func(t *testing.T) {
		h := newHarness(t, 1)
		h.env = policyEnv(t)
		stop := h.start("a")
		defer stop()
		h.produceAll(clockScenario(h))
		h.waitCaughtUp(h.group, 60*time.Second)
		if dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 1<<30, 3*time.Second); len(dlq) != 0 {
			t.Fatalf("simulated time dead-lettered %d records, want none", len(dlq))
		}
		if acts := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Actions, 1, 30*time.Second); len(acts) == 0 {
			t.Fatal("simulated time: the clock moved to 2099 and ACC-1's dunning should have fired")
		}
	})
}

// TestKeyMismatch: a record whose key is not its account_id, or has no key,
// is dead-lettered with KEY_MISMATCH and creates no state anywhere.
func TestKeyMismatch(t *testing.T) {
	h := newHarness(t, 2)
	stop := h.start("a")
	defer stop()
	wrong := h.json(invoice("ACC-K", "INV-K1", "10.00", event.DateOf(t0)+14))
	wrong.Key = []byte("ACC-OTHER")
	empty := h.json(invoice("ACC-K", "INV-K2", "10.00", event.DateOf(t0)+14))
	empty.Key, empty.Partition = nil, 0
	h.produceAll([]*kgo.Record{wrong, empty})
	dlq := testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.DLQ, 2, 30*time.Second)
	if len(dlq) != 2 {
		t.Fatalf("DLQ has %d records, want 2", len(dlq))
	}
	for _, r := range dlq {
		d, err := h.codec.DecodeDeadLetter(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Code != "KEY_MISMATCH" {
			t.Errorf("dead letter code %q (%s), want KEY_MISMATCH", d.Code, d.Reason)
		}
	}
	for _, a := range []string{"ACC-K", "ACC-OTHER"} {
		if st := h.state(a); st != nil {
			t.Errorf("account %s has state after a refused record", a)
		}
	}
}

// lastStatus is the account's latest status record.
func lastStatus(t *testing.T, h *harness, acct string) event.AccountStatus {
	t.Helper()
	var last *event.AccountStatus
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Status, 1<<30, 3*time.Second) {
		if string(r.Key) != acct {
			continue
		}
		s, err := h.codec.DecodeStatus(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		last = &s
	}
	if last == nil {
		t.Fatalf("no status record for %s", acct)
	}
	return *last
}
