package processor

import "github.com/arrears/arrears/processor/policy"

// Test hooks of policyfeed*.go.
var RepairHistory = repairHistory

// LatestRecord is the last record of name the feed read.
func LatestRecord(f *PolicyFeed, name string) policy.Record { return f.latest[name] }
