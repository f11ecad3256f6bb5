package ledger

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

func TestPruning(t *testing.T) {
	r := Rules{ReversalWindowDays: 120}
	acc := &Account{}
	feed(t, r, acc,
		inv("I1", "100", 0, 10), pay("P1", "100"), // I1 settled by P1 on day 1
		inv("I2", "100", 0, 10), pay("P3", "40"), // I2 partly paid
		&event.PaymentReceived{PaymentID: "P2", Currency: "USD", Amount: amt("150")}, // credit only
	)
	if len(acc.items) != 2 || len(acc.pays) != 3 {
		t.Fatalf("before: %d items %d payments", len(acc.items), len(acc.pays))
	}
	// Within the window nothing goes.
	if _, err := applyAt(t, r, acc, 100, &event.AccountUpserted{Segment: event.Postpaid}); err != nil {
		t.Fatal(err)
	}
	if len(acc.items) != 2 || len(acc.pays) != 3 {
		t.Fatalf("day 100: %d items %d payments", len(acc.items), len(acc.pays))
	}
	if _, err := applyAt(t, r, acc, 130, &event.AccountUpserted{Segment: event.Corporate}); err != nil {
		t.Fatal(err)
	}
	if len(acc.pays) != 0 || len(acc.items) != 1 || open(acc, "I2") != amt("60") || open(acc, "I1") != -1 {
		t.Fatalf("day 130: items %+v payments %+v", acc.items, acc.pays)
	}
	wantCredit(t, acc, "USD", "150")
	// A reversal after the window is a typed rejection.
	_, err := applyAt(t, r, acc, 131, &event.PaymentReversed{PaymentID: "P3"})
	if ReasonOf(err) != ReasonUnknownPayment || !strings.Contains(err.Error(), "120-day reversal window") {
		t.Fatalf("late reversal: %v", err)
	}
	// What the pruned payment settled stays settled and can be credited back.
	if _, err := applyAt(t, r, acc, 132, note("A1", "I2", event.Credit, "100")); err != nil {
		t.Fatal(err)
	}
	wantCredit(t, acc, "EUR", "40")
	// Pool credit settles the next invoice.
	if _, err := applyAt(t, r, acc, 133, inv("I3", "30", 133, 140)); err != nil {
		t.Fatal(err)
	}
	wantOpen(t, acc, map[string]string{"I3": "0"})
	wantCredit(t, acc, "EUR", "10")
	enc, _ := acc.MarshalBinary()
	var dec Account
	if err := dec.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if dec.Unapplied("EUR") != amt("10") || dec.Unapplied("USD") != amt("150") {
		t.Fatal("pool lost in encoding")
	}
}

// TestPruningInvariants drives random sequences with a short window and
// checks the invariants that must survive pruning.
func TestPruningInvariants(t *testing.T) {
	seqs := 300
	if testing.Short() {
		seqs = 50
	}
	for seed := range uint64(seqs) {
		r := Rules{ReversalWindowDays: 10, MaxItems: 40, MaxPayments: 40}
		g := &gen{r: rand.New(rand.NewPCG(seed, 7)), clock: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), m: newModel(r)}
		acc := &Account{}
		for step := range 150 {
			ev := g.next()
			before, _ := acc.MarshalBinary()
			res, err := r.Apply(acc, ev, g.clock)
			if err != nil {
				if ReasonOf(err) == 0 {
					t.Fatalf("seed %d step %d: untyped error %v", seed, step, err)
				}
				if after, _ := acc.MarshalBinary(); string(after) != string(before) {
					t.Fatalf("seed %d step %d: rejection changed the account", seed, step)
				}
				continue
			}
			checkInvariants(t, acc, g.clock)
			enc, err := acc.MarshalBinary()
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			var dec Account
			if err := dec.UnmarshalBinary(enc); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			acc = &dec
			cutoff := event.DateOf(g.clock) - 10
			for _, p := range acc.pays {
				if res.Changed && p.day < cutoff { // pruning runs after each change
					t.Fatalf("seed %d step %d: payment %s of day %s kept", seed, step, p.id, p.day)
				}
			}
		}
	}
}

