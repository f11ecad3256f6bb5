package dashboard

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/arrears/arrears/analytics"
)

var screenshotDir = flag.String("screenshot-dir", os.Getenv("ARREARS_SCREENSHOT_DIR"), "also save the dashboard screenshot here")

// knownSource answers every report with a fixed dataset whose headline
// numbers the test computed by hand:
//
//	open EUR     = 1000 + 250 + 4000 = 5250; overdue = 5250 - (600 + 100 + 3000) = 1550
//	DSO (as-of)  = (5250 + 0) / (10500 + 0) x 90 = 45.0 days
//	CEI (as-of)  = (2000 + 6000 - 5250) / (2000 + 6000 - 3700) x 100 = 63.95... -> 64.0%
type knownSource struct{ calls map[string]int }

func (k *knownSource) Report(_ context.Context, name string, o analytics.ReportOptions) (*analytics.Table, error) {
	k.calls[name]++
	t := &analytics.Table{Name: name}
	switch name {
	case "aging":
		t.Columns = []string{"segment", "currency", "accounts", "not_due", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_120", "dpd_120_plus", "total"}
		t.Rows = [][]any{
			{"postpaid", "EUR", 40, "600", "300", "100", "0", "0", "0", "1000"},
			{"prepaid", "EUR", 10, "100", "50", "50", "50", "0", "0", "250"},
			{"corporate", "EUR", 5, "3000", "500", "300", "200", "0", "0", "4000"},
			{"postpaid", "GBP", 7, "70", "0", "0", "0", "0", "0", "70"},
		}
	case "dso":
		t.Columns = []string{"segment", "currency", "receivables", "current_receivables", "credit_sales", "days", "dso"}
		t.Rows = [][]any{{"postpaid", "EUR", "5250", "3700", "10500", 90, "45"}, {"postpaid", "GBP", "70", "70", "700", 90, "9"}}
	case "cei":
		t.Columns = []string{"segment", "currency", "beginning_receivables", "credit_sales", "ending_receivables", "ending_current", "cei"}
		t.Rows = [][]any{{"postpaid", "EUR", "2000", "6000", "5250", "3700", "63.95"}}
	case "cure_rate":
		t.Columns = []string{"stage", "action_type", "channel", "actions", "cured_actions", "cure_rate"}
		t.Rows = [][]any{{"reminder", "NOTIFY", "email", 120, 80, 0.66}, {"final_notice", "NOTIFY", "letter", 40, 15, 0.37}, {"suspension", "SUSPEND", "", 12, 5, 0.41}}
	case "actions_daily":
		t.Columns = []string{"day", "action_type", "actions"}
		for d := 1; d <= 10; d++ {
			t.Rows = append(t.Rows, []any{fmt.Sprintf("2026-03-%02d", d), "NOTIFY", 10 + d}, []any{fmt.Sprintf("2026-03-%02d", d), "SUSPEND", d % 3})
		}
	case "risk_calibration":
		t.Columns = []string{"tier", "accounts", "predicted_pd", "defaults", "realised_default_rate", "gap"}
		// By tier name, as the report sorts them (HIGH first).
		t.Rows = [][]any{{"HIGH", 80, 0.3, 25, 0.31, 0.01}, {"LOW", 700, 0.02, 10, 0.014, -0.006}, {"MEDIUM", 200, 0.1, 22, 0.11, 0.01}, {"VERY_HIGH", 20, 0.6, 13, 0.65, 0.05}}
	case "roll_rates":
		t.Columns = []string{"from_bucket", "to_bucket", "accounts", "from_balance", "account_rate", "balance_rate"}
		t.Rows = [][]any{{"1_current", "1_current", 90, "900", 0.9, 0.9}, {"1_current", "2_dpd_1_30", 10, "100", 0.1, 0.1}, {"2_dpd_1_30", "1_current", 6, "60", 0.6, 0.6}, {"2_dpd_1_30", "3_dpd_31_60", 4, "40", 0.4, 0.4}}
	case "policy_versions":
		t.Columns = []string{"name", "version", "effective_from", "applied_at", "state", "actions"}
		t.Rows = [][]any{{"postpaid-standard", "aaaaaaaaaaaa", "2026-03-01 00:00:00", "2026-02-27 10:00:00", "superseded", 41},
			{"postpaid-standard", "bbbbbbbbbbbb", "2026-03-20 00:00:00", "2026-03-19 09:00:00", "active", 7}}
	case "group_exposure":
		t.Columns = []string{"group_id", "currency", "accounts", "not_active", "exposure", "overdue", "overdue_1_30", "overdue_31_60",
			"overdue_61_90", "overdue_91_120", "overdue_over_120", "share_overdue", "expected_loss", "worst_dpd", "exposure_month_ago", "exposure_change"}
		t.Rows = [][]any{{"ACME", "EUR", 120, 3, "50000", "12500", "10000", "2500", "0", "0", "0", 0.25, "900", 45, "40000", "10000"},
			{"GLOBEX", "EUR", 40, 0, "20000", "1000", "1000", "0", "0", "0", "0", 0.05, "100", 12, "20000", "0"}}
	case "experiment":
		t.Columns = []string{"experiment", "arm", "accounts", "cure_rate", "cure_ci_low", "cure_ci_high", "cure_uplift", "uplift_ci_low",
			"uplift_ci_high", "p_value", "roll_rate_31_60", "cash_per_account", "contacts_per_account", "contact_cost_per_account", "suspensions", "write_offs"}
		t.Rows = [][]any{{"EXP-2026-12", "champion", 900, 0.35, 0.32, 0.38, nil, nil, nil, nil, 0.5, 120.5, 2.9, 0.55, 60, 0},
			{"EXP-2026-12", "challenger", 100, 0.65, 0.55, 0.74, 0.3, 0.2, 0.4, 0.0001, 0.3, 140.25, 2.5, 0.36, 12, 0}}
	default:
		return nil, fmt.Errorf("unknown report %q", name)
	}
	return t, nil
}

func newServer(t *testing.T) (*httptest.Server, *knownSource) {
	src := &knownSource{calls: map[string]int{}}
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(Handler(src, Options{AsOf: func(context.Context) time.Time { return asOf }, Refresh: time.Hour}))
	t.Cleanup(srv.Close)
	return srv, src
}

// TestAPI checks the JSON API and the embedded assets without a browser.
func TestAPI(t *testing.T) {
	srv, _ := newServer(t)
	get := func(path string) (int, []byte) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		_, _ = fmt.Fprint(&b, "")
		buf := make([]byte, 1<<20)
		n, _ := res.Body.Read(buf)
		return res.StatusCode, buf[:n]
	}
	if code, b := get("/api/report/aging?as_of=2026-03-31"); code != 200 || !strings.Contains(string(b), `"corporate","EUR",5,"3000"`) {
		t.Errorf("aging: %d %s", code, b)
	}
	if code, _ := get("/api/report/aging?as_of=yesterday"); code != 400 {
		t.Errorf("bad as_of: %d, want 400", code)
	}
	if code, _ := get("/api/report/nope?as_of=2026-03-31"); code != 502 {
		t.Errorf("unknown report: %d, want 502", code)
	}
	code, b := get("/api/config")
	var cfg map[string]any
	if code != 200 || json.Unmarshal(b, &cfg) != nil || cfg["as_of"] != "2026-03-31" {
		t.Errorf("config: %d %s", code, b)
	}
	for _, p := range []string{"/", "/static/app.js", "/static/chart.umd.min.js"} {
		if code, b := get(p); code != 200 || len(b) < 100 {
			t.Errorf("%s: %d, %d bytes", p, code, len(b))
		}
	}
}

