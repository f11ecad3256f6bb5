package chsink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/schemas"
)

// testDecoder is a registry-less codec, the default topics and a decoder
// of them.
func testDecoder(t *testing.T) (*schemas.Codec, kafkax.Topics, *Decoder) {
	t.Helper()
	codec, err := schemas.New(schemas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	topics := kafkax.Defaults().Topics
	return codec, topics, NewDecoder(codec, topics, false)
}

func statusOf(acct string, at time.Time, overdue event.Amount, offset int64) *event.AccountStatus {
	return &event.AccountStatus{Account: acct, Time: at, Segment: event.Postpaid, DaysPastDue: 12, Stage: "reminder",
		Balances:  []event.CurrencyBalance{{Currency: "EUR", Open: 90000, Overdue: overdue, Aging: [6]event.Amount{0, overdue}}},
		OpenItems: 1, OldestDueDate: event.DateOf(at.AddDate(0, 0, -12)), SourcePartition: 3, SourceOffset: offset}
}

// TestStatusDedupLandsChangesOnly: a status whose analyst-visible columns
// repeat the account's last landed row is skipped whatever its time and
// coordinates; any change, a return to an earlier state, another account,
// a Reset and a forgotten account land; the memory stays within capacity.
func TestStatusDedupLandsChangesOnly(t *testing.T) {
	d := newStatusDedup(4)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	land := func(s *event.AccountStatus) bool {
		return d.land(s.Account, analytics.StatusRow(s, analytics.Source{Topic: "ar.status", Partition: 1, Offset: s.SourceOffset}, time.Now()))
	}
	steps := []struct {
		what   string
		status *event.AccountStatus
		want   bool
	}{
		{"first", statusOf("A1", at, 50000, 1), true},
		{"repeat, later and elsewhere", statusOf("A1", at.Add(3*time.Hour), 50000, 2), false},
		{"overdue changed", statusOf("A1", at.Add(4*time.Hour), 60000, 3), true},
		{"back to the first state", statusOf("A1", at.Add(5*time.Hour), 50000, 4), true},
		{"another account, same values", statusOf("A2", at, 50000, 5), true},
		{"repeat of A2", statusOf("A2", at.Add(time.Hour), 50000, 6), false},
	}
	for _, s := range steps {
		if got := land(s.status); got != s.want {
			t.Errorf("%s: land = %v, want %v", s.what, got, s.want)
		}
	}
	tier := statusOf("A2", at.Add(2*time.Hour), 50000, 7)
	tier.RiskTier = "HIGH"
	if !land(tier) {
		t.Error("risk tier changed: not landed")
	}
	d.Reset()
	if !land(tier) {
		t.Error("after Reset: a repeat must land (another sink may have landed rows meanwhile)")
	}
	for i := range 10 {
		land(statusOf(fmt.Sprintf("B%d", i), at, 1, int64(10+i)))
		if n := len(d.cur) + len(d.old); n > 4 {
			t.Fatalf("%d accounts remembered, capacity 4", n)
		}
	}
	if !land(tier) {
		t.Error("a forgotten account's repeat must land")
	}
	if newStatusDedup(0) != nil || !(*statusDedup)(nil).land("A1", analytics.Row{}) {
		t.Error("capacity 0 must land every status")
	}
}

// TestDecoderSkipsRepeatedStatus: the sink's decoder gives a repeated
// status record's risk-features row only when the state decodes, and no
// row at all when it does not.
func TestDecoderSkipsRepeatedStatus(t *testing.T) {
	codec, topics, dec := testDecoder(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, want := range []int{1, 0, 1} {
		s := statusOf("A1", at.Add(time.Duration(i)*time.Hour), 50000, int64(i))
		if i == 2 {
			s.Stage = "final"
		}
		v, err := codec.EncodeStatus(ctx, topics.Status, s)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := dec.Rows(ctx, &kgo.Record{Topic: topics.Status, Value: v}, at)
		if err != nil || len(rows) != want {
			t.Fatalf("status %d: %d rows, %v; want %d", i, len(rows), err, want)
		}
	}
}
