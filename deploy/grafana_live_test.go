package deploy

// The live half of the Grafana checks: each ClickHouse panel query, expanded
// as Grafana and the plugin expand it, run on the local ClickHouse (see
// grafana_test.go).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/analytics/chdbtest"
	"github.com/arrears/arrears/processor/event"
)

// grafanaQuery is what Grafana and the ClickHouse plugin put into a query:
// the variables' selections (nil: All) and the time range (macros).
type grafanaQuery struct {
	d        grafanaDashboard
	from, to time.Time
	vars     map[string][]string
}

var macroRE = regexp.MustCompile(`\$__(\w+)(?:\(([^()]*)\))?`)

// expand interpolates variables as Grafana does, then macros as the plugin
// does (pkg/macros of grafana/clickhouse-datasource).
func (q grafanaQuery) expand(sql string) (string, error) {
	var errs []string
	sql = grafanaVarRE.ReplaceAllStringFunc(sql, func(m string) string {
		g := grafanaVarRE.FindStringSubmatch(m)
		name, format := g[1]+g[3]+g[4], g[2]+g[5]
		v, ok := q.d.variable(name)
		vals, set := q.vars[name]
		switch {
		case strings.HasPrefix(name, "__"):
			return m
		case !ok:
			errs = append(errs, "unknown variable "+name)
		case v.Type == "constant" && !set:
			vals = []string{v.query()}
		case vals == nil:
			return v.AllValue // a custom all value goes in unformatted
		}
		out := slices.Clone(vals)
		for i, s := range vals {
			switch format {
			case "singlequote":
				out[i] = "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
			case "", "raw":
			default:
				errs = append(errs, "format "+format+" is not expanded here")
			}
		}
		return strings.Join(out, ",")
	})
	dt := func(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }
	date := func(t time.Time) string { return "toDate('" + t.UTC().Format(time.DateOnly) + "')" }
	sql = macroRE.ReplaceAllStringFunc(sql, func(m string) string {
		g := macroRE.FindStringSubmatch(m)
		col := strings.TrimSpace(g[2])
		switch g[1] {
		case "fromTime":
			return dt(q.from)
		case "toTime":
			return dt(q.to)
		case "timeFilter":
			return fmt.Sprintf("%s >= %s AND %s <= %s", col, dt(q.from), col, dt(q.to))
		case "dateFilter":
			return fmt.Sprintf("%s >= %s AND %s <= %s", col, date(q.from), col, date(q.to))
		}
		// The _ms macros make DateTime64 and $__timeInterval calls
		// toStartOfInterval: ClickHouse 18.16 has neither.
		errs = append(errs, "macro "+m+" is not expanded here")
		return m
	})
	if rest := sqlStringRE.ReplaceAllString(sql, "''"); strings.Contains(rest, "$") {
		errs = append(errs, "left unexpanded: "+rest[strings.Index(rest, "$"):])
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return sql, nil
}

// queryTable runs q and returns its column names and rows, printed.
func queryTable(ctx context.Context, c *analytics.Conn, q string) ([]string, [][]string, error) {
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(rows.ColumnTypes()))
		for i, ct := range rows.ColumnTypes() {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		out = append(out, printRow(dest))
	}
	return rows.Columns(), out, rows.Err()
}

// printRow prints values through pointers; nil is NULL.
func printRow(values []any) []string {
	out := make([]string, len(values))
	for i, v := range values {
		rv := reflect.ValueOf(v)
		for rv.IsValid() && rv.Kind() == reflect.Pointer && !rv.IsNil() {
			rv = rv.Elem()
		}
		out[i] = "NULL"
		if rv.IsValid() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
			out[i] = fmt.Sprint(rv.Interface())
		}
	}
	return out
}

