package analytics

import "errors"

// Sentinel errors.
var (
	// ErrMigrationChanged: an applied migration's embedded text no longer
	// matches the checksum recorded when it ran. Migrations are immutable;
	// add a new one instead.
	ErrMigrationChanged = errors.New("applied migration was modified")
	// ErrUnknownReport: Report was asked for a name Reports does not list.
	ErrUnknownReport = errors.New("unknown report")
	// ErrBadOption: a ReportOptions field is missing or out of range.
	ErrBadOption = errors.New("bad report option")
)
