package chsink

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/event"
)

// TestStatusRowsCarryRiskFeatures: a status record with the account's state
// gives its account_status row and a risk_features row holding the features
// of that state at the record's time; one without a readable state gives
// the status row only.
func TestStatusRowsCarryRiskFeatures(t *testing.T) {
	codec, topics, dec := testDecoder(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	st := &core.State{}
	env := &core.Env{}
	for _, ev := range []event.Event{
		{ID: "u1", Time: t0, Account: "A1", Body: &event.AccountUpserted{Segment: event.Postpaid, Currency: "EUR"}},
		{ID: "i1", Time: t0, Account: "A1", Body: &event.InvoiceIssued{InvoiceID: "I1", Currency: "EUR", Amount: 1000000,
			IssueDate: event.DateOf(t0), DueDate: event.DateOf(t0.AddDate(0, 0, 14))}},
	} {
		if _, err := core.Apply(st, ev, t0, env); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.AddDate(0, 0, 40) // 26 days past due
	state, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	status := st.Status(at)
	status.Account, status.State = "A1", state
	v, err := codec.EncodeStatus(ctx, topics.Status, &status)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := dec.Rows(ctx, &kgo.Record{Topic: topics.Status, Value: v}, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Table != analytics.StatusTable || rows[1].Table != analytics.RiskFeaturesTable {
		t.Fatalf("rows: %+v", rows)
	}
	want := st.Features(at)
	if want.DaysPastDue != 26 {
		t.Fatalf("features of the test state: %+v, want 26 days past due", want)
	}
	f := rows[1].Values
	if f[0] != "A1" || f[3] != want.DaysPastDue || f[4] != want.OverdueRatio || f[11] != want.TenureDays || f[12] != want.OpenInvoices {
		t.Errorf("risk_features row %v, want features %+v", f, want)
	}

	status.State = []byte("not a state")
	v, err = codec.EncodeStatus(ctx, topics.Status, &status)
	if err != nil {
		t.Fatal(err)
	}
	dec = NewDecoder(codec, topics, false) // a fresh one: this status repeats the last landed one
	if rows, err := dec.Rows(ctx, &kgo.Record{Topic: topics.Status, Value: v}, at); err != nil || len(rows) != 1 {
		t.Fatalf("unreadable state: %d rows, %v; want the status row only", len(rows), err)
	}
}
