package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/arrears/arrears/analytics"
)

// ClickHouse is the History the sink landed in table event_records
// (migration 0006): read with FINAL, each partition in offset order.
type ClickHouse struct{ Conn *analytics.Conn }

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

// Records implements History: one query, in (partition, offset) order.
func (c ClickHouse) Records(ctx context.Context, until time.Time, f func(Record) error) error {
	rows, err := c.Conn.Query(ctx, "SELECT kafka_partition, event_ms, account_id, record_value FROM "+c.table()+
		" FINAL WHERE event_ms <= ? ORDER BY kafka_partition, kafka_offset", until.UnixMilli())
	if err != nil {
		return fmt.Errorf("event_records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Record
		var v string
		if err := rows.Scan(&r.Partition, &r.Ms, &r.Account, &v); err != nil {
			return fmt.Errorf("event_records: %w", err)
		}
		r.Value = []byte(v)
		if err := f(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("event_records: %w", err)
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
