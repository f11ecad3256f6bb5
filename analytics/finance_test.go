package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
)

// financeDataset is the finance reports' data (figures in
// TestFinanceReports).
func financeDataset() []Row {
	now := time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	amt := event.MustAmount
	var rows []Row
	for i, a := range []struct{ id, seg string }{{"F1", "corporate"}, {"F2", "corporate"}, {"F3", "postpaid"}} {
		rows = append(rows, EventRows(event.Event{ID: "fin-up-" + a.id, Time: at("2025-10-01 09:00"), Source: "test", Account: a.id,
			Body: &event.AccountUpserted{Segment: event.Segment(a.seg), Currency: "EUR"}}, Source{Topic: "ar.events", Offset: int64(i)}, now)...)
	}
	gl := func(id, acct, when, kind, ref, a string) {
		rows = append(rows, GLRow(&event.GLEntry{EntryID: id, Account: acct, Time: at(when), Kind: kind, Currency: "EUR",
			Amount: amt(a), DebitAccount: "d", CreditAccount: "c", Reference: ref}, Source{}, now))
	}
	gl("P1", "F1", "2026-03-01 00:00", "PROVISION_INCREASE", "2026-02-28", "55.56")
	gl("P2", "F1", "2026-04-01 00:00", "PROVISION_INCREASE", "2026-03-31", "11.94")
	gl("P3", "F2", "2026-02-01 00:00", "PROVISION_INCREASE", "2026-01-31", "100")
	gl("P4", "F2", "2026-03-01 00:00", "PROVISION_RELEASE", "2026-02-28", "40")
	gl("P5", "F2", "2026-04-01 00:00", "PROVISION_RELEASE", "2026-03-31", "60")
	gl("P6", "F3", "2026-04-01 00:00", "PROVISION_INCREASE", "2026-03-31", "20")
	gl("P7", "F3", "2026-05-01 00:00", "PROVISION_INCREASE", "2026-04-30", "7")
	gl("R1", "F1", "2026-03-20 10:00", "AGENCY_RECOVERY", "acme", "400")
	gl("C1", "F1", "2026-03-20 10:00", "AGENCY_COMMISSION", "acme", "60")
	gl("R2", "F3", "2026-02-10 10:00", "AGENCY_RECOVERY", "acme", "100")
	gl("C2", "F3", "2026-02-10 10:00", "AGENCY_COMMISSION", "acme", "15")
	gl("R3", "F3", "2026-04-02 10:00", "AGENCY_RECOVERY", "acme", "50")
	gl("R4", "F1", "2026-03-25 10:00", "AGENCY_RECOVERY_REVERSED", "acme", "100")
	gl("C4", "F1", "2026-03-25 10:00", "AGENCY_COMMISSION_REVERSED", "acme", "15")
	place := func(id, acct, when, agency, a string) {
		rows = append(rows, ActionRow(&event.DunningAction{ActionID: id, Account: acct, Time: at(when), Stage: "agency",
			Type: event.ActionAgency, Queue: agency, Currency: "EUR", OverdueAmount: amt(a), Amount: amt(a)}, Source{}, now))
	}
	place("X1", "F1", "2026-03-14 00:00", "acme", "1000")
	place("X2", "F3", "2026-01-10 00:00", "acme", "500")
	place("X3", "F2", "2026-03-02 00:00", "zenith", "200")
	status := func(acct, when string, dpd int32, tier, open string) {
		rows = append(rows, StatusRow(&event.AccountStatus{Account: acct, Time: at(when), DaysPastDue: dpd, RiskTier: tier,
			Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt(open)}}}, Source{}, now))
	}
	status("F1", "2026-03-20 10:00", 40, "HIGH", "600")
	status("F2", "2026-03-25 10:00", 0, "LOW", "0")
	status("F3", "2026-03-02 10:00", 95, "HIGH", "400")
	status("F3", "2026-04-01 00:00", 125, "VERY_HIGH", "400")
	return rows
}

// TestFinanceReports, as of 2026-03-31 over 31 days: the period holds the
// month end 03-31 (a provision's reference; it was booked on 04-01), the
// opening is what references 02-28 and before.
//
//	provisions: F1 (31-60, HIGH: 40 dpd on 03-20) opens at 55.56, +11.94
//	  -> 67.50 on 600.00 open: coverage 0.1125. F2 (current, LOW) opens at
//	  100.00 - 40.00 = 60.00, released 60.00 -> 0, nothing open (coverage
//	  NULL). F3 (91-120, HIGH: its 04-01 status is after the date) +20.00
//	  -> 20.00 on 400.00: 0.05; its April provision is after the date.
//	  difference is 0 on every row.
//	agencies: acme placed F1's 1,000.00 on 03-14 (F3's 500.00 on 01-10 is
//	  before the period), recovered 400.00 with 60.00 commission in it, of
//	  which a 100.00 payment bounced on 03-25 (commission 15.00 back):
//	  300.00, 45.00, rate 0.3; to date 1,500.00 placed, 400.00 recovered:
//	  0.2667 (F3's 04-02 recovery is after the date). zenith placed 200.00, recovered
//	  nothing: 0.
func TestFinanceReports(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 { // as a replay would: FINAL counts each entry once
		if err := InsertRows(ctx, c, financeDataset()); err != nil {
			t.Fatal(err)
		}
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		opts ReportOptions
		want string
	}{
		{"provisions", ReportOptions{AsOf: asOf}, `bucket|tier|currency|accounts|opening_allowance|increases|releases|closing_allowance|difference|exposure|coverage
current|LOW|EUR|1|60|0|60|0|0|0|NULL
31-60|HIGH|EUR|1|55.56|11.94|0|67.5|0|600|0.1125
91-120|HIGH|EUR|1|0|20|0|20|0|400|0.05`},
		{"provisions", ReportOptions{AsOf: asOf, Segment: "corporate"}, `bucket|tier|currency|accounts|opening_allowance|increases|releases|closing_allowance|difference|exposure|coverage
current|LOW|EUR|1|60|0|60|0|0|0|NULL
31-60|HIGH|EUR|1|55.56|11.94|0|67.5|0|600|0.1125`},
		{"agencies", ReportOptions{AsOf: asOf, Days: 31}, `agency|currency|placements|placed|recovered|commission|recovery_rate|placed_to_date|recovered_to_date|recovery_rate_to_date
acme|EUR|1|1000|300|45|0.3|1500|400|0.2667
zenith|EUR|1|200|0|0|0|200|0|0`},
	} {
		got, err := Report(ctx, c, tc.name, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if s := render(got); s != tc.want {
			t.Errorf("%s %+v:\n got %s\nwant %s", tc.name, tc.opts.Segment, s, tc.want)
		}
	}
}

// FinanceDataset is financeDataset for the external engine comparison
// (finance_chdb_test.go).
var FinanceDataset = financeDataset
