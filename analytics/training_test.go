package analytics

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/risk/synth"
	"github.com/arrears/arrears/processor/risk/train"
)

// featureRow is one risk_features row as the sink would land it.
func featureRow(acct string, at time.Time, f risk.Features, overdue event.Amount, oldest event.Date) Row {
	s := event.AccountStatus{Account: acct, Time: at, OldestDueDate: oldest,
		Balances: []event.CurrencyBalance{{Currency: "EUR", Overdue: overdue}}}
	return RiskFeaturesRow(&s, f, Source{}, at)
}

// trainingLabelRows is the hand-made history of TestTrainingRowsLabels.
func trainingLabelRows() []Row {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	f := func(dpd int32, late int32) risk.Features {
		return risk.Features{DaysPastDue: dpd, LatePayments12M: late, Segment: event.Postpaid, TenureDays: 400}
	}
	due := event.DateOf(d("2026-01-30"))
	return []Row{
		featureRow("A", d("2026-02-20"), f(10, 1), 100, event.DateOf(d("2026-02-10"))),
		featureRow("A", d("2026-04-11"), f(60, 9), 100, event.DateOf(d("2026-02-10"))),
		featureRow("A", d("2026-05-16"), f(95, 9), 100, event.DateOf(d("2026-02-10"))),
		featureRow("B", d("2026-02-25"), f(20, 2), 100, event.DateOf(d("2026-02-05"))),
		featureRow("B", d("2026-03-10"), f(0, 3), 0, 0),
		featureRow("C", d("2026-02-28"), f(30, 3), 100, due),
		featureRow("D", d("2026-02-15"), f(95, 7), 100, event.DateOf(d("2025-11-12"))),
		featureRow("E", d("2026-03-05"), f(0, 0), 0, 0),
		featureRow("Z", d("2026-01-01"), f(0, 0), 0, 0), // sets the history's start
		featureRow("Z", d("2026-06-30"), f(0, 0), 0, 0), // and its end
		featureRow("Z", d("2026-06-30"), f(0, 0), 0, 0), // a duplicate (replay): counts once
		featureRow("B", d("2026-03-10"), f(0, 3), 0, 0), // likewise
		featureRow("A", d("2026-02-20"), f(10, 1), 100, event.DateOf(d("2026-02-10"))),
	}
}

// TestTrainingRowsLabels checks the snapshot sampling and labels on a
// hand-made history. Snapshot at T = 03-01, horizon 90 days (to 05-30),
// default = 90 days past due:
//
//	A: 10 dpd at T, a row at 60 dpd in April, then one at 95 dpd in May -> 1
//	B: 20 dpd at T, paid in March (0 dpd)                                -> 0
//	C: 30 dpd at T, no later row, oldest unpaid item due 01-30: at 05-30
//	   it is 120 days past due                                           -> 1
//	D: 95 dpd at T: already defaulted, left out
//	E: first row after T: not in this snapshot
//	B's later row and A's are not features at T (argMax before T).
func TestTrainingRowsLabels(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	rows := trainingLabelRows()
	if err := InsertRows(ctx, c, rows); err != nil {
		t.Fatal(err)
	}
	got, err := TrainingRows(ctx, c, TrainingOptions{From: d("2026-03-01"), To: d("2026-03-01")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]bool{1: true, 2: false, 3: true, 0: false} // by LatePayments12M: A, B, C, Z
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d (A, B, C, Z): %+v", len(got), len(want), got)
	}
	for _, r := range got {
		w, ok := want[r.Features.LatePayments12M]
		if !ok || r.Defaulted != w || !r.Time.Equal(d("2026-03-01")) {
			t.Errorf("row %+v: want defaulted %v at 03-01", r, w)
		}
	}

	// default span: first row + 30 days .. last row - 90 days
	all, err := TrainingRows(ctx, c, TrainingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 || !all[0].Time.Equal(d("2026-01-31")) || all[len(all)-1].Time.After(d("2026-04-01")) {
		t.Errorf("default snapshots: %d rows from %v to %v", len(all), all[0].Time, all[len(all)-1].Time)
	}
	if _, err := TrainingRows(ctx, c, TrainingOptions{From: d("2026-05-01"), To: d("2026-04-01")}); !errors.Is(err, ErrNoHistory) {
		t.Errorf("empty span: err = %v, want ErrNoHistory", err)
	}
}

// TestTrainFromClickHouse lands a synthetic history whose default
// propensity is known (processor/risk/synth) as risk_features rows: each
// account's features at its snapshot time, then 45 days later either 120
// days past due (it defaulted) or paid up. Sampled back through
// TrainingRows and fitted, the held-out AUC must reach 0.75.
func TestTrainFromClickHouse(t *testing.T) {
	c := testConn(t)
	ctx := context.Background()
	if err := Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []Row
	samples := synth.Generate(synth.Config{Accounts: 8000, Seed: 11, Start: start, Months: 1})
	for i, s := range samples {
		// half the accounts in January, half in July
		at := s.Time
		if i%2 == 1 {
			at = at.AddDate(0, 6, 0)
		}
		acct := fmt.Sprintf("S%05d", i)
		rows = append(rows, featureRow(acct, at, s.Features, 100, event.DateOf(at)-event.Date(s.Features.DaysPastDue)))
		later := s.Features
		if s.Defaulted {
			later.DaysPastDue = 120
			rows = append(rows, featureRow(acct, at.AddDate(0, 0, 45), later, 100, event.DateOf(at.AddDate(0, 0, 45))-120))
		} else {
			later.DaysPastDue = 0
			rows = append(rows, featureRow(acct, at.AddDate(0, 0, 45), later, 0, 0))
		}
	}
	for i := 0; i < len(rows); i += 10000 {
		if err := InsertRows(ctx, c, rows[i:min(i+10000, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := TrainingRows(ctx, c, TrainingOptions{From: start.AddDate(0, 1, 0), To: start.AddDate(0, 7, 0), Every: 181 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defaults := 0
	for _, r := range got {
		if r.Defaulted {
			defaults++
		}
	}
	if len(got) < 6000 || defaults == 0 {
		t.Fatalf("%d snapshots, %d defaulted", len(got), defaults)
	}
	_, met, err := train.Train(got, train.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d snapshots (%d defaulted): held-out AUC %.4f, KS %.4f", len(got), defaults, met.AUC, met.KS)
	if met.AUC < 0.75 {
		t.Errorf("held-out AUC %.4f < 0.75", met.AUC)
	}
}
