package simulate

import (
	"context"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
	"github.com/arrears/arrears/processor/workload"
)

// memHistory is a History of events held in memory, on one partition
// unless an event says otherwise (a ClockTick).
type memHistory []event.Event

func (h memHistory) Partitions(context.Context) (int, error) { return 1, nil }
func (h memHistory) Accounts(context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, ev := range h {
		if ev.Account != "" && !seen[ev.Account] {
			seen[ev.Account] = true
			out = append(out, ev.Account)
		}
	}
	return out, nil
}
func (h memHistory) Count(_ context.Context, until time.Time) (int, error) {
	n := 0
	return n, h.Records(context.Background(), until, func(Record) error { n++; return nil })
}
func (h memHistory) Records(_ context.Context, until time.Time, f func(Record) error) error {
	for i := range h {
		if h[i].Time.After(until) {
			continue
		}
		if err := f(Record{Ms: h[i].Time.UnixMilli(), Account: h[i].Account, Event: &h[i]}); err != nil {
			return err
		}
	}
	return nil
}

// noSMSStage is deploy/policies/postpaid.yaml without its SMS stage
// (second_reminder, day 10); a reversal resumes at the final notice
// instead.
func noSMSStage(t *testing.T) []policy.File {
	t.Helper()
	b, err := os.ReadFile("../../../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for old, repl := range map[string]string{
		"  - name: second_reminder\n    days_past_due: 10\n    actions:\n      - {type: notify, channel: sms, template: postpaid_second_reminder, fallback: [email]}\n": "",
		"reversals:\n  resume_stage: second_reminder\n": "reversals:\n  resume_stage: final_notice\n",
	} {
		if !strings.Contains(s, old) {
			t.Fatalf("postpaid.yaml changed: %q not found", old)
		}
		s = strings.Replace(s, old, repl, 1)
	}
	return []policy.File{{Name: "postpaid-no-sms.yaml", Data: []byte(s)}}
}