// profileDir is a Chromium profile directory removed after the test. Not
// t.TempDir: Chromium's helper processes may still write into the profile
// for a moment after the browser exits, and t.TempDir fails the test when
// its removal meets a directory that is not empty yet.
func profileDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "arrears-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s not removed: %v", dir, err)
	})
	return dir
}

// browser starts headless Chromium (Debian's package) with a profile of
// its own and returns its context; it closes when the test ends.
func browser(t *testing.T, width, height int) context.Context {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium is required (make browser installs Debian's package): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(profileDir(t)), chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil { // the browser starts here, outside any caller's timeout
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestDashboardInChromium loads the page in real headless Chromium against
// the known dataset, checks the numbers shown and saves a screenshot.
func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	srv, src := newServer(t)
	ctx, cancel := context.WithTimeout(browser(t, 1440, 1100), 90*time.Second)
	defer cancel()

	var open, overdue, dso, cei, roll, active, errs, experiment, groups string
	var canvases int
	var tiers struct{ Labels, Colors []string }
	var png []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`body[data-loaded]`, chromedp.ByQuery),
		chromedp.Sleep(500*time.Millisecond), // let Chart.js paint
		chromedp.Text("#kpi-open", &open, chromedp.ByQuery),
		chromedp.Text("#kpi-overdue", &overdue, chromedp.ByQuery),
		chromedp.Text("#kpi-dso", &dso, chromedp.ByQuery),
		chromedp.Text("#kpi-cei", &cei, chromedp.ByQuery),
		chromedp.Text("#roll", &roll, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll("#policies tr")].filter(r => r.style.fontWeight).map(r => r.innerText).join("|")`, &active),
		chromedp.Evaluate(`document.getElementById("errors").textContent`, &errs),
		chromedp.Evaluate(`[...document.querySelectorAll("#experiments tr")].filter(r => r.style.fontWeight).map(r => r.innerText).join("|")`, &experiment),
		chromedp.Evaluate(`[...document.querySelectorAll("#groups tr")].filter(r => r.style.fontWeight).map(r => r.innerText).join("|")`, &groups),
		chromedp.Evaluate(`Object.keys(charts).filter(k => charts[k].data.datasets.some(d => d.data.some(v => v > 0))).length`, &canvases),
		chromedp.Evaluate(`({labels: charts["c-risk"].data.labels, colors: charts["c-risk"].data.datasets[0].backgroundColor})`, &tiers),
		chromedp.FullScreenshot(&png, 100),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	want := map[string][2]string{"open": {open, "€5,250"}, "overdue": {overdue, "€1,550"}, "dso": {dso, "45.0 days"}, "cei": {cei, "64.0%"}}
	for k, v := range want {
		if strings.TrimSpace(v[0]) != v[1] {
			t.Errorf("KPI %s shows %q, want %q", k, v[0], v[1])
		}
	}
	if !strings.Contains(roll, "60.0%") || !strings.Contains(roll, "90.0%") {
		t.Errorf("roll-rate matrix shows %q", roll)
	}
	if f := strings.Fields(active); len(f) < 4 || f[1] != "bbbbbbbbbbbb" || f[2] != "active" || f[3] != "2026-03-20" {
		t.Errorf("policy panel marks %q in force, want bbbbbbbbbbbb active since 2026-03-20", active)
	}
	if errs != "" {
		t.Errorf("the page shows errors: %s", errs)
	}
	if !strings.Contains(groups, "ACME") || !strings.Contains(groups, "25.0%") || !strings.Contains(groups, "50,000.00") || strings.Contains(groups, "GLOBEX") {
		t.Errorf("groups panel marks %q, want ACME (exposure 50,000.00, 25.0%% overdue) alone", groups)
	}
	if !strings.Contains(experiment, "challenger") || !strings.Contains(experiment, "30.0% [20.0%, 40.0%]") || !strings.Contains(experiment, "65.0% [55.0%, 74.0%]") {
		t.Errorf("experiment panel marks %q significant, want the challenger with cure 65.0%% [55.0%%, 74.0%%], uplift 30.0%% [20.0%%, 40.0%%]", experiment)
	}
	if canvases != 5 {
		t.Errorf("%d charts have data, want 5 (aging, risk, trend, funnel, actions)", canvases)
	}
	checkTierColors(t, tiers.Labels, tiers.Colors)
	if src.calls["dso"] < 6 || src.calls["cei"] < 6 {
		t.Errorf("trend made %d dso and %d cei calls, want one per month end (6)", src.calls["dso"], src.calls["cei"])
	}
	path := filepath.Join(t.TempDir(), "dashboard.png")
	if *screenshotDir != "" {
		path = filepath.Join(*screenshotDir, "dashboard.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
