package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// Options shape a generated book.
type Options struct {
	// Seed makes the stream reproducible: the same options give the same events.
	Seed uint64
	// Accounts is the number of accounts (default 10000).
	Accounts int
	// Start is the first simulated instant (default 2026-01-01 UTC).
	Start time.Time
	// Months is the simulated period (default 3).
	Months int
	// Partitions is the partition count of the events topic; one ClockTick per
	// partition is generated every TickEvery (default 12).
	Partitions int
	// TickEvery is the simulated time between clock ticks (default 1h).
	TickEvery time.Duration
	// BillRun, when set, bills the whole book at this one instant (bill
	// cycle BillRunCycle) instead of the cycles of the month from its day
	// (see billrun.go); the stream before that day is unchanged.
	BillRun time.Time
	// ArmResponse, when set, gives one experiment's accounts an
	// arm-specific payment response (experiment.go).
	ArmResponse *ArmResponse
}

func (o Options) withDefaults() Options {
	if o.Accounts <= 0 {
		o.Accounts = 10000
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Months <= 0 {
		o.Months = 3
	}
	if o.Partitions <= 0 {
		o.Partitions = 12
	}
	if o.TickEvery <= 0 {
		o.TickEvery = time.Hour
	}
	return o
}

// Account is one generated account's profile.
type Account struct {
	ID       string
	Segment  event.Segment
	Currency event.Currency
	Timezone string
	// CycleDay is the bill-cycle day of the month (1, 8, 15 or 22).
	CycleDay int
	// LatentRisk in [0, 1] drives payment behaviour; the processor never sees it.
	LatentRisk float64
	// MeanBill is the typical invoice amount.
	MeanBill event.Amount
	Parent   string
}

// Generator streams the events of a book in non-decreasing event time.
type Generator struct {
	o        Options
	r        *rand.Rand
	accounts []Account
	end      time.Time
	day      time.Time               // the next day to build
	pending  map[int32][]event.Event // future events by day number
	buf      []event.Event           // the current day's events, sorted
	seq      uint64
	upserted bool
	lastPay  string
	building time.Time // start of the day being built
}

// New builds a generator; the account profiles are drawn at once.
func New(o Options) *Generator {
	o = o.withDefaults()
	g := &Generator{o: o, r: rand.New(rand.NewPCG(o.Seed, 0x5eed)), pending: map[int32][]event.Event{}}
	g.end = o.Start.AddDate(0, o.Months, 0)
	g.day = o.Start
	zones := []string{"Europe/Berlin", "Europe/Berlin", "Europe/London", "Europe/Paris", "America/New_York"}
	var parent string
	for i := 0; i < o.Accounts; i++ {
		a := Account{ID: fmt.Sprintf("ACC-%07d", i), Currency: "EUR", CycleDay: []int{1, 8, 15, 22}[g.r.IntN(4)]}
		switch u := g.r.Float64(); {
		case u < 0.80:
			a.Segment, a.MeanBill = event.Postpaid, event.Amount(300000+g.r.IntN(700000)) // 30-100
		case u < 0.90:
			a.Segment, a.MeanBill = event.Prepaid, event.Amount(150000+g.r.IntN(250000)) // device installments 15-40
		case u < 0.98:
			a.Segment, a.MeanBill = event.Corporate, event.Amount(5000000+g.r.IntN(45000000)) // 500-5000
			if parent != "" && g.r.IntN(3) > 0 {
				a.Parent = parent
			} else {
				parent = a.ID
			}
		default:
			a.Segment, a.MeanBill = event.Wholesale, event.Amount(200000000+g.r.IntN(800000000)) // 20k-100k
		}
		a.Timezone = zones[g.r.IntN(len(zones))]
		if a.Timezone == "Europe/London" {
			a.Currency = "GBP"
		} else if a.Timezone == "America/New_York" {
			a.Currency = "USD"
		}
		// Latent risk: most customers pay, a tail does not (logistic of a normal).
		z := g.r.NormFloat64()*1.2 - 1.6
		if a.Segment == event.Prepaid {
			z += 0.5
		}
		if a.Segment == event.Wholesale {
			z -= 0.8
		}
		a.LatentRisk = 1 / (1 + math.Exp(-z))
		g.accounts = append(g.accounts, a)
	}
	return g
}

// Accounts returns the generated profiles (the latent risk is the ground
// truth a risk model is judged against).
func (g *Generator) Accounts() []Account { return g.accounts }

// Truth returns an account's latent risk (NaN for an unknown id).
func (g *Generator) Truth(id string) float64 {
	var n int
	if _, err := fmt.Sscanf(id, "ACC-%d", &n); err != nil || n < 0 || n >= len(g.accounts) {
		return math.NaN()
	}
	return g.accounts[n].LatentRisk
}

// Next returns the next event in time order, false when the period ends.
func (g *Generator) Next() (event.Event, bool) {
	for len(g.buf) == 0 {
		if !g.day.Before(g.end) {
			return event.Event{}, false
		}
		g.buildDay()
	}
	ev := g.buf[0]
	g.buf = g.buf[1:]
	return ev, true
}

func dayNum(t time.Time) int32 { return int32(t.Unix() / 86400) }

func (g *Generator) id(kind string) string {
	g.seq++
	return fmt.Sprintf("%d-%s-%d", g.o.Seed, kind, g.seq)
}

// later schedules an event on a future day.
func (g *Generator) later(ev event.Event) {
	if ev.Time.Before(g.building) { // never in a day already emitted
		ev.Time = g.building.Add(22 * time.Hour)
	}
	if ev.Time.Before(g.end) {
		d := dayNum(ev.Time)
		g.pending[d] = append(g.pending[d], ev)
	}
}

// buildDay produces every event of the current simulated day, sorted.
func (g *Generator) buildDay() {
	day := g.day
	g.day = day.Add(24 * time.Hour)
	g.building = day
	var evs []event.Event
	if !g.upserted {
		g.upserted = true
		for i := range g.accounts {
			evs = append(evs, g.upsert(&g.accounts[i], day))
		}
	}
	g.billDay(day, &evs)
	evs = append(evs, g.pending[dayNum(day)]...) // includes what today's bills scheduled for today
	delete(g.pending, dayNum(day))
	for t := day; t.Before(day.Add(24 * time.Hour)); t = t.Add(g.o.TickEvery) {
		for p := 0; p < g.o.Partitions; p++ {
			evs = append(evs, event.Event{ID: fmt.Sprintf("%d-tick-%d-%d", g.o.Seed, p, t.UnixMilli()), Time: t,
				Source: "workload-clock", Body: &event.ClockTick{Partition: int32(p)}})
		}
	}
	// Stable on (time, generation order): deterministic and time-ordered.
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	g.buf = evs
}

func (g *Generator) upsert(a *Account, at time.Time) event.Event {
	consents := []event.Channel{event.Email, event.Letter}
	if g.r.IntN(10) < 8 {
		consents = append(consents, event.SMS)
	}
	var ex []string
	switch {
	case a.Segment == event.Corporate && g.r.IntN(20) == 0:
		ex = []string{"GOVERNMENT"}
	case g.r.IntN(200) == 0:
		ex = []string{"VIP"}
	}
	class := []string{"A", "B", "B", "C"}[g.r.IntN(4)]
	return event.Event{ID: g.id("up"), Time: at, Source: "crm", Account: a.ID, Body: &event.AccountUpserted{
		Segment: a.Segment, ParentID: a.Parent, CreditClass: class, Currency: a.Currency, Timezone: a.Timezone,
		CreditLimit: a.MeanBill * 3 / 100 * 100, Consents: consents, Exemptions: ex}}
}
