package simulate

import "errors"

// ErrNoHistory: the ClickHouse database has no landed input records
// (nothing ran, or the sink predates migration 0006).
var ErrNoHistory = errors.New("no landed input records in event_records (run `arrears migrate` and the sink first)")
