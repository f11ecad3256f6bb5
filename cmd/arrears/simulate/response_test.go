package simulate

import (
	"context"
	"math"
	"strings"
	"testing"
)

// TestHistoricalResponse: --response historical on the book of
// TestCandidateWithoutSMSStage, cure window 30 days. History credits C's
// payment (day 5) to its reminder email (day 3) and B's (day 12) to its
// second reminder SMS (day 10); A never pays. Both payments leave nothing
// overdue: cures of 100.00 each. Rates (all actions at 0-30 days past
// due): NOTIFY/email 1 cure of 3 emails, NOTIFY/sms 1 of 3 SMS (A's and B's
// second reminders, A's barring SMS), every other key 0. The active arm's
// estimate is what history credited: 3/3 + 3/3 = 2 cures, 200.00. The
// candidate keeps the 3 emails and 1 SMS: 1 + 1/3 cures and 133.33: it
// loses exactly the SMS-attributed rate of its two fewer SMS.
func TestHistoricalResponse(t *testing.T) {
	h, o, active, candidate := smsBook(t)
	o.Historical, o.CureDays, o.KeepActions = true, 30, true
	r, err := Run(context.Background(), h, nil, active, candidate, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSMSBook(t, r) // the estimate changes none of the counts
	e := r.Response
	if e == nil {
		t.Fatal("no response estimate")
	}
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %.6f, want %.6f", what, got, want)
		}
	}
	near("active cures", e.Active.Cures, 2)
	near("active cash", e.Active.Cash, 200)
	near("candidate cures", e.Candidate.Cures, 4.0/3)
	near("candidate cash", e.Candidate.Cash, 400.0/3)
	if e.Active.Unrated != 0 || e.Candidate.Unrated != 0 {
		t.Errorf("unrated actions %d and %d, want none", e.Active.Unrated, e.Candidate.Unrated)
	}
	rates := map[RateKey]Rate{}
	for _, x := range e.Rates {
		rates[x.RateKey] = x
	}
	for k, want := range map[RateKey][2]float64{{"NOTIFY/email", "0-30"}: {3, 1}, {"NOTIFY/sms", "0-30"}: {3, 1},
		{"NOTIFY/letter", "0-30"}: {1, 0}, {"SUSPEND", "0-30"}: {1, 0}} {
		if got := rates[k]; float64(got.Actions) != want[0] || got.Cures != want[1] {
			t.Errorf("rate %v: %d actions, %.3f cures, want %v", k, got.Actions, got.Cures, want)
		}
	}
	var tb strings.Builder
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	table := strings.Join(strings.Fields(tb.String()), " ")
	for _, want := range []string{"ESTIMATE cures within 30 days (historical) 2.00 1.33 -0.67",
		"ESTIMATE cash within 30 days (historical) 200.00 133.33 -66.67", "ESTIMATE (--response historical), not an observation: last-touch"} {
		if !strings.Contains(table, want) {
			t.Errorf("table has no %q:\n%s", want, tb.String())
		}
	}
	t.Logf("\n%s", tb.String())
}