// grafanaBook is a small book whose facts are all on 2026-01-02..2026-03-30
// or before 2026, so `arrears report` as of 2026-03-31 over 89 days and the
// panels over [2026-01-01, 2026-03-31 23:59:59] see the same facts.
func grafanaBook() []analytics.Row {
	now := time.Now().UTC()
	at := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t.Add(9 * time.Hour) }
	amt := event.MustAmount
	var rows []analytics.Row
	ev := func(acct, day string, b event.Body) {
		n := len(rows)
		rows = append(rows, analytics.EventRows(event.Event{ID: fmt.Sprintf("ev%03d", n), Time: at(day), Source: "test", Account: acct, Body: b},
			analytics.Source{Topic: "ar.events", Offset: int64(n)}, now)...)
	}
	for _, a := range [][3]string{{"A1", "postpaid", "EUR"}, {"A2", "postpaid", "EUR"}, {"A3", "prepaid", "EUR"}, {"A4", "corporate", "USD"}, {"A5", "post'paid", "EUR"}} {
		ev(a[0], "2025-09-01", &event.AccountUpserted{Segment: event.Segment(a[1]), Currency: event.Currency(a[2])})
	}
	for _, i := range [][6]string{{"A1", "I11", "EUR", "100", "2025-12-01", "2025-12-15"}, {"A1", "I12", "EUR", "200", "2026-02-01", "2026-02-15"},
		{"A2", "I21", "EUR", "300", "2026-01-10", "2026-01-25"}, {"A3", "I31", "EUR", "80", "2026-03-20", "2026-04-05"},
		{"A4", "I41", "USD", "1000", "2026-01-15", "2026-02-15"}, {"A5", "I51", "EUR", "50", "2026-02-10", "2026-02-20"}} {
		ev(i[0], i[4], &event.InvoiceIssued{InvoiceID: i[1], Currency: event.Currency(i[2]), Amount: amt(i[3]),
			IssueDate: event.DateOf(at(i[4])), DueDate: event.DateOf(at(i[5]))})
	}
	ev("A1", "2026-02-20", &event.PaymentReceived{PaymentID: "P11", Currency: "EUR", Amount: amt("150")})
	ev("A2", "2026-03-01", &event.PaymentReceived{PaymentID: "P21", Currency: "EUR", Amount: amt("300")})
	ev("A2", "2026-03-05", &event.PaymentReversed{PaymentID: "P21", Reason: "bounce"})
	ev("A4", "2026-03-10", &event.PaymentReceived{PaymentID: "P41", Currency: "USD", Amount: amt("400")})
	for _, a := range []event.DunningAction{
		{ActionID: "X1", Account: "A1", Time: at("2026-02-18"), Stage: "reminder", Type: event.ActionNotify, Channel: event.Email, Currency: "EUR", OverdueAmount: amt("200")},
		{ActionID: "X2", Account: "A2", Time: at("2026-02-01"), Stage: "reminder", Type: event.ActionNotify, Channel: event.SMS, Currency: "EUR", OverdueAmount: amt("300")},
		{ActionID: "X3", Account: "A2", Time: at("2026-03-01"), Stage: "suspension", Type: event.ActionSuspend, Currency: "EUR", OverdueAmount: amt("300")},
		{ActionID: "X4", Account: "A4", Time: at("2026-03-15"), Stage: "collections_call", Type: event.ActionAgentTask, Currency: "USD", OverdueAmount: amt("1000")},
	} {
		rows = append(rows, analytics.ActionRow(&a, analytics.Source{}, now))
	}
	for _, r := range []event.RiskEvent{{EventID: "K1", Account: "A1", Time: at("2026-02-18"), Tier: "MEDIUM", PreviousTier: "LOW", PD: 0.1},
		{EventID: "K2", Account: "A2", Time: at("2026-03-01"), Tier: "HIGH", PreviousTier: "MEDIUM", PD: 0.4},
		{EventID: "K3", Account: "A4", Time: at("2026-01-20"), Tier: "LOW", PD: 0.02}} {
		rows = append(rows, analytics.RiskRow(&r, analytics.Source{}, now))
	}
	for i, s := range []event.AccountStatus{
		{Account: "A1", Time: at("2026-02-25"), Segment: "postpaid", Stage: "reminder", DaysPastDue: 10, Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt("150")}}},
		{Account: "A2", Time: at("2026-03-01"), Segment: "postpaid", Stage: "suspension", DaysPastDue: 35, Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt("300")}}},
		{Account: "A3", Time: at("2026-03-20"), Segment: "prepaid", Balances: []event.CurrencyBalance{{Currency: "EUR", Open: amt("80")}}},
		{Account: "A4", Time: at("2026-03-15"), Segment: "corporate", Stage: "collections_call", DaysPastDue: 28, Balances: []event.CurrencyBalance{{Currency: "USD", Open: amt("1000")}}},
	} {
		s.SourceOffset = int64(i)
		rows = append(rows, analytics.StatusRow(&s, analytics.Source{}, now))
	}
	return append(rows, analytics.DeadLetterRow(&event.DeadLetter{Reason: "undecodable", ErrorClass: "decode", Topic: "ar.events",
		Offset: 42, Value: []byte{0}, Time: at("2026-03-02")}, analytics.Source{Topic: "ar.dlq"}, now))
}

