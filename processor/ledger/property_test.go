package ledger

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// gen draws random but plausible event sequences: ids come from small pools
// so duplicates, unknown references and out-of-order events happen by
// themselves.
type gen struct {
	r     *rand.Rand
	clock time.Time
	n     int
	sent  []event.Event
	m     *model // current model, to aim some amounts exactly
}

var curs = []event.Currency{"EUR", "EUR", "EUR", "USD", "USD", "GBP"}

func (g *gen) cur() event.Currency {
	if g.r.IntN(60) == 0 {
		return "eur" // invalid
	}
	return curs[g.r.IntN(len(curs))]
}

func (g *gen) amount() event.Amount {
	switch g.r.IntN(40) {
	case 0:
		return 0
	case 1:
		return -100
	case 2:
		return MaxAmount + 1
	}
	return event.Amount(1+g.r.IntN(60)) * 1000
}

func (g *gen) id(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, g.r.IntN(n)) }

// exactOpen returns the open amount of a random open item, or 0.
func (g *gen) exactOpen() (event.Currency, event.Amount, string) {
	for _, it := range g.m.items {
		if o := g.m.open(it); o > 0 {
			return it.cur, o, it.id
		}
	}
	return "", 0, ""
}

// target picks an invoice id and, most of the time, its currency.
func (g *gen) target() (string, event.Currency) {
	id := g.id("I", 14)
	if it := g.m.items[id]; it != nil && g.r.IntN(5) != 0 {
		return id, it.cur
	}
	return id, g.cur()
}

// disputeID picks an opened dispute most of the time.
func (g *gen) disputeID() string {
	if len(g.m.disp) > 0 && g.r.IntN(4) != 0 {
		ids := slices.Sorted(maps.Keys(g.m.disp))
		return ids[g.r.IntN(len(ids))]
	}
	return g.id("D", 8)
}

func (g *gen) next() event.Event {
	g.clock = g.clock.Add(time.Duration(g.r.IntN(6*24)) * time.Hour)
	g.n++
	ev := event.Event{ID: fmt.Sprintf("e%d", g.n), Time: g.clock, Account: "acc"}
	if g.r.IntN(8) == 0 { // out of order: a fact from the past
		ev.Time = g.clock.AddDate(0, 0, -g.r.IntN(20))
	}
	if len(g.sent) > 0 && g.r.IntN(12) == 0 { // re-sent: same event id
		old := g.sent[g.r.IntN(len(g.sent))]
		return old
	}
	if len(g.sent) > 0 && g.r.IntN(14) == 0 { // same fact, new event id
		old := g.sent[g.r.IntN(len(g.sent))]
		old.ID = ev.ID
		return old
	}
	today := event.DateOf(g.clock)
	switch k := g.r.IntN(100); {
	case k < 22:
		issue := today - event.Date(g.r.IntN(40))
		due := issue + event.Date(g.r.IntN(30))
		if g.r.IntN(40) == 0 {
			due = issue - 1
		}
		ev.Body = &event.InvoiceIssued{InvoiceID: g.id("I", 14), Currency: g.cur(), Amount: g.amount(), IssueDate: issue, DueDate: due}
	case k < 44:
		p := &event.PaymentReceived{PaymentID: g.id("P", 16), Currency: g.cur(), Amount: g.amount()}
		switch g.r.IntN(5) {
		case 0: // exact payment of one item
			if c, o, id := g.exactOpen(); o > 0 {
				p.Currency, p.Amount = c, o
				if g.r.IntN(2) == 0 {
					p.InvoiceIDs = []string{id}
				}
			}
		case 1:
			p.InvoiceIDs = []string{g.id("I", 14), g.id("I", 14)}
		}
		ev.Body = p
	case k < 54:
		t := event.Credit
		if g.r.IntN(3) == 0 {
			t = event.Debit
		}
		if g.r.IntN(60) == 0 {
			t = 9
		}
		a := g.amount()
		if g.r.IntN(2) == 0 {
			a /= 4
		}
		inv, c := g.target()
		ev.Body = &event.InvoiceAdjusted{AdjustmentID: g.id("A", 30), InvoiceID: inv, Type: t, Currency: c, Amount: a}
	case k < 58:
		ev.Body = &event.InvoiceCancelled{InvoiceID: g.id("I", 14)}
	case k < 65:
		ev.Body = &event.PaymentReversed{PaymentID: g.id("P", 16)}
	case k < 72:
		rf := &event.Refund{RefundID: g.id("R", 1000), Currency: g.cur(), Amount: g.amount() / 2}
		if g.r.IntN(2) == 0 {
			rf.PaymentID = g.id("P", 16)
		}
		ev.Body = rf
	case k < 80:
		inv, c := g.target()
		ev.Body = &event.DisputeOpened{DisputeID: g.id("D", 8), InvoiceID: inv, Currency: c, Amount: g.amount() / 3}
	case k < 87:
		o := event.DisputeOutcome(1 + g.r.IntN(3))
		if g.r.IntN(60) == 0 {
			o = 7
		}
		ev.Body = &event.DisputeResolved{DisputeID: g.disputeID(), Outcome: o, CreditAmount: g.amount() / 3 * event.Amount(g.r.IntN(2))}
	case k < 93:
		segs := []event.Segment{event.Postpaid, event.Corporate, event.Prepaid, "bogus", ""}
		ev.Body = &event.AccountUpserted{Segment: segs[g.r.IntN(len(segs))], CreditClass: g.id("C", 3), Currency: "EUR",
			Timezone: "Europe/Berlin", CreditLimit: event.Amount(g.r.IntN(3)) * 100000, Consents: []event.Channel{event.Email, "fax"}}
	case k < 94:
		if g.r.IntN(4) == 0 {
			ev.Body = &event.AccountClosed{Reason: "churn"}
		} else if g.r.IntN(3) == 0 {
			ev.Body = &event.AccountReopened{}
		} else {
			ev.Body = &event.Hold{HoldID: "h"}
		}
	default:
		ev.Body = &event.ClockTick{Partition: 1}
	}
	g.sent = append(g.sent, ev)
	return ev
}