// TestCandidateWithoutSMSStage replays a hand-built postpaid book under
// the deploy policies and under a candidate without the SMS stage.
//
// Three accounts (EUR, consents email, sms and letter, UTC), each with one
// 100.00 EUR invoice issued 2026-02-16, due Monday 2026-03-02; the window
// ends 2026-04-03 (32 days past due, before the collections call at 35):
//   - A never pays: reminder email (day 3), second reminder SMS (day 10),
//     final notice letter + fee (day 17), barring + barred SMS (day 21),
//     suspension (day 28);
//   - B pays in full on 2026-03-14 (day 12): reminder email, second
//     reminder SMS;
//   - C pays in full on 2026-03-07 (day 5): reminder email.
//
// Active: 3 emails, 3 SMS, 1 letter: 7 contacts costing 3 x 0.01 +
// 3 x 0.05 + 0.80 = 0.98. The candidate drops the two day-10 SMS (A's and
// B's): 3 emails, 1 SMS (A's barring), 1 letter: 5 contacts costing
// 0.03 + 0.05 + 0.80 = 0.88. Both: 1 suspension, 1 fee, 1 bar, the same
// letters, the same first contacts (the day-3 emails). Stages run at
// midnight UTC and quiet hours (21:00-08:00) hold email and SMS until
// 08:00: every email and SMS is deferred once, 6 deferrals in the active
// replay and 4 in the candidate's.
func TestCandidateWithoutSMSStage(t *testing.T) {
	h, o, active, candidate := smsBook(t)
	o.KeepActions = true
	r, err := Run(context.Background(), h, nil, active, candidate, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSMSBook(t, r)
}

// smsBook is TestCandidateWithoutSMSStage's book, window and both
// environments.
func smsBook(t *testing.T) (memHistory, Options, *core.Env, *core.Env) {
	t.Helper()
	active := testkit.DeployEnv(t, "../../..")
	candidate, changed, err := Candidate(active, noSMSStage(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || !strings.HasPrefix(changed[0], "postpaid-standard@") {
		t.Fatalf("changed %v, want postpaid-standard only", changed)
	}
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d.Add(9 * time.Hour)
	}
	var h memHistory
	for _, a := range []string{"A", "B", "C"} {
		h = append(h, event.Event{ID: a + "-up", Time: day("2026-02-01"), Source: "crm", Account: a,
			Body: &event.AccountUpserted{Segment: event.Segment("postpaid"), Currency: "EUR", CreditLimit: 500_0000,
				Consents: []event.Channel{event.Email, event.SMS, event.Letter}}})
	}
	for _, a := range []string{"A", "B", "C"} {
		h = append(h, event.Event{ID: a + "-inv", Time: day("2026-02-16"), Source: "billing", Account: a,
			Body: &event.InvoiceIssued{InvoiceID: a + "-1", Currency: "EUR", Amount: 100_0000,
				IssueDate: event.DateOf(day("2026-02-16")), DueDate: event.DateOf(day("2026-03-02"))}})
	}
	pay := func(a, on string) event.Event {
		return event.Event{ID: a + "-pay", Time: day(on), Source: "gateway", Account: a,
			Body: &event.PaymentReceived{PaymentID: a + "-p", Currency: "EUR", Amount: 100_0000, Method: "card"}}
	}
	h = append(h, pay("C", "2026-03-07"), pay("B", "2026-03-14"))

	return h, Options{From: day("2026-02-01"), Until: day("2026-04-03"), Cost: Defaults().ContactCost}, active, candidate
}

// checkSMSBook checks the counts the TestCandidateWithoutSMSStage comment
// works out.
func checkSMSBook(t *testing.T, r *Result) {
	t.Helper()
	for _, c := range []struct {
		name                         string
		s                            Summary
		email, sms, letter, contacts int
		cost                         float64
	}{{"active", r.Active, 3, 3, 1, 7, 0.98}, {"candidate", r.Candidate, 3, 1, 1, 5, 0.88}} {
		ch := c.s.ContactsByChannel
		if ch["email"] != c.email || ch["sms"] != c.sms || ch["letter"] != c.letter || c.s.Contacts != c.contacts {
			t.Errorf("%s: contacts %v (%d), want email %d, sms %d, letter %d (%d)", c.name, ch, c.s.Contacts, c.email, c.sms, c.letter, c.contacts)
		}
		if math.Abs(c.s.ContactCost-c.cost) > 1e-9 {
			t.Errorf("%s: contact cost %.4f, want %.2f", c.name, c.s.ContactCost, c.cost)
		}
		if c.s.Suspensions != 1 || c.s.SuspendedAccounts != 1 || c.s.Actions["FEE"] != 1 || c.s.Actions["BAR_OUTGOING"] != 1 {
			t.Errorf("%s: actions %v, want 1 suspension, 1 fee, 1 bar", c.name, c.s.Actions)
		}
		if c.s.Deferrals != c.contacts-1 {
			t.Errorf("%s: %d deferrals, want %d (every email and SMS)", c.name, c.s.Deferrals, c.contacts-1)
		}
		if c.s.ContactedAccounts != 3 {
			t.Errorf("%s: %d accounts contacted, want 3", c.name, c.s.ContactedAccounts)
		}
	}
	if r.Active.MeanDaysToFirstContact != r.Candidate.MeanDaysToFirstContact || r.Active.MeanDaysToFirstContact < 3 {
		t.Errorf("mean days past due at first contact %.2f (active) vs %.2f (candidate), want the same, at least 3",
			r.Active.MeanDaysToFirstContact, r.Candidate.MeanDaysToFirstContact)
	}
	letters := func(as []Action) (out []Action) {
		for _, a := range as {
			if a.Channel == "letter" {
				out = append(out, a)
			}
		}
		return out
	}
	same := func(x, y Action) bool { // the id carries the policy version
		return x.Account == y.Account && x.Stage == y.Stage && x.Time.Equal(y.Time)
	}
	if la, lc := letters(r.ActiveActions), letters(r.CandidateActions); len(la) != 1 || len(lc) != 1 || !same(la[0], lc[0]) {
		t.Errorf("letters differ: active %v, candidate %v", la, lc)
	}
	for _, a := range r.ActiveActions {
		t.Logf("active %s %s %s %s %s", a.Time.Format(time.RFC3339), a.Account, a.Stage, a.Type, a.Channel)
	}
	var tb strings.Builder
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"actions  NOTIFY/sms  3  1  -2", "contact  cost  0.98  0.88  -0.10", "actions  NOTIFY/letter  1  1  +0"} {
		if !strings.Contains(strings.Join(strings.Fields(tb.String()), "  "), want) {
			t.Errorf("table has no line %q:\n%s", want, tb.String())
		}
	}
	t.Logf("\n%s", tb.String())
}

// TestSample: --sample picks the same accounts every time, as many as
// asked, and a sampled account is decided exactly as in the full replay
// (the other accounts' records still move the partition clock).
func TestSample(t *testing.T) {
	o := workload.Options{Seed: 5, Accounts: 200, Months: 2, Partitions: 1, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var h memHistory
	for g := workload.New(o); ; {
		ev, ok := g.Next()
		if !ok {
			break
		}
		if ev.Body.Kind() != event.KindClockTick {
			h = append(h, ev)
		}
	}
	accts, _ := h.Accounts(context.Background())
	rev := slices.Clone(accts)
	slices.Reverse(rev)
	a, b := sample(accts, 20), sample(rev, 20)
	if len(a) != 20 || !maps.Equal(a, b) {
		t.Fatalf("samples of 20: %d and %d accounts, equal %v", len(a), len(b), maps.Equal(a, b))
	}
	env := testkit.DeployEnv(t, "../../..")
	opts := Options{From: o.Start, Until: o.Start.AddDate(0, o.Months, 0), KeepActions: true}
	full, err := Run(context.Background(), h, nil, env, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Sample = 20
	part, err := Run(context.Background(), h, nil, env, env, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []Action
	for _, x := range full.ActiveActions {
		if a[x.Account] {
			want = append(want, x)
		}
	}
	if part.Accounts != 20 || len(want) == 0 || !slices.Equal(part.ActiveActions, want) {
		t.Errorf("sample of %d accounts decided %d actions, the full replay %d for them", part.Accounts, len(part.ActiveActions), len(want))
	}
}

// workloadHistory is a History fed straight from the workload generator,
// for timing the replays without ClickHouse. Like landed history it has no
// ClockTicks (the processor copies only applied records).
type workloadHistory struct{ o workload.Options }

func (h workloadHistory) Partitions(context.Context) (int, error) { return h.o.Partitions, nil }
func (h workloadHistory) Accounts(context.Context) ([]string, error) {
	seen := map[string]bool{}
	err := h.Records(context.Background(), time.Time{}, func(r Record) error { seen[r.Account] = true; return nil })
	delete(seen, "")
	return slices.Collect(maps.Keys(seen)), err
}
func (h workloadHistory) Count(context.Context, time.Time) (int, error) { return 0, nil }
func (h workloadHistory) Records(_ context.Context, _ time.Time, f func(Record) error) error {
	n := int32(h.o.Partitions)
	for g := workload.New(h.o); ; {
		ev, ok := g.Next()
		if !ok {
			return nil
		}
		if ev.Body.Kind() == event.KindClockTick {
			continue
		}
		r := Record{Partition: kafkax.PartitionFor([]byte(ev.Account), n), Ms: ev.Time.UnixMilli(), Account: ev.Account, Event: &ev}
		if err := f(r); err != nil {
			return err
		}
	}
}

// BenchmarkSimulateWorkload times both replays of simulate (the pure core
// and the tally, no ClickHouse or decoding) over 3 months of a generated
// book of $ARREARS_SIM_ACCOUNTS accounts (default 2000) on 12 partitions,
// reporting landed events a second (both replays counted; the generator's
// time is in events/s and taken out of events/s_excl_gen).
func BenchmarkSimulateWorkload(b *testing.B) {
	accts := 2000
	if v, err := strconv.Atoi(os.Getenv("ARREARS_SIM_ACCOUNTS")); err == nil && v > 0 {
		accts = v
	}
	o := workload.Options{Seed: 7, Accounts: accts, Months: 3, Partitions: 12, TickEvery: time.Hour,
		Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := workloadHistory{o}
	events := 0
	_ = h.Records(context.Background(), time.Time{}, func(Record) error { events++; return nil })
	env := testkit.DeployEnv(b, "../../..")
	until := o.Start.AddDate(0, o.Months, 1)
	var gen time.Duration
	t0 := time.Now()
	_ = h.Records(context.Background(), time.Time{}, func(Record) error { return nil })
	gen = time.Since(t0)
	b.ResetTimer()
	cpu0 := testkit.CPUTime()
	for range b.N {
		r, err := Run(context.Background(), h, nil, env, env, Options{From: o.Start, Until: until, Cost: Defaults().ContactCost})
		if err != nil {
			b.Fatal(err)
		}
		if r.Active.Contacts == 0 || r.Active.Contacts != r.Candidate.Contacts {
			b.Fatalf("contacts %d vs %d", r.Active.Contacts, r.Candidate.Contacts)
		}
	}
	cpu := (testkit.CPUTime() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(float64(2*events)/cpu, "events/cpu_s")
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(2*events)/sec, "events/s")
	b.ReportMetric(float64(2*events)/(sec-2*gen.Seconds()), "events/s_excl_gen")
	b.ReportMetric(float64(events), "events")
}
