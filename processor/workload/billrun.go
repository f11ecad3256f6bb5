package workload

import (
	"time"

	"github.com/arrears/arrears/processor/event"
)

// BillRunCycle is the bill cycle of the invoices of a bill run.
const BillRunCycle = "RUN"

// billDay issues the day's invoices: those of the accounts whose cycle day
// it is; with a bill run, on its day every account's invoice at its
// instant and, for a month from that day, no cycle's (the run was the
// month's bill). Days before the run draw exactly what they draw without
// one, so a book generated with a bill run equals the one without up to
// that day.
func (g *Generator) billDay(day time.Time, out *[]event.Event) {
	if run := g.o.BillRun; !run.IsZero() {
		first := run.Truncate(24 * time.Hour)
		switch {
		case day.Equal(first):
			for i := range g.accounts {
				g.billAt(&g.accounts[i], run, BillRunCycle, out)
			}
			return
		case day.After(first) && day.Before(first.AddDate(0, 1, 0)):
			return
		}
	}
	for i := range g.accounts {
		if a := &g.accounts[i]; day.Day() == a.CycleDay {
			g.bill(a, day, out)
		}
	}
}