func checkInvariants(t *testing.T, acc *Account, now time.Time) {
	t.Helper()
	for i := range acc.items {
		it := &acc.items[i]
		var parts event.Amount
		for _, p := range acc.pays {
			for _, pt := range p.parts {
				if pt.invoice == it.InvoiceID {
					parts += pt.amount
				}
			}
		}
		if it.Open < 0 || it.Open > it.Amount || it.credit < 0 || it.credit+parts != it.paid() {
			t.Fatalf("item %+v: credit %s parts %s", *it, it.credit, parts)
		}
	}
	for _, b := range acc.Balances(now) {
		if b.Open > 0 && b.Unapplied > 0 || b.Unapplied < 0 {
			t.Fatalf("balance %+v", b)
		}
		var aging event.Amount
		for _, a := range b.Aging {
			aging += a
		}
		if aging != b.Open || b.Overdue+b.Disputed > b.Open {
			t.Fatalf("balance %+v", b)
		}
	}
}

func TestCounters(t *testing.T) {
	acc := &Account{}
	feed(t, Rules{}, acc, inv("I1", "10", 0, 5))
	now := t0
	for i := range 14 { // one broken promise a month for 14 months
		acc.NotePromiseBroken(now.AddDate(0, i, 0))
	}
	c := acc.Counters()
	if c.BrokenPromises != 14 || len(c.months) > 13 {
		t.Fatalf("counters %+v", c)
	}
	if w := c.Last12Months(now.AddDate(0, 13, 0)); w.BrokenPromises != 12 {
		t.Fatalf("window %+v", w)
	}
	if w := c.Last12Months(now.AddDate(0, 30, 0)); w.BrokenPromises != 0 {
		t.Fatalf("window %+v", w)
	}
	if c.TenureDays(at(40)) != 40 || c.FirstSeen != day(0) {
		t.Fatalf("tenure %d", c.TenureDays(at(40)))
	}
	// A month older than the kept window is not recorded.
	acc.NotePromiseBroken(now.AddDate(-3, 0, 0))
	if got := acc.Counters(); got.BrokenPromises != 15 || len(got.months) != len(c.months) {
		t.Fatalf("old month recorded: %+v", got.months)
	}
	// An out-of-order month lands in place.
	acc.NotePromiseBroken(now.AddDate(0, 13, 0))
	acc.NotePromiseBroken(now.AddDate(0, 12, 0))
	if w := acc.Counters().Last12Months(now.AddDate(0, 13, 0)); w.BrokenPromises != 14 {
		t.Fatalf("window %+v", w)
	}
}

func TestRulesValidate(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Rules{}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Rules{{ReversalWindowDays: -1}, {DedupeDays: 4000}, {TombstoneDays: -1}, {MaxItems: 5000}, {MaxPayments: -2}} {
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "ledger: invalid rules") {
			t.Fatalf("%+v: %v", r, err)
		}
	}
}

func TestDateHelpers(t *testing.T) {
	for d := event.Date(-800); d < 120000; d += 7 {
		y, m, _ := d.Time().Date()
		if got, want := monthOf(d), int32(y-1970)*12+int32(m)-1; got != want {
			t.Fatalf("monthOf(%s) = %d, want %d", d, got, want)
		}
	}
	berlin := time.FixedZone("CET", 3600)
	for _, tm := range []time.Time{time.Unix(-1, 0).UTC(), time.Unix(0, 0).UTC(), time.Unix(86399, 0).UTC(),
		time.Date(2025, 3, 1, 23, 30, 0, 0, berlin), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)} {
		if dateOf(tm) != event.DateOf(tm) {
			t.Fatalf("dateOf(%v) = %s, want %s", tm, dateOf(tm), event.DateOf(tm))
		}
	}
}
