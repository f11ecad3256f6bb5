package risk

import (
	"math"

	"github.com/arrears/arrears/processor/event"
)

// Features are the per-account inputs of a scorecard. The processor fills
// them from the ledger's counters at the partition clock; risk never reads
// the ledger itself. Counters are whole numbers; ratios and averages are
// float64. Score treats negative values and NaN as 0 (so a half-initialised
// account scores like a clean one instead of failing) and caps values at
// 1e15.
//
// The scorecard must be trained on the same definitions the processor uses
// to fill them (the 12-month windows in particular).
type Features struct {
	// DaysPastDue is the days past due of the oldest unpaid, undisputed item
	// at the partition clock (clock date minus due date); 0 when nothing is
	// overdue.
	DaysPastDue int32
	// OverdueRatio is the overdue amount (open, past due, not disputed)
	// divided by the total open amount, in [0, 1]; 0 when nothing is open.
	// With several currencies use the account's billing currency.
	OverdueRatio float64
	// Utilisation is the open amount divided by the account's credit limit;
	// 0 when the account has no credit limit (prepaid). It may exceed 1.
	Utilisation float64
	// LatePayments12M counts the invoices of the last 12 months that were
	// settled after their due date.
	LatePayments12M int32
	// AvgDaysToPay is the mean number of days from issue to full settlement
	// of the invoices settled in the last 12 months; 0 when none was.
	AvgDaysToPay float64
	// Reversals counts payment reversals (bounces, chargebacks) in the last
	// 12 months.
	Reversals int32
	// BrokenPromises counts broken promises to pay and missed installments
	// in the last 12 months.
	BrokenPromises int32
	// DisputesOpened counts disputes opened in the last 12 months.
	DisputesOpened int32
	// TenureDays is the number of days since the account was first seen.
	TenureDays int32
	// OpenInvoices is the number of invoices with an open amount.
	OpenInvoices int32
	// Segment selects the scorecard's per-segment offset; an empty or unknown
	// segment gets no offset.
	Segment event.Segment
}

// Feature names one scorecard input; it indexes Result.Contributions.
type Feature uint8

// The features of Features, in scorecard order. The order is part of the
// contract: contributions are summed in it and Result.Contributions is
// indexed by it.
const (
	FeatureDaysPastDue Feature = iota
	FeatureOverdueRatio
	FeatureUtilisation
	FeatureLatePayments12M
	FeatureAvgDaysToPay
	FeatureReversals
	FeatureBrokenPromises
	FeatureDisputesOpened
	FeatureTenureDays
	FeatureOpenInvoices

	// NumFeatures is the number of features.
	NumFeatures = iota
)

// featureInfo is the stable YAML name and reason code of each feature.
var featureInfo = [NumFeatures]struct{ name, reason string }{
	FeatureDaysPastDue:     {"days_past_due", "DPD_HIGH"},
	FeatureOverdueRatio:    {"overdue_ratio", "OVERDUE_RATIO_HIGH"},
	FeatureUtilisation:     {"utilisation", "UTILISATION_HIGH"},
	FeatureLatePayments12M: {"late_payments_12m", "LATE_PAYMENTS"},
	FeatureAvgDaysToPay:    {"avg_days_to_pay", "SLOW_PAYER"},
	FeatureReversals:       {"reversals", "REVERSALS"},
	FeatureBrokenPromises:  {"broken_promises", "BROKEN_PROMISES"},
	FeatureDisputesOpened:  {"disputes_opened", "DISPUTES"},
	FeatureTenureDays:      {"tenure_days", "SHORT_TENURE"},
	FeatureOpenInvoices:    {"open_invoices", "MANY_OPEN_INVOICES"},
}

// String returns the feature's YAML name, e.g. "days_past_due".
func (f Feature) String() string {
	if int(f) < NumFeatures {
		return featureInfo[f].name
	}
	return "unknown"
}

// ReasonCode returns the stable reason code reported when the feature raises
// the risk, e.g. "DPD_HIGH".
func (f Feature) ReasonCode() string {
	if int(f) < NumFeatures {
		return featureInfo[f].reason
	}
	return "UNKNOWN"
}

// ParseFeature returns the feature with the given YAML name.
func ParseFeature(name string) (Feature, bool) {
	for i := range featureInfo {
		if featureInfo[i].name == name {
			return Feature(i), true
		}
	}
	return 0, false
}

// maxValue bounds feature values so that no finite weight overflows.
const maxValue = 1e15

// Value returns feature f of fs as a float64, with NaN and negative values
// replaced by 0 and values above 1e15 (including +Inf) by 1e15.
func (fs *Features) Value(f Feature) float64 {
	var v float64
	switch f {
	case FeatureDaysPastDue:
		v = float64(fs.DaysPastDue)
	case FeatureOverdueRatio:
		v = fs.OverdueRatio
	case FeatureUtilisation:
		v = fs.Utilisation
	case FeatureLatePayments12M:
		v = float64(fs.LatePayments12M)
	case FeatureAvgDaysToPay:
		v = fs.AvgDaysToPay
	case FeatureReversals:
		v = float64(fs.Reversals)
	case FeatureBrokenPromises:
		v = float64(fs.BrokenPromises)
	case FeatureDisputesOpened:
		v = float64(fs.DisputesOpened)
	case FeatureTenureDays:
		v = float64(fs.TenureDays)
	case FeatureOpenInvoices:
		v = float64(fs.OpenInvoices)
	}
	if !(v > 0) { // negative, zero or NaN
		return 0
	}
	if v > maxValue {
		return maxValue
	}
	return v
}

// Transform maps a (clamped) feature value before its linear weight.
type Transform string

// Transforms. Both are non-decreasing, so a positive weight never lowers
// the PD as the value grows.
const (
	TransformIdentity Transform = "identity"
	TransformLog1p    Transform = "log1p" // ln(1 + x)
)

// Valid reports whether t is a known transform; empty means identity.
func (t Transform) Valid() bool {
	return t == "" || t == TransformIdentity || t == TransformLog1p
}

// Apply returns t(x).
func (t Transform) Apply(x float64) float64 {
	if t == TransformLog1p {
		return math.Log1p(x)
	}
	return x
}

// segmentIndex maps a segment to its offset slot; -1 for none.
func segmentIndex(s event.Segment) int {
	switch s {
	case event.Prepaid:
		return 0
	case event.Postpaid:
		return 1
	case event.Corporate:
		return 2
	case event.Wholesale:
		return 3
	}
	return -1
}

var segments = [4]event.Segment{event.Prepaid, event.Postpaid, event.Corporate, event.Wholesale}
