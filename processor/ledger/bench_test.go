package ledger

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// workload is a realistic event mix for many accounts over years: monthly
// bills, payments (mostly exact, some partial, some late, a few
// overpayments), credit and debit notes, disputes and their resolutions,
// reversals, refunds, master-data updates and re-sent duplicates (~5%).
type workload struct {
	events []event.Event
	now    []time.Time
	acct   []int
}

func newWorkload(accounts, months int) *workload {
	r := rand.New(rand.NewPCG(1, 2))
	w := &workload{}
	start := time.Date(2024, 1, 1, 6, 0, 0, 0, time.UTC)
	n := 0
	add := func(a int, at time.Time, b event.Body) {
		n++
		ev := event.Event{ID: fmt.Sprintf("evt-%010d", n), Time: at, Account: fmt.Sprint(a), Body: b}
		w.events = append(w.events, ev)
		w.now = append(w.now, at)
		w.acct = append(w.acct, a)
		if r.IntN(20) == 0 { // re-sent
			w.events = append(w.events, ev)
			w.now = append(w.now, at.Add(time.Minute))
			w.acct = append(w.acct, a)
		}
	}
	for m := range months {
		for a := range accounts {
			at := start.AddDate(0, m, a%28).Add(time.Duration(a) * time.Second)
			if m == 0 || r.IntN(24) == 0 {
				add(a, at, &event.AccountUpserted{Segment: event.Postpaid, CreditClass: "B", Currency: "EUR", Timezone: "Europe/Berlin",
					CreditLimit: amt("300"), Consents: []event.Channel{event.Email, event.SMS}})
			}
			id := fmt.Sprintf("INV-%04d%02d-%08d", 2024+m/12, m%12+1, a)
			amount := amt("20") + event.Amount(r.IntN(8000))*100
			d := event.DateOf(at)
			add(a, at, &event.InvoiceIssued{InvoiceID: id, Currency: "EUR", Amount: amount, IssueDate: d, DueDate: d + 14})
			if r.IntN(15) == 0 {
				add(a, at.AddDate(0, 0, 2), &event.InvoiceAdjusted{AdjustmentID: "CN-" + id, InvoiceID: id, Type: event.Credit, Currency: "EUR", Amount: amount / 5})
				amount -= amount / 5
			}
			if r.IntN(30) == 0 {
				add(a, at.AddDate(0, 0, 3), &event.DisputeOpened{DisputeID: "D-" + id, InvoiceID: id, Currency: "EUR", Amount: amount / 3})
				add(a, at.AddDate(0, 0, 12), &event.DisputeResolved{DisputeID: "D-" + id, Outcome: event.Rejected})
			}
			payAt := at.AddDate(0, 0, 5+r.IntN(25))
			pid := fmt.Sprintf("PAY-%d-%d", m, a)
			paid := true
			switch k := r.IntN(20); {
			case k < 14:
				add(a, payAt, &event.PaymentReceived{PaymentID: pid, Currency: "EUR", Amount: amount, Method: "SEPA"})
			case k < 17:
				add(a, payAt, &event.PaymentReceived{PaymentID: pid, Currency: "EUR", Amount: amount / 2, InvoiceIDs: []string{id}})
			case k < 19:
				add(a, payAt, &event.PaymentReceived{PaymentID: pid, Currency: "EUR", Amount: amount + amt("10")})
			default: // skipped a month
				paid = false
			}
			if paid && r.IntN(40) == 0 {
				add(a, payAt.AddDate(0, 0, 3), &event.PaymentReversed{PaymentID: pid, Reason: "bounce"})
			}
		}
	}
	return w
}

// BenchmarkApply measures Apply over the workload mix (ns and allocs per
// event); accounts are kept decoded, as in the processor's cache.
func BenchmarkApply(b *testing.B) {
	const accounts = 500
	w := newWorkload(accounts, 36)
	accs := make([]Account, accounts)
	r := DefaultRules()
	rejected := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(w.events)
		if k == 0 && i > 0 {
			b.StopTimer()
			clear(accs)
			b.StartTimer()
		}
		if _, err := r.Apply(&accs[w.acct[k]], w.events[k], w.now[k]); err != nil {
			rejected++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rejected)/float64(b.N), "rejected/event")
	var total int
	for i := range accs {
		enc, _ := accs[i].MarshalBinary()
		total += len(enc)
	}
	b.ReportMetric(float64(total)/accounts, "bytes/account")
}

// BenchmarkApplyRoundTrip is Apply with the account decoded before and
// encoded after every event, as when the cache misses every time.
func BenchmarkApplyRoundTrip(b *testing.B) {
	const accounts = 500
	w := newWorkload(accounts, 36)
	encs := make([][]byte, accounts)
	r := DefaultRules()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(w.events)
		if k == 0 && i > 0 {
			b.StopTimer()
			clear(encs)
			b.StartTimer()
		}
		var acc Account
		if e := encs[w.acct[k]]; e != nil {
			if err := acc.UnmarshalBinary(e); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := r.Apply(&acc, w.events[k], w.now[k]); err != nil && ReasonOf(err) == 0 {
			b.Fatal(err)
		}
		var err error
		if encs[w.acct[k]], err = acc.AppendBinary(encs[w.acct[k]][:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	acc, _ := typicalAccount(b)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		buf, _ = acc.AppendBinary(buf[:0])
		n = len(buf)
	}
	b.ReportMetric(float64(n), "bytes/account")
}

func BenchmarkUnmarshal(b *testing.B) {
	acc, _ := typicalAccount(b)
	enc, _ := acc.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		var a Account
		if err := a.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBalances(b *testing.B) {
	acc, now := typicalAccount(b)
	buf := make([]event.CurrencyBalance, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		buf = acc.AppendBalances(buf[:0], now)
	}
}
