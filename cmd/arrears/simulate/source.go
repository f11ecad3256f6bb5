package simulate

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/arrears/arrears/analytics"
)

// ClickHouse is the History the sink landed in table event_records
// (migration 0006): read with FINAL, each partition in offset order.
type ClickHouse struct {
	Conn *analytics.Conn
	// Chunk is about how many records one query of Records reads (0:
	// readChunk).
	Chunk int
}

func (c ClickHouse) table() string { return c.Conn.Table(analytics.EventRecordsTable.Name) }

// Partitions implements History.
func (c ClickHouse) Partitions(ctx context.Context) (int, error) {
	var n, hi int64
	if err := c.Conn.QueryRow(ctx, "SELECT toInt64(count()), toInt64(max(kafka_partition)) FROM "+c.table()).Scan(&n, &hi); err != nil {
		return 0, fmt.Errorf("event_records: %w", err)
	}
	if n == 0 {
		return 0, ErrNoHistory
	}
	return int(hi) + 1, nil
}

// Accounts implements History.
func (c ClickHouse) Accounts(ctx context.Context) ([]string, error) {
	rows, err := c.Conn.Query(ctx, "SELECT DISTINCT account_id FROM "+c.table())
	if err != nil {
		return nil, fmt.Errorf("event_records accounts: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("event_records accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Count implements History.
func (c ClickHouse) Count(ctx context.Context, until time.Time) (int, error) {
	var n uint64
	if err := c.Conn.QueryRow(ctx, "SELECT count() FROM "+c.table()+" FINAL WHERE event_ms <= ?", until.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("event_records count: %w", err)
	}
	return int(n), nil
}

// Records implements History, in chunks of offsets (readChunk records at
// most a query), each in (offset, partition) order: every partition's
// records in offset order, the partitions interleaved. One query for the
// whole history would fail on a large book: the driver's read timeout
// (clickhouse.read_timeout) bounds a whole query.
func (c ClickHouse) Records(ctx context.Context, until time.Time, f func(Record) error) error {
	var n, lo, hi, parts int64
	if err := c.Conn.QueryRow(ctx, "SELECT toInt64(count()), toInt64(min(kafka_offset)), toInt64(max(kafka_offset)), "+
		"toInt64(max(kafka_partition)) + 1 FROM "+c.table()).Scan(&n, &lo, &hi, &parts); err != nil {
		return fmt.Errorf("event_records: %w", err)
	}
	if n == 0 {
		return nil
	}
	chunk := int64(cmp.Or(c.Chunk, readChunk))
	step := max(chunk/max(parts, 1), 1) // offsets a query
	for from := lo; from <= hi; from += step {
		if err := c.records(ctx, until, from, from+step, f); err != nil {
			return err
		}
	}
	return nil
}

// readChunk is about how many records one query of Records reads (a
// partition's offsets are about as many as the others').
const readChunk = 1 << 19

// records calls f for the records with offsets in [from, to).
func (c ClickHouse) records(ctx context.Context, until time.Time, from, to int64, f func(Record) error) error {
	rows, err := c.Conn.Query(ctx, "SELECT kafka_partition, event_ms, account_id, record_value FROM "+c.table()+
		" FINAL WHERE event_ms <= ? AND kafka_offset >= ? AND kafka_offset < ? ORDER BY kafka_offset, kafka_partition",
		until.UnixMilli(), from, to)
	if err != nil {
		return fmt.Errorf("event_records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		// the value straight into a []byte: the driver's string, not copied again
		if err := rows.Scan(&r.Partition, &r.Ms, &r.Account, &r.Value); err != nil {
			return fmt.Errorf("event_records: %w", err)
		}
		if err := f(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("event_records offsets [%d, %d): %w", from, to, err)
	}
	return nil
}

// Last is the latest event time landed (ErrNoHistory when none): the
// default end of a simulation.
func (c ClickHouse) Last(ctx context.Context) (time.Time, error) {
	var n, ms int64
	if err := c.Conn.QueryRow(ctx, "SELECT toInt64(count()), toInt64(max(event_ms)) FROM "+c.table()).Scan(&n, &ms); err != nil {
		return time.Time{}, fmt.Errorf("event_records: %w", err)
	}
	if n == 0 {
		return time.Time{}, ErrNoHistory
	}
	return time.UnixMilli(ms).UTC(), nil
}
