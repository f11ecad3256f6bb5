package core

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// benchEvents is a month-by-month book: upserts, invoices, payments (some
// late or partial, so dunning runs), for accts accounts over months.
func benchEvents(accts, months int) []event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	var evs []event.Event
	for a := 0; a < accts; a++ {
		evs = append(evs, event.Event{ID: fmt.Sprintf("u%d", a), Time: day0, Account: fmt.Sprintf("A%d", a), Body: &event.AccountUpserted{
			Segment: event.Postpaid, Currency: "EUR", Timezone: "Europe/Berlin", CreditLimit: event.MustAmount("300"),
			Consents: []event.Channel{event.Email, event.SMS, event.Letter}}})
	}
	for m := 0; m < months; m++ {
		for a := 0; a < accts; a++ {
			at := day0.AddDate(0, m, a%28)
			acct := fmt.Sprintf("A%d", a)
			amt := event.Amount(200000 + r.IntN(800000))
			evs = append(evs, event.Event{ID: fmt.Sprintf("i%d-%d", a, m), Time: at, Account: acct, Body: &event.InvoiceIssued{
				InvoiceID: fmt.Sprintf("INV-%d-%d", a, m), Currency: "EUR", Amount: amt, IssueDate: event.DateOf(at), DueDate: event.DateOf(at) + 14}})
			pay := amt
			if r.IntN(5) == 0 {
				pay = amt / 2
			}
			evs = append(evs, event.Event{ID: fmt.Sprintf("p%d-%d", a, m), Time: at.Add(time.Duration(10+r.IntN(20)) * 24 * time.Hour), Account: acct,
				Body: &event.PaymentReceived{PaymentID: fmt.Sprintf("PAY-%d-%d", a, m), Currency: "EUR", Amount: pay}})
		}
	}
	return evs
}

// BenchmarkApply measures the whole per-event step (ledger, dunning
// evaluation, risk scoring) on a realistic mix, and the state size.
func BenchmarkApply(b *testing.B) {
	env := testEnv(b)
	evs := benchEvents(1000, 6)
	b.ReportAllocs()
	b.ResetTimer()
	states := map[string]*State{}
	n := 0
	for b.Loop() {
		ev := evs[n%len(evs)]
		if n%len(evs) == 0 {
			clear(states)
		}
		n++
		st := states[ev.Account]
		if st == nil {
			st = &State{}
			states[ev.Account] = st
		}
		_, _ = Apply(st, ev, ev.Time, env)
	}
	b.StopTimer()
	total := 0
	for _, st := range states {
		total += len(mustMarshal(nil, st))
	}
	if len(states) > 0 {
		b.ReportMetric(float64(total)/float64(len(states)), "state_bytes/account")
	}
}

// BenchmarkStateCodec measures encoding and decoding one account's state.
func BenchmarkStateCodec(b *testing.B) {
	env := testEnv(b)
	st := &State{}
	for _, ev := range benchEvents(1, 6) {
		_, _ = Apply(st, ev, ev.Time, env)
	}
	buf := mustMarshal(nil, st)
	b.ReportAllocs()
	for b.Loop() {
		var back State
		if err := back.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := back.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}
