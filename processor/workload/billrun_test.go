package workload

import (
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// TestBillRun: a bill run invoices every account once at its instant, no
// cycle bills in the month after it, and the stream before its day is the
// stream without it, event for event.
func TestBillRun(t *testing.T) {
	o := Options{Seed: 3, Accounts: 300, Months: 2, Partitions: 3}
	run := o.withDefaults().Start.AddDate(0, 1, 0).Add(6 * time.Hour)
	_, _, plain := digest(o)
	o.BillRun = run
	_, _, withRun := digest(o)
	day := run.Truncate(24 * time.Hour)
	i := 0
	for ; i < len(plain) && plain[i].Time.Before(day); i++ {
		if a, b := plain[i], withRun[i]; a.ID != b.ID || !a.Time.Equal(b.Time) || a.Account != b.Account {
			t.Fatalf("event %d before the run differs: %+v vs %+v", i, a, b)
		}
	}
	invoiced := map[string]int{}
	for _, ev := range withRun[i:] {
		inv, ok := ev.Body.(*event.InvoiceIssued)
		if !ok {
			continue
		}
		if inv.BillCycle != BillRunCycle || !ev.Time.Equal(run) {
			t.Errorf("invoice %s of cycle %s at %s after the run's day, want only cycle %s at %s", inv.InvoiceID, inv.BillCycle, ev.Time, BillRunCycle, run)
		}
		invoiced[ev.Account]++
	}
	if len(invoiced) != o.Accounts {
		t.Errorf("bill run invoiced %d accounts, want %d", len(invoiced), o.Accounts)
	}
	for a, n := range invoiced {
		if n != 1 {
			t.Errorf("%s invoiced %d times", a, n)
		}
	}
}
