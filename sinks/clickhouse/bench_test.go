package chsink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor/event"
)

// BenchmarkInsert measures the sink's insert path (inserter over
// analytics.Insert, explicit columns) for events rows in 10k-row batches.
// It reports rows/s; run with
//
//	go test -run '^$' -bench BenchmarkInsert -benchtime 20x ./sinks/clickhouse
func BenchmarkInsert(b *testing.B) {
	in, _ := testInserter(b, "arrears_bench")
	ctx := context.Background()
	const batch = 10000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(it int) []pendingRow {
		rows := make([]pendingRow, 0, batch)
		for i := 0; i < batch; i++ {
			acct := fmt.Sprintf("A%06d", i%5000)
			ev := event.Event{ID: fmt.Sprintf("e-%d-%d", it, i), Time: t0.Add(time.Duration(i) * time.Second), Source: "bench", Account: acct,
				Body: &event.InvoiceIssued{InvoiceID: fmt.Sprintf("I-%d-%d", it, i), Currency: "EUR", Amount: event.Amount(1234500 + i), IssueDate: 20454, DueDate: 20468}}
			r := analytics.EventRows(ev, analytics.Source{Topic: "ar.events", Partition: int32(i % 12), Offset: int64(i)}, t0)[0]
			rows = append(rows, pendingRow{values: r.Values})
		}
		return rows
	}
	b.ResetTimer()
	var total int
	for it := 0; it < b.N; it++ {
		b.StopTimer()
		rows := mk(it)
		b.StartTimer()
		rej, err := in.insert(ctx, analytics.EventsTable, rows)
		if err != nil || len(rej) != 0 {
			b.Fatalf("insert: %v, %d rejected", err, len(rej))
		}
		total += len(rows)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
}
