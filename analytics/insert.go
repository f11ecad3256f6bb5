package analytics

import (
	"context"
	"fmt"
	"time"
)

// RowError is a row the client refused to append (a value its column type
// cannot hold); Index is its position in the rows given to Insert.
type RowError struct {
	Index int
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Index, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// Insert writes rows (all of table t) in one batch with an explicit column
// list. A row the client cannot encode fails the whole call with a
// *RowError naming it, before anything is sent.
func Insert(ctx context.Context, c *Conn, t *TableSpec, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := c.PrepareBatch(ctx, t.InsertSQL(c.Database))
	if err != nil {
		return fmt.Errorf("prepare insert into %s: %w", t.Name, err)
	}
	for i, r := range rows {
		if err := checkTimes(r); err != nil {
			_ = b.Abort()
			return fmt.Errorf("insert into %s: %w", t.Name, &RowError{Index: i, Err: err})
		}
		if err := b.Append(r...); err != nil {
			_ = b.Abort()
			return fmt.Errorf("insert into %s: %w", t.Name, &RowError{Index: i, Err: err})
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d rows into %s: %w", len(rows), t.Name, err)
	}
	return nil
}

// InsertRows groups rows by table and inserts each group.
func InsertRows(ctx context.Context, c *Conn, rows []Row) error {
	by := map[*TableSpec][][]any{}
	var order []*TableSpec
	for _, r := range rows {
		if _, ok := by[r.Table]; !ok {
			order = append(order, r.Table)
		}
		by[r.Table] = append(by[r.Table], r.Values)
	}
	for _, t := range order {
		if err := Insert(ctx, c, t, by[t]); err != nil {
			return err
		}
	}
	return nil
}

// DateTime and Date hold 1970-01-01 to 2106-02-07; the client would
// silently wrap a time outside, so such a row is refused instead.
var minTime, maxTime = time.Unix(0, 0), time.Unix(1<<32-1, 0)

func checkTimes(values []any) error {
	check := func(t time.Time) error {
		if t.Before(minTime) || t.After(maxTime) {
			return fmt.Errorf("time %s outside ClickHouse's DateTime range (1970-01-01 .. 2106-02-07)", t.UTC().Format(time.RFC3339))
		}
		return nil
	}
	for _, v := range values {
		switch x := v.(type) {
		case time.Time:
			if err := check(x); err != nil {
				return err
			}
		case []time.Time:
			for _, t := range x {
				if err := check(t); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
