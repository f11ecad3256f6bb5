package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ReportOptions parameterise a report. Zero fields take the report's
// defaults (see Reports).
type ReportOptions struct {
	// AsOf is the reporting date (inclusive, a UTC calendar day): facts
	// with an event time before the next midnight UTC count. Required.
	AsOf time.Time
	// Segment restricts to accounts whose latest AccountUpserted segment
	// (as of AsOf) is this one; empty means every segment.
	Segment string
	// Account is the account of the timeline report.
	Account string
	// Days is the period ending on AsOf, (AsOf-Days, AsOf].
	Days int
	// CureDays is the cure window after a dunning action (default 14).
	CureDays int
	// GraceDays is added to an arrangement's last due date (default 3).
	GraceDays int
	// DefaultDPD is the days past due that counts as default in risk
	// calibration (default 90).
	DefaultDPD int
	// Limit caps the timeline's history rows (default 200).
	Limit int
	// Experiment restricts the experiment report to one experiment id
	// (empty: every experiment); ContactCost prices its contacts per
	// channel (nil: DefaultContactCost). See experiment.go.
	Experiment  string
	ContactCost map[string]float64
	// Group restricts group_exposure to one collections group (at any
	// level; empty: the top groups); Top caps its groups per currency
	// (default 20). See groups.go.
	Group string
	Top   int
}

// Table is a report result: column names and rows of JSON-friendly values
// (string, int64, uint64, float64, json.Number for money, nil).
type Table struct {
	Name    string
	Columns []string
	Rows    [][]any
}

// ReportInfo describes a named report.
type ReportInfo struct {
	Name        string
	Description string
	DefaultDays int
}

type report struct {
	ReportInfo
	sql func(params) string
}

var reports = map[string]report{
	"aging":            {ReportInfo{"aging", "open receivables by segment, currency and days-past-due bucket as of the date", 0}, agingSQL},
	"dso":              {ReportInfo{"dso", "days sales outstanding, best possible DSO and average days delinquent over the period", 90}, dsoSQL},
	"add":              {ReportInfo{"add", "average days delinquent (alias of dso, same columns)", 90}, dsoSQL},
	"cei":              {ReportInfo{"cei", "collection effectiveness index over the period", 30}, ceiSQL},
	"roll_rates":       {ReportInfo{"roll_rates", "account delinquency bucket one month before the date vs at the date", 0}, rollRatesSQL},
	"cure_rate":        {ReportInfo{"cure_rate", "dunning actions cured (overdue amount paid within cure days) by stage, type and channel", 90}, cureRateSQL},
	"promise_kept":     {ReportInfo{"promise_kept", "arrangements due in the period kept, broken or cancelled", 90}, promiseKeptSQL},
	"disputes":         {ReportInfo{"disputes", "disputes opened in the period by outcome, amount and cycle time", 90}, disputesSQL},
	"actions":          {ReportInfo{"actions", "dunning actions decided in the period by type and channel", 30}, actionsSQL},
	"actions_daily":    {ReportInfo{"actions_daily", "dunning actions per day and type in the period", 30}, actionsDailySQL},
	"write_offs":       {ReportInfo{"write_offs", "GL write-offs in the period by month, segment and currency", 90}, writeOffsSQL},
	"risk_calibration": {ReportInfo{"risk_calibration", "predicted PD at the period start vs realised default in the period, by tier", 90}, riskCalibrationSQL},
	"timeline":         {ReportInfo{"timeline", "one account's events, actions, risk and GL history up to the date, and its state then", 0}, timelineSQL},
}

