package processor_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/testkit"
)

// TestOperatorEventsEndToEnd runs a collector's account (the TimelyBill
// ladder) through the real Kafka, Redis and ClickHouse with the operator
// events of issue 12, as the API writes them (Source api:<actor>), and a
// processor restart in the middle (the second instance starts from the
// state in Redis, with the call-back still pending): the preferred SMS
// replaces the email reminder, the follow-up SMS is withheld by a
// cease-contact request, the VIP exemption turns the suspension into a
// manual review, the call-back asked for 22:30 is one agent task at 08:00
// the next morning, and a write-off of the whole balance ends it; the
// write-off above the balance is dead-lettered once. Every event the
// processor took lands in ClickHouse, the note's text with it.
func TestOperatorEventsEndToEnd(t *testing.T) {
	testkit.Integration(t, "kafka", "redis", "clickhouse")
	h := newHarness(t, 3)
	h.env = policyEnv(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	const acct = "ACC-OP"
	n := 0
	var recs []*kgo.Record
	add := func(when, source string, body event.Body) {
		n++
		recs = append(recs, h.binary(event.Event{ID: fmt.Sprintf("op-%02d", n), Time: at(when), Source: source, Account: acct, Body: body}))
	}
	days := func(from, to string) {
		for d := at(from); d.Before(at(to)); d = d.Add(24 * time.Hour) {
			recs = append(recs, h.ticks(d)...)
		}
	}
	add("2024-07-01 09:00", "crm", &event.AccountUpserted{Segment: event.Postpaid, CreditClass: "timelybill", Currency: "USD",
		Timezone: "Europe/Berlin", Consents: []event.Channel{event.Email, event.SMS, event.Letter}})
	due, _ := event.ParseDate("2024-08-01")
	add("2024-07-15 09:00", "billing", &event.InvoiceIssued{InvoiceID: "INV-OP", Currency: "USD", Amount: event.MustAmount("89.90"),
		IssueDate: event.DateOf(at("2024-07-15 09:00")), DueDate: due})
	add("2024-08-02 10:00", "api:ann", &event.ContactPreferencesChanged{Consents: []event.Channel{event.SMS, event.Email}, Preferred: event.SMS})
	days("2024-07-16 12:00", "2024-08-07 00:00")
	add("2024-08-07 10:00", "api:ann", &event.CallLogged{CallID: "CALL-1", Outcome: event.CallNoAnswer})
	add("2024-08-08 09:00", "api:ann", &event.CeaseContact{Active: true, Reason: "customer request"})
	days("2024-08-07 12:00", "2024-08-14 00:00")
	add("2024-08-14 09:30", "api:ann", &event.CeaseContact{Active: false})
	add("2024-08-20 09:30", "api:sue", &event.ExemptionSet{Exemption: "VIP", Until: at("2024-08-30 12:00"), Reason: "key account"})
	add("2024-08-26 15:00", "api:ann", &event.CallbackScheduled{CallbackID: "CB-1", At: at("2024-08-27 22:30"), Note: "after work"})
	add("2024-08-26 15:05", "api:ann", &event.NoteAdded{NoteID: "N-1", Text: "customer moved; new address on file"})
	days("2024-08-14 12:00", "2024-08-27 00:00")
	h.produceAll(recs)
	stop := h.start("a")
	h.waitCaughtUp(h.group, 120*time.Second)
	stop()

	recs = nil
	days("2024-08-27 12:00", "2024-09-03 00:00")
	add("2024-09-03 10:00", "api:sue", &event.WriteOffRequested{WriteOffID: "WO-1", Currency: "USD", Amount: event.MustAmount("89.91")})
	add("2024-09-03 10:05", "api:sue", &event.WriteOffRequested{WriteOffID: "WO-2", Currency: "USD", Reason: "moved abroad"})
	days("2024-09-03 12:00", "2024-09-06 00:00")
	h.produceAll(recs)
	sink, stopSink := startSink(t, h)
	stop = h.start("b")
	defer stop()
	h.waitCaughtUp(h.group, 120*time.Second)

	want := []string{
		"2024-08-05 08:00 NOTIFY sms initial_reminder",
		"2024-08-19 08:00 NOTIFY email final_reminder",
		"2024-08-25 00:00 MANUAL_REVIEW  suspension",
		"2024-08-28 08:00 AGENT_TASK  callback:CB-1",
		"2024-08-31 00:00 AGENT_TASK  pre_collections",
		"2024-09-03 10:05 WRITE_OFF  writeoff:WO-2",
	}
	var got []string
	// The processor caught up: every action is committed. One more than
	// wanted is asked for, so an extra one (a second call-back task) shows.
	for _, r := range testkit.Consume(t, h.kcfg.Brokers, h.kcfg.Topics.Actions, len(want)+1, 10*time.Second) {
		a, err := h.codec.DecodeAction(context.Background(), r.Value)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", a.Time.In(berlin).Format("2006-01-02 15:04"), a.Type, a.Channel, a.Stage))
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	dl := testkit.ConsumeWith(t, h.kcfg, h.kcfg.Topics.DLQ, 2, 5*time.Second)
	if len(dl) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dl))
	}
	if d, err := h.codec.DecodeDeadLetter(context.Background(), dl[0].Value); err != nil || d.Code != "WRITEOFF_EXCEEDS_BALANCE" {
		t.Errorf("dead letter %+v %v, want WRITEOFF_EXCEEDS_BALANCE", d, err)
	}

	waitSink(t, sink, h)
	if err := stopSink(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var kinds, note string
	q := "SELECT arrayStringConcat(arraySort(groupUniqArray(kind)), ','), anyIf(detail, kind = 'NoteAdded') FROM " +
		sink.conn.Table("events") + " FINAL WHERE account_id = ?"
	if err := sink.conn.QueryRow(ctx, q, acct).Scan(&kinds, &note); err != nil {
		t.Fatal(err)
	}
	if want := "AccountUpserted,CallLogged,CallbackScheduled,CeaseContact,ContactPreferencesChanged,ExemptionSet,InvoiceIssued,NoteAdded,WriteOffRequested"; kinds != want {
		t.Errorf("kinds landed %s, want %s", kinds, want)
	}
	if note != "customer moved; new address on file" {
		t.Errorf("note landed as %q", note)
	}
}