// TestLedgerMatchesModel drives random event sequences through the ledger
// and compares, after every event, the verdict, every item, every payment's
// allocation, the balances and aging of every currency and the counters
// with the model rebuilt from scratch; it also round-trips the encoding at
// every step and checks that a rejection leaves the account untouched.
func TestLedgerMatchesModel(t *testing.T) {
	seqs, steps := 1000, 70
	if testing.Short() {
		seqs = 200
	}
	for seed := range uint64(seqs) {
		rules := Rules{ReversalWindowDays: 36500, RequireAccount: seed%5 == 4}
		runSequence(t, seed, rules, steps)
		if t.Failed() {
			return
		}
	}
	if testing.Verbose() {
		keys := slices.Sorted(maps.Keys(stats))
		for _, k := range keys {
			t.Logf("%-50s %d", k, stats[k])
		}
	}
}

func runSequence(t *testing.T, seed uint64, rules Rules, steps int) {
	t.Helper()
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x1ed9e4)), clock: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	acc := &Account{}
	type logged struct {
		ev  event.Event
		now time.Time
	}
	var log []logged
	g.m = newModel(rules)
	roundTrip := seed%2 == 1
	for step := range steps {
		ev := g.next()
		now := g.clock
		before := acc.Clone()
		encBefore, err := acc.MarshalBinary()
		if err != nil {
			t.Fatalf("seed %d step %d: marshal: %v", seed, step, err)
		}
		res, err := rules.Apply(acc, ev, now)

		// Rebuild the model from the accepted log, then apply ev to it.
		m := newModel(rules)
		for _, e := range log {
			m.eventDay, m.today = dayOf(e.ev, e.now), event.DateOf(e.now)
			m.apply(e.ev)
		}
		m.eventDay, m.today = dayOf(ev, now), event.DateOf(now)
		changed, dup, reason := m.apply(ev)
		g.m = m
		stats[statKey(ev, res, err)]++
		ctx := fmt.Sprintf("seed %d step %d event %s %T %+v", seed, step, ev.ID, ev.Body, ev.Body)
		if got := ReasonOf(err); got != reason {
			t.Fatalf("%s: reason %v (%v), model %v", ctx, got, err, reason)
		}
		if err != nil {
			encAfter, _ := acc.MarshalBinary()
			if !bytes.Equal(encBefore, encAfter) || !reflect.DeepEqual(before, acc) {
				t.Fatalf("%s: rejected event changed the account", ctx)
			}
			continue
		}
		if res.Duplicate != dup || res.Changed != changed {
			t.Fatalf("%s: duplicate=%v changed=%v, model %v %v", ctx, res.Duplicate, res.Changed, dup, changed)
		}
		if changed {
			log = append(log, logged{ev, now})
		}
		compare(t, ctx, acc, m, now)
		if res.Currency != "" && res.FullyPaid() && acc.openIn(res.Currency) != 0 {
			t.Fatalf("%s: FullyPaid with open amount", ctx)
		}

		enc, err := acc.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: marshal: %v", ctx, err)
		}
		var dec Account
		if err := dec.UnmarshalBinary(enc); err != nil {
			t.Fatalf("%s: unmarshal: %v", ctx, err)
		}
		enc2, _ := dec.MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("%s: re-encoding differs", ctx)
		}
		compare(t, ctx+" (decoded)", &dec, m, now)
		if roundTrip {
			acc = &dec
		}
	}
}

var stats = map[string]int{}