// Reports lists the named reports, by name.
func Reports() []ReportInfo {
	out := make([]ReportInfo, 0, len(reports))
	for _, r := range reports {
		out = append(out, r.ReportInfo)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// withDefaults fills zero options and checks them.
func (o ReportOptions) withDefaults(r report) (ReportOptions, error) {
	if o.AsOf.IsZero() {
		return o, fmt.Errorf("%w: AsOf is required", ErrBadOption)
	}
	if o.Days == 0 {
		o.Days = r.DefaultDays
		if o.Days == 0 {
			o.Days = 90
		}
	}
	if o.CureDays == 0 {
		o.CureDays = 14
	}
	if o.GraceDays == 0 {
		o.GraceDays = 3
	}
	if o.DefaultDPD == 0 {
		o.DefaultDPD = 90
	}
	if o.Limit == 0 {
		o.Limit = 200
	}
	if o.Top == 0 {
		o.Top = 20
	}
	switch {
	case o.Days < 1 || o.Days > 3660:
		return o, fmt.Errorf("%w: Days %d not in 1..3660", ErrBadOption, o.Days)
	case o.CureDays < 1 || o.CureDays > 366:
		return o, fmt.Errorf("%w: CureDays %d not in 1..366", ErrBadOption, o.CureDays)
	case o.GraceDays < 0 || o.GraceDays > 366:
		return o, fmt.Errorf("%w: GraceDays %d not in 0..366", ErrBadOption, o.GraceDays)
	case o.DefaultDPD < 1:
		return o, fmt.Errorf("%w: DefaultDPD %d must be >= 1", ErrBadOption, o.DefaultDPD)
	case o.Limit < 1 || o.Limit > 100000:
		return o, fmt.Errorf("%w: Limit %d not in 1..100000", ErrBadOption, o.Limit)
	case o.Top < 1 || o.Top > 100000:
		return o, fmt.Errorf("%w: Top %d not in 1..100000", ErrBadOption, o.Top)
	case r.Name == "timeline" && o.Account == "":
		return o, fmt.Errorf("%w: the timeline report needs Account", ErrBadOption)
	}
	return o, nil
}

// ReportSQL renders the SQL a report runs, for review and for analysts.
func ReportSQL(db, name string, opts ReportOptions) (string, error) {
	r, ok := reports[name]
	if !ok {
		return "", fmt.Errorf("%w %q (have %s)", ErrUnknownReport, name, strings.Join(reportNames(), ", "))
	}
	o, err := opts.withDefaults(r)
	if err != nil {
		return "", err
	}
	p := newParams(db, o)
	return p.sql(r.sql(p)), nil
}

func reportNames() []string {
	var ns []string
	for _, r := range Reports() {
		ns = append(ns, r.Name)
	}
	return ns
}

// Report runs the named report (see Reports) and returns its table. Aging,
// DSO and CEI read the receivables snapshot when fresh builds cover the
// dates (snapshot.go), with the same answer as the reference query.
func Report(ctx context.Context, c *Conn, name string, opts ReportOptions) (*Table, error) {
	q, _, err := ReportQuery(ctx, c, name, opts)
	if err != nil {
		return nil, err
	}
	t, err := runReport(ctx, c, name, q)
	if post := reportPost[name]; post != nil && err == nil {
		return post(t, opts) // experiment.go
	}
	return t, err
}

// runReport runs the rendered SQL q of report name.
func runReport(ctx context.Context, c *Conn, name, q string) (*Table, error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	defer rows.Close()
	cts := rows.ColumnTypes()
	t := &Table{Name: name, Columns: rows.Columns()}
	for rows.Next() {
		dest := make([]any, len(cts))
		for i, ct := range cts {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("report %s: scan: %w", name, err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = cell(reflect.ValueOf(d).Elem().Interface(), cts[i].DatabaseTypeName())
		}
		t.Rows = append(t.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report %s: %w", name, err)
	}
	return t, nil
}

// cell normalises a scanned value for the formatters.
func cell(v any, dbType string) any {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	switch x := rv.Interface().(type) {
	case decimal.Decimal:
		return json.Number(x.String())
	case time.Time:
		if strings.Contains(dbType, "DateTime") {
			return x.UTC().Format(time.RFC3339)
		}
		return x.Format("2006-01-02")
	case float32:
		return finite(float64(x))
	case float64:
		return finite(x)
	case bool:
		return x
	case string:
		return x
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint()
	}
	return fmt.Sprint(rv.Interface())
}

func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}
