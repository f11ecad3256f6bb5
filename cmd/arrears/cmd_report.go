package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/cmd/arrears/config"
)

// cmdReport: `arrears report NAME [-as-of YYYY-MM-DD] [-segment S]
// [-account A] [-days N] [-format table|csv|json] [-sql|-fast-sql]`,
// `arrears report snapshot -as-of YYYY-MM-DD [-days N]` (build the
// receivables snapshot of that day, covering the CEI period of N days,
// default 30; docs/analytics.md), or `arrears report list`.
func cmdReport(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || args[0] == "list" {
		fmt.Println("reports (arrears report NAME -as-of YYYY-MM-DD [flags]):")
		for _, r := range analytics.Reports() {
			fmt.Printf("  %-17s %s\n", r.Name, r.Description)
		}
		if len(args) == 0 || args[0] != "list" {
			return fmt.Errorf("%w: arrears report NAME [-as-of YYYY-MM-DD] [-segment S] [-format table|csv|json]", errUsage)
		}
		return nil
	}
	name := args[0]
	fs := flag.NewFlagSet("report "+name, flag.ContinueOnError)
	asOf := fs.String("as-of", time.Now().UTC().Format("2006-01-02"), "reporting date (inclusive, UTC)")
	var o analytics.ReportOptions
	fs.StringVar(&o.Segment, "segment", "", "only accounts of this segment (prepaid, postpaid, corporate, wholesale)")
	fs.StringVar(&o.Account, "account", "", "account id (timeline)")
	fs.IntVar(&o.Days, "days", 0, "period length in days ending on -as-of (default per report)")
	fs.IntVar(&o.CureDays, "cure-days", 0, "cure window after a dunning action (default 14)")
	fs.IntVar(&o.GraceDays, "grace-days", 0, "grace after an arrangement's last due date (default 3)")
	fs.IntVar(&o.DefaultDPD, "default-dpd", 0, "days past due that count as default (default 90)")
	fs.IntVar(&o.Limit, "limit", 0, "timeline history rows (default 200)")
	fs.StringVar(&o.Experiment, "id", "", "experiment id (experiment; default every experiment)")
	fs.StringVar(&o.Group, "group", "", "collections group (group_exposure; default the top groups)")
	fs.IntVar(&o.Top, "top", 0, "groups per currency, largest exposure first (group_exposure; default 20)")
	format := fs.String("format", "table", "output format: table, csv or json")
	onlySQL := fs.Bool("sql", false, "print the SQL instead of running it")
	fastSQL := fs.Bool("fast-sql", false, "print the SQL the report runs now (the receivables snapshot's when a fresh build covers the date)")
	cfg, err := config.Load(fs, args[1:])
	if err != nil {
		return err
	}
	o.ContactCost = map[string]float64{} // the experiment report's prices: simulate.contact_cost
	for ch, v := range cfg.Simulate.ContactCost {
		o.ContactCost[string(ch)] = v
	}
	if o.AsOf, err = time.Parse("2006-01-02", *asOf); err != nil {
		return fmt.Errorf("-as-of %q: want YYYY-MM-DD", *asOf)
	}
	if *onlySQL {
		q, err := analytics.ReportSQL(cfg.ClickHouse.Database, name, o)
		if err != nil {
			return err
		}
		fmt.Println(q)
		return nil
	}
	conn, err := analytics.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	switch {
	case name == "snapshot":
		var periods []int // DefaultSnapshotPeriods
		if o.Days != 0 {
			periods = []int{o.Days}
		}
		b, err := analytics.BuildSnapshot(ctx, conn, o.AsOf, periods)
		if err != nil {
			return err
		}
		fmt.Printf("receivables snapshot %s: build %d, %d rows\n", b.AsOf.Format(time.DateOnly), b.Build, b.Rows)
		return nil
	case *fastSQL:
		q, fast, err := analytics.ReportQuery(ctx, conn, name, o)
		if err != nil {
			return err
		}
		fmt.Printf("-- fast path: %v\n%s\n", fast, q)
		return nil
	}
	t, err := analytics.Report(ctx, conn, name, o)
	if err != nil {
		return err
	}
	return t.Write(os.Stdout, *format)
}