func statKey(ev event.Event, res Result, err error) string {
	k := ev.Body.Kind().String()
	switch {
	case err != nil:
		return k + " rejected " + ReasonOf(err).String()
	case res.Duplicate:
		return k + " duplicate"
	case res.Changed:
		if res.FullyPaid() {
			return k + " applied fully-paid"
		}
		if res.UnappliedAfter > res.UnappliedBefore {
			return k + " applied +credit"
		}
		return k + " applied"
	}
	return k + " no-op"
}

func dayOf(ev event.Event, now time.Time) event.Date {
	if ev.Time.IsZero() {
		return event.DateOf(now)
	}
	return event.DateOf(ev.Time)
}

func compare(t *testing.T, ctx string, acc *Account, m *model, now time.Time) {
	t.Helper()
	today := event.DateOf(now)
	if acc.known != m.known || acc.closed != m.closed {
		t.Fatalf("%s: known/closed %v %v, model %v %v", ctx, acc.known, acc.closed, m.known, m.closed)
	}
	if m.known && !acc.master.equal(&m.master) {
		t.Fatalf("%s: master %+v, model %+v", ctx, acc.master, m.master)
	}
	if len(acc.items) != len(m.items) {
		t.Fatalf("%s: %d items, model %d", ctx, len(acc.items), len(m.items))
	}
	for i := range acc.items {
		it := &acc.items[i]
		mi := m.items[it.InvoiceID]
		if mi == nil {
			t.Fatalf("%s: item %s not in model", ctx, it.InvoiceID)
		}
		if i > 0 && allocCmp(&acc.items[i-1], it) >= 0 {
			t.Fatalf("%s: items out of order", ctx)
		}
		if it.Amount != mi.amount || it.Open != m.open(mi) || it.Disputed != m.disputed(mi.id) || it.Cancelled != mi.cancelled ||
			it.Currency != mi.cur || it.DueDate != mi.due || it.IssueDate != mi.issue {
			t.Fatalf("%s: item %+v, model %+v open %s disputed %s", ctx, *it, *mi, m.open(mi), m.disputed(mi.id))
		}
		if it.Settled != (it.Open == 0) {
			t.Fatalf("%s: item %s settled=%v open %s", ctx, it.InvoiceID, it.Settled, it.Open)
		}
		var parts event.Amount
		for pi := range acc.pays {
			for _, pt := range acc.pays[pi].parts {
				if pt.invoice == it.InvoiceID {
					parts += pt.amount
					if pt.amount != m.entries[mKey{pi, it.InvoiceID}] {
						t.Fatalf("%s: payment %s part on %s %s, model %s", ctx, acc.pays[pi].id, it.InvoiceID, pt.amount, m.entries[mKey{pi, it.InvoiceID}])
					}
				}
			}
		}
		if it.credit+parts != it.paid() {
			t.Fatalf("%s: item %s paid %s but credit %s + parts %s", ctx, it.InvoiceID, it.paid(), it.credit, parts)
		}
	}
	if len(acc.pays) != len(m.pays) {
		t.Fatalf("%s: %d payments, model %d", ctx, len(acc.pays), len(m.pays))
	}
	for pi := range acc.pays {
		p, mp := &acc.pays[pi], m.pays[pi]
		if p.id != mp.id || p.unapplied != m.unapplied(pi) || p.refunded != mp.refunded || p.reversed != mp.reversed {
			t.Fatalf("%s: payment %s unapplied %s refunded %s reversed %v, model %s %s %v", ctx, p.id,
				p.unapplied, p.refunded, p.reversed, m.unapplied(pi), mp.refunded, mp.reversed)
		}
	}
	for _, c := range []event.Currency{"EUR", "USD", "GBP"} {
		got, want := acc.Balance(c, now), m.balance(c, today)
		if got != want {
			t.Fatalf("%s: balance %+v, model %+v", ctx, got, want)
		}
		if got.Unapplied > 0 && got.Open > 0 {
			t.Fatalf("%s: %s has both credit and open items: %+v", ctx, c, got)
		}
	}
	bs := acc.Balances(now)
	for _, b := range bs {
		if b != m.balance(b.Currency, today) {
			t.Fatalf("%s: Balances %+v", ctx, b)
		}
	}
	if !slices.IsSortedFunc(bs, func(x, y event.CurrencyBalance) int { return cmpStr(string(x.Currency), string(y.Currency)) }) {
		t.Fatalf("%s: balances not sorted", ctx)
	}
	c := acc.counters
	if int(c.UnknownInvoiceRefs) != m.unknown {
		t.Fatalf("%s: unknown invoice refs %d, model %d", ctx, c.UnknownInvoiceRefs, m.unknown)
	}
	if int(c.InvoicesIssued) != m.counts.issued || int(c.Payments) != m.counts.payments ||
		int(c.Reversals) != m.counts.reversals || int(c.DisputesOpened) != m.counts.disputes {
		t.Fatalf("%s: counters %+v, model %+v", ctx, c, m.counts)
	}
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
