package analytics

// For the external tests (package analytics_test), which import helpers
// that import analytics.
var (
	ReportDataset = reportDataset
	TestConn      = testConn
)