// TestGrafanaPanelsOnClickHouse runs every ClickHouse panel and variable
// query for three selections of the segment and currency variables (All;
// one value each; several, one with a quote) and compares the aging, DSO and
// CEI tables with the reports of the same selection.
func TestGrafanaPanelsOnClickHouse(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs ClickHouse on 127.0.0.1:9000")
	}
	ctx := context.Background()
	var b [4]byte
	_, _ = rand.Read(b[:])
	cfg := analytics.Defaults()
	cfg.Database = "arrears_grafana_test_" + hex.EncodeToString(b[:])
	c, err := analytics.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("ClickHouse is required (make up): %v", err)
	}
	t.Cleanup(func() {
		if err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+c.Database); err != nil {
			t.Errorf("drop %s: %v", c.Database, err)
		}
		_ = c.Close()
	})
	if err := analytics.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	for range 2 { // twice, as a replay would: FINAL must collapse the copies
		if err := analytics.InsertRows(ctx, c, grafanaBook()); err != nil {
			t.Fatal(err)
		}
	}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	sels := []struct {
		name              string
		segment, currency []string // nil: All
	}{{"all", nil, nil}, {"postpaid EUR", []string{"postpaid"}, []string{"EUR"}}, {"quoted", []string{"post'paid", "prepaid"}, []string{"USD", "EUR"}}}
	// Panels equal to a report (the range is 89 days, as the reports' Days).
	reportOf := map[string]string{"Aging by segment and currency": "aging", "DSO, best possible DSO and ADD": "dso", "Collection effectiveness (CEI)": "cei"}
	ran := map[string]bool{}
	var onChDB []chdbtest.Query // every expanded query, run on chDB at the end
	for _, d := range loadDashboards(t) {
		var queries [][2]string // title, SQL
		for _, p := range d.panels() {
			for _, tg := range p.Targets {
				if tg.Datasource != nil && tg.Datasource.Type == clickhousePlugin {
					queries = append(queries, [2]string{p.Title, tg.RawSQL})
				}
			}
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				queries = append(queries, [2]string{"variable " + v.Name, v.query()})
			}
		}
		for _, sel := range sels {
			q := grafanaQuery{d: d, from: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), to: asOf.Add(24*time.Hour - time.Second),
				vars: map[string][]string{"database": {c.Database}, "segment": sel.segment, "currency": sel.currency}}
			for _, pq := range queries {
				where := fmt.Sprintf("%s %q (%s)", d.file, pq[0], sel.name)
				sql, err := q.expand(pq[1])
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				cols, rows, err := queryTable(ctx, c, sql)
				if err != nil {
					t.Errorf("%s: %v\n%s", where, err, sql)
					continue
				}
				ran[pq[0]] = true
				onChDB = append(onChDB, chdbtest.Query{Name: where, SQL: sql})
				if len(rows) == 0 && (sel.name == "all" || reportOf[pq[0]] == "aging") {
					t.Errorf("%s: no rows", where)
				}
				name, ok := reportOf[pq[0]]
				if !ok || len(sel.segment) > 1 { // a report takes one segment
					continue
				}
				want, err := analytics.Report(ctx, c, name, analytics.ReportOptions{AsOf: asOf, Days: 89, Segment: strings.Join(sel.segment, "")})
				if err != nil {
					t.Fatal(err)
				}
				var wantRows [][]string
				for _, r := range want.Rows {
					if sel.currency == nil || slices.Contains(sel.currency, fmt.Sprint(r[1])) {
						wantRows = append(wantRows, printRow(r))
					}
				}
				if !slices.Equal(cols, want.Columns) || !reflect.DeepEqual(rows, wantRows) {
					t.Errorf("%s differs from `arrears report %s`:\npanel  %v %v\nreport %v %v", where, name, cols, rows, want.Columns, wantRows)
				}
			}
		}
	}
	for title := range reportOf {
		if !ran[title] {
			t.Errorf("panel %q is missing", title)
		}
	}
	// The same queries on current ClickHouse give the same results.
	t.Run("chDB", func(t *testing.T) { chdbtest.Compare(t, chdbtest.Python(t), c.Database, onChDB) })
}
