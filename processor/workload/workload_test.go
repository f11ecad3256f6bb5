package workload

import (
	"crypto/sha256"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

func digest(o Options) (string, int, []event.Event) {
	g := New(o)
	h := sha256.New()
	n := 0
	var sample []event.Event
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		fmt.Fprintf(h, "%s|%d|%s|%T|%+v\n", ev.ID, ev.Time.UnixMilli(), ev.Account, ev.Body, ev.Body)
		n++
		if len(sample) < 200000 {
			sample = append(sample, ev)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n, sample
}

// TestDeterministic: the same seed gives the identical stream, another seed not.
func TestDeterministic(t *testing.T) {
	o := Options{Seed: 7, Accounts: 500, Months: 2, Partitions: 4}
	a, n, _ := digest(o)
	b, m, _ := digest(o)
	if a != b || n != m {
		t.Fatalf("same seed: %s (%d events) vs %s (%d)", a, n, b, m)
	}
	o.Seed = 8
	if c, _, _ := digest(o); c == a {
		t.Fatal("another seed gave the same stream")
	}
}

// TestStreamShape: time never goes back, every account starts with its
// upsert, amounts are positive, ticks cover every partition, ids are unique.
func TestStreamShape(t *testing.T) {
	o := Options{Seed: 1, Accounts: 2000, Months: 3, Partitions: 6}
	_, _, evs := digest(o)
	var last time.Time
	seenAcct := map[string]bool{}
	ids := map[string]bool{}
	ticks := map[int32]int{}
	kinds := map[event.Kind]int{}
	for _, ev := range evs {
		if ev.Time.Before(last) {
			t.Fatalf("time went back: %s after %s", ev.Time, last)
		}
		last = ev.Time
		if ids[ev.ID] {
			t.Fatalf("duplicate id %s", ev.ID)
		}
		ids[ev.ID] = true
		kinds[ev.Body.Kind()]++
		if tk, ok := ev.Body.(*event.ClockTick); ok {
			ticks[tk.Partition]++
			continue
		}
		if !seenAcct[ev.Account] {
			if _, ok := ev.Body.(*event.AccountUpserted); !ok {
				t.Fatalf("account %s starts with %s", ev.Account, ev.Body.Kind())
			}
			seenAcct[ev.Account] = true
		}
		var amt event.Amount = 1
		switch b := ev.Body.(type) {
		case *event.InvoiceIssued:
			amt = b.Amount
		case *event.PaymentReceived:
			amt = b.Amount
		case *event.DisputeOpened:
			amt = b.Amount
		}
		if amt <= 0 {
			t.Fatalf("%s %s has amount %s", ev.Body.Kind(), ev.ID, amt)
		}
	}
	if len(seenAcct) != o.Accounts {
		t.Errorf("%d accounts appeared, want %d", len(seenAcct), o.Accounts)
	}
	for p := int32(0); p < int32(o.Partitions); p++ {
		if ticks[p] != 24*90 && ticks[p] < 24*89 {
			t.Errorf("partition %d got %d ticks", p, ticks[p])
		}
	}
	for _, k := range []event.Kind{event.KindInvoiceIssued, event.KindPaymentReceived, event.KindPaymentReversed,
		event.KindArrangementCreated, event.KindDisputeOpened, event.KindDisputeResolved, event.KindInvoiceAdjusted} {
		if kinds[k] == 0 {
			t.Errorf("no %s in three months of 2000 accounts", k)
		}
	}
	t.Logf("events by kind: %v", kinds)
}

// TestBehaviourFollowsRisk: riskier accounts leave more of their invoices unpaid.
func TestBehaviourFollowsRisk(t *testing.T) {
	o := Options{Seed: 3, Accounts: 3000, Months: 4, Partitions: 2}
	g := New(o)
	billed := map[string]event.Amount{}
	paid := map[string]event.Amount{}
	for {
		ev, ok := g.Next()
		if !ok {
			break
		}
		switch b := ev.Body.(type) {
		case *event.InvoiceIssued:
			billed[ev.Account] += b.Amount
		case *event.PaymentReceived:
			paid[ev.Account] += b.Amount
		}
	}
	var xs, ys []float64
	for _, a := range g.Accounts() {
		if billed[a.ID] == 0 {
			continue
		}
		xs = append(xs, a.LatentRisk)
		ys = append(ys, 1-math.Min(1, float64(paid[a.ID])/float64(billed[a.ID])))
	}
	if c := corr(xs, ys); c < 0.3 {
		t.Errorf("correlation of latent risk and unpaid share = %.2f, want > 0.3", c)
	} else {
		t.Logf("correlation of latent risk and unpaid share = %.2f", c)
	}
	if !math.IsNaN(g.Truth("nope")) || g.Truth(g.Accounts()[5].ID) != g.Accounts()[5].LatentRisk {
		t.Error("Truth")
	}
}

func corr(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	return (n*sxy - sx*sy) / math.Sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))
}

func BenchmarkGenerate(b *testing.B) {
	g := New(Options{Seed: 1, Accounts: 100000, Months: 120, Partitions: 12})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Next(); !ok {
			g = New(Options{Seed: 1, Accounts: 100000, Months: 120, Partitions: 12})
		}
	}
}
