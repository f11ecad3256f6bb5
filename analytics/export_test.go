package analytics

import "time"

// For the external tests (package analytics_test), which import helpers
// that import analytics.
var (
	ReportDataset     = reportDataset
	TrainingLabelRows = trainingLabelRows
	TestConn          = testConn
)

// SnapshotQuery is TrainingRows' query for the snapshot at t, with the
// default options.
func SnapshotQuery(db string, t time.Time) string {
	var o TrainingOptions
	o.defaults()
	return snapshotQuery(db, t, o)
}
