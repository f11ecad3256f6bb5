package deploy

// The Grafana files under grafana/ (provisioning and dashboards). Offline:
// the datasources hold no secret, the ClickHouse one is the native plugin on
// port 9000 and database arrears; docker-compose.yaml installs the plugin,
// mounts the folders where the provider looks and sets every variable the
// files read; every dashboard parses, its panel ids are unique, every panel's
// datasource is provisioned, every ClickHouse query names only tables and
// columns of analytics/migrations and every Prometheus query only metrics and
// labels the processor and the sink register. TestGrafanaPanelsOnClickHouse
// then expands each ClickHouse query's variables and macros as Grafana and
// the plugin do and runs it on the local ClickHouse (18.16 in `make up`) over
// a scratch database holding a small book: every query runs, returns rows,
// and the aging, DSO and CEI panels equal `arrears report` (-short skips it;
// a missing ClickHouse fails it).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/analytics"
	"github.com/arrears/arrears/processor"
	chsink "github.com/arrears/arrears/sinks/clickhouse"
)

const clickhousePlugin = "grafana-clickhouse-datasource"

type grafanaDatasource struct {
	Name           string            `yaml:"name"`
	Type           string            `yaml:"type"`
	UID            string            `yaml:"uid"`
	Access         string            `yaml:"access"`
	URL            string            `yaml:"url"`
	Editable       bool              `yaml:"editable"`
	IsDefault      bool              `yaml:"isDefault"`
	JSONData       map[string]any    `yaml:"jsonData"`
	SecureJSONData map[string]string `yaml:"secureJsonData"`
}

type dashboardProvider struct {
	Name                  string `yaml:"name"`
	Folder                string `yaml:"folder"`
	Type                  string `yaml:"type"`
	DisableDeletion       bool   `yaml:"disableDeletion"`
	AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
	UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
	Options               struct {
		Path                      string `yaml:"path"`
		FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
	} `yaml:"options"`
}

// decodeYAMLStrict decodes a provisioning file; unknown keys fail.
func decodeYAMLStrict(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// provisionedDatasources maps uid to datasource over provisioning/datasources.
func provisionedDatasources(t *testing.T) map[string]grafanaDatasource {
	t.Helper()
	files, _ := filepath.Glob("grafana/provisioning/datasources/*.yaml")
	out, names := map[string]grafanaDatasource{}, map[string]bool{}
	for _, f := range files {
		var file struct {
			APIVersion  int                 `yaml:"apiVersion"`
			Datasources []grafanaDatasource `yaml:"datasources"`
		}
		decodeYAMLStrict(t, f, &file)
		for _, ds := range file.Datasources {
			if ds.UID == "" || ds.Name == "" || ds.Type == "" || out[ds.UID].UID != "" || names[ds.Name] {
				t.Errorf("%s: datasource %q: want a name, a type and a uid, all unique", f, ds.Name)
			}
			out[ds.UID], names[ds.Name] = ds, true
		}
	}
	return out
}

func dashboardProviderOf(t *testing.T) dashboardProvider {
	t.Helper()
	var file struct {
		APIVersion int                 `yaml:"apiVersion"`
		Providers  []dashboardProvider `yaml:"providers"`
	}
	decodeYAMLStrict(t, "grafana/provisioning/dashboards/arrears.yaml", &file)
	if len(file.Providers) != 1 || file.Providers[0].Type != "file" || !filepath.IsAbs(file.Providers[0].Options.Path) {
		t.Fatalf("provisioning/dashboards/arrears.yaml: want one file provider with an absolute path, have %+v", file.Providers)
	}
	return file.Providers[0]
}

// envRefRE finds what Grafana takes from its environment in provisioning
// files, $VAR or ${VAR}; envRefOnlyRE is a value that is only that.
var (
	envRefRE     = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`)
	envRefOnlyRE = regexp.MustCompile(`^` + envRefRE.String() + `$`)
)

func TestGrafanaProvisioning(t *testing.T) {
	dss := provisionedDatasources(t)
	ch, ok := dss["arrears-clickhouse"]
	if !ok || ch.Type != clickhousePlugin {
		t.Fatalf("want datasource uid arrears-clickhouse of type %s, have %+v", clickhousePlugin, ch)
	}
	jd := ch.JSONData
	if jd["protocol"] != "native" || jd["port"] != 9000 || jd["defaultDatabase"] != analytics.Defaults().Database {
		t.Errorf("arrears-clickhouse: want protocol native, port 9000, defaultDatabase %s; have %v", analytics.Defaults().Database, jd)
	}
	for _, v := range []any{jd["host"], jd["username"], ch.SecureJSONData["password"]} {
		if !envRefOnlyRE.MatchString(fmt.Sprint(v)) {
			t.Errorf("arrears-clickhouse: host, username and password must come from the environment ($VAR), have %v", v)
		}
	}
	for uid, ds := range dss {
		for k, v := range ds.SecureJSONData {
			if !envRefOnlyRE.MatchString(v) {
				t.Errorf("datasource %s: secureJsonData.%s is a literal; use $VAR", uid, k)
			}
		}
		if ds.IsDefault {
			t.Errorf("datasource %s: isDefault would clash with the default datasource of an existing Grafana", uid)
		}
	}
	dashboardProviderOf(t)
}

// TestGrafanaCompose: the grafana service installs the plugin, mounts the
// provisioning and dashboard folders where the provider looks, and sets
// every variable the provisioning files read.
func TestGrafanaCompose(t *testing.T) {
	p := loadCompose(t)
	g := p.Services["grafana"]
	env := func(k string) string {
		if v := g.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	if !slices.Contains(strings.FieldsFunc(env("GF_INSTALL_PLUGINS"), func(r rune) bool { return r == ',' || r == ' ' }), clickhousePlugin) {
		t.Errorf("service grafana: GF_INSTALL_PLUGINS %q must install %s", env("GF_INSTALL_PLUGINS"), clickhousePlugin)
	}
	abs, _ := filepath.Abs("grafana")
	mounts := map[string]string{} // source under grafana/ -> target
	for _, v := range g.Volumes {
		if rel, err := filepath.Rel(abs, v.Source); v.Type == "bind" && err == nil && !strings.HasPrefix(rel, "..") {
			mounts[rel] = v.Target
			if !v.ReadOnly {
				t.Errorf("service grafana: mount %s must be read-only", rel)
			}
		}
	}
	dashboards := dashboardProviderOf(t).Options.Path
	for src, target := range map[string]string{"dashboards": dashboards,
		"provisioning/datasources": "/etc/grafana/provisioning/datasources", "provisioning/dashboards": "/etc/grafana/provisioning/dashboards"} {
		if mounts[src] != target {
			t.Errorf("service grafana: want deploy/grafana/%s mounted at %s (for dashboards: the provider's path), have %q", src, target, mounts[src])
		}
	}
	if home := env("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"); home != "" {
		if rel, ok := strings.CutPrefix(home, dashboards+"/"); !ok || fileMissing(filepath.Join("grafana/dashboards", rel)) {
			t.Errorf("service grafana: home dashboard %s is not a mounted dashboard", home)
		}
	}
	files, _ := filepath.Glob("grafana/provisioning/*/*.yaml")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, m := range envRefRE.FindAllStringSubmatch(string(stripComments(raw)), -1) {
			if env(m[1]+m[2]) == "" {
				t.Errorf("service grafana: %s reads $%s, which is not set", f, m[1]+m[2])
			}
		}
	}
	for _, k := range []string{"CLICKHOUSE_USER", "CLICKHOUSE_PASSWORD"} {
		if c := p.Services["clickhouse"].Environment[k]; c == nil || *c != env(k) {
			t.Errorf("service grafana: %s differs from the clickhouse service's", k)
		}
	}
	if host := env("CLICKHOUSE_HOST"); p.Services[host].Name == "" || g.DependsOn[host].Condition != "service_healthy" {
		t.Errorf("service grafana: CLICKHOUSE_HOST %q: want a compose service it depends on (service_healthy)", host)
	}
}

func fileMissing(path string) bool { _, err := os.Stat(path); return err != nil }

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *dsRef `json:"datasource"`
	GridPos    struct{ X, Y, W, H int }
	Targets    []struct {
		RefID      string `json:"refId"`
		Datasource *dsRef `json:"datasource"`
		EditorType string `json:"editorType"`
		QueryType  string `json:"queryType"`
		Format     *int   `json:"format"`
		RawSQL     string `json:"rawSql"`
		Expr       string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"` // of a collapsed row
}

type grafanaVariable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Datasource *dsRef          `json:"datasource"`
	Query      json.RawMessage `json:"query"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Current    struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
}

func (v grafanaVariable) query() string {
	var s string
	_ = json.Unmarshal(v.Query, &s)
	return s
}

type grafanaDashboard struct {
	file          string
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	SchemaVersion int            `json:"schemaVersion"`
	Panels        []grafanaPanel `json:"panels"`
	Templating    struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
}

func loadDashboards(t *testing.T) []grafanaDashboard {
	t.Helper()
	files, _ := filepath.Glob("grafana/dashboards/*.json")
	if len(files) == 0 {
		t.Fatal("no grafana/dashboards/*.json")
	}
	var out []grafanaDashboard
	for _, f := range files {
		d := grafanaDashboard{file: f}
		raw, err := os.ReadFile(f)
		if err == nil {
			err = json.Unmarshal(raw, &d)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, d)
	}
	return out
}

// panels flattens rows; targets without a datasource inherit the panel's.
func (d grafanaDashboard) panels() []grafanaPanel {
	var out []grafanaPanel
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for i := range p.Targets {
				if p.Targets[i].Datasource == nil {
					p.Targets[i].Datasource = p.Datasource
				}
			}
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

func (d grafanaDashboard) variable(name string) (grafanaVariable, bool) {
	i := slices.IndexFunc(d.Templating.List, func(v grafanaVariable) bool { return v.Name == name })
	if i < 0 {
		return grafanaVariable{}, false
	}
	return d.Templating.List[i], true
}

// resolve returns the uid a datasource reference means: a fixed uid, or the
// current value of a datasource variable of the same plugin type.
func (d grafanaDashboard) resolve(ref *dsRef) string {
	if ref == nil {
		return ""
	}
	if m := envRefOnlyRE.FindStringSubmatch(ref.UID); m != nil {
		v, ok := d.variable(m[1] + m[2])
		var uid string
		if !ok || v.Type != "datasource" || v.query() != ref.Type || json.Unmarshal(v.Current.Value, &uid) != nil {
			return ""
		}
		return uid
	}
	return ref.UID
}

// grafanaVarRE matches ${name}, ${name:format}, $name and [[name]].
var grafanaVarRE = regexp.MustCompile(`\$\{(\w+)(?::(\w+))?\}|\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]`)

func TestGrafanaDashboards(t *testing.T) {
	dss := provisionedDatasources(t)
	schema := migrationSchema(t)
	metrics := registeredMetrics()
	uids := map[string]bool{}
	for _, d := range loadDashboards(t) {
		if d.UID == "" || uids[d.UID] || d.Title == "" || d.SchemaVersion < 39 {
			t.Errorf("%s: want a unique uid, a title and schemaVersion >= 39, have %q %q %d", d.file, d.UID, d.Title, d.SchemaVersion)
		}
		uids[d.UID] = true
		if v, ok := d.variable("database"); ok && v.query() != analytics.Defaults().Database {
			t.Errorf("%s: variable database %q, want %q", d.file, v.query(), analytics.Defaults().Database)
		}
		ids := map[int]bool{}
		for _, p := range d.panels() {
			where := fmt.Sprintf("%s panel %d %q", d.file, p.ID, p.Title)
			if p.ID <= 0 || ids[p.ID] {
				t.Errorf("%s: panel ids must be positive and unique", where)
			}
			ids[p.ID] = true
			if g := p.GridPos; g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: gridPos %+v outside the 24-column grid", where, g)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				ds, ok := dss[d.resolve(tg.Datasource)]
				if !ok || ds.Type != tg.Datasource.Type {
					t.Errorf("%s target %s: datasource %+v is not provisioned", where, tg.RefID, tg.Datasource)
					continue
				}
				checkVariables(t, d, where, tg.RawSQL+tg.Expr)
				if ds.Type == "prometheus" {
					checkPromQL(t, where, tg.Expr, metrics)
					continue
				}
				if f, ok := map[string]int{"table": 1, "timeSeries": 0}[tg.QueryType]; !ok || tg.EditorType != "sql" || tg.Format == nil || *tg.Format != f {
					t.Errorf("%s target %s: want editorType sql, queryType table (format 1) or timeSeries (format 0)", where, tg.RefID)
				}
				checkSQLNames(t, where, tg.RawSQL, schema)
			}
		}
		for _, v := range d.Templating.List {
			where := fmt.Sprintf("%s variable %s", d.file, v.Name)
			if v.Type != "query" {
				continue
			}
			if ds, ok := dss[d.resolve(v.Datasource)]; !ok || ds.Type != clickhousePlugin || (v.IncludeAll && v.AllValue == "") {
				t.Errorf("%s: want the provisioned ClickHouse, and an allValue the SQL can test with includeAll", where)
			}
			checkVariables(t, d, where, v.query())
			checkSQLNames(t, where, v.query(), schema)
		}
	}
}

// checkVariables: every variable a query uses is defined ($__ names are
// Grafana's or the plugin's).
func checkVariables(t *testing.T, d grafanaDashboard, where, text string) {
	t.Helper()
	for _, m := range grafanaVarRE.FindAllStringSubmatch(text, -1) {
		if name := m[1] + m[3] + m[4]; !strings.HasPrefix(name, "__") {
			if _, ok := d.variable(name); !ok {
				t.Errorf("%s: $%s is not a dashboard variable", where, name)
			}
		}
	}
}

// migrationSchema maps each table of the migrations to its columns.
func migrationSchema(t *testing.T) map[string]map[string]bool {
	t.Helper()
	ms, err := analytics.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	create := regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS db\.(\w+)\s*\((.*)\)\s*ENGINE`)
	column := regexp.MustCompile(`(?m)^\s*(\w+)\s+[A-Z]`)
	out := map[string]map[string]bool{}
	for _, m := range ms {
		for _, s := range m.Statements("db") {
			if c := create.FindStringSubmatch(s); c != nil {
				out[c[1]] = map[string]bool{}
				for _, col := range column.FindAllStringSubmatch(c[2], -1) {
					out[c[1]][col[1]] = true
				}
			}
		}
	}
	if !out["invoices"]["due_date"] || !out["dead_letters"]["reason"] {
		t.Fatalf("migrations: columns not parsed, have %v", out)
	}
	return out
}

var (
	sqlStringRE  = regexp.MustCompile(`'(?:[^'\\]|\\.)*'`)
	sqlTableRE   = regexp.MustCompile(`\$\{database\}\.(\w+)`)
	sqlAliasRE   = regexp.MustCompile(`(?i)\bAS\s+(\w+)|(\w+)\s*->`) // aliases, lambda parameters
	sqlIdentRE   = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(\s*\()?`)
	sqlKeywords  = strings.Fields("SELECT FROM WHERE AND OR NOT IN AS GROUP BY ORDER HAVING LIMIT FINAL ANY ALL LEFT INNER JOIN USING UNION ARRAY DESC ASC NULL DISTINCT IS LIKE ON")
	promMetricRE = regexp.MustCompile(`\barrears_\w+`)
	promByRE     = regexp.MustCompile(`\bby \(([^)]*)\)`)
)

// checkSQLNames: a ClickHouse query reads ${database}.<table> of the
// migrations only, and every other name in it is a keyword, a function, an
// alias or lambda parameter it defines, or a column of a table it reads.
func checkSQLNames(t *testing.T, where, sql string, schema map[string]map[string]bool) {
	t.Helper()
	s := sqlStringRE.ReplaceAllString(sql, "''")
	var tables []string
	for _, m := range sqlTableRE.FindAllStringSubmatch(s, -1) {
		if schema[m[1]] == nil {
			t.Errorf("%s: table %s is in no migration", where, m[1])
		}
		tables = append(tables, m[1])
	}
	if len(tables) == 0 {
		t.Errorf("%s: reads no ${database}.<table>", where)
	}
	s = grafanaVarRE.ReplaceAllString(sqlTableRE.ReplaceAllString(s, " "), " ")
	known := map[string]bool{}
	for _, k := range sqlKeywords {
		known[k] = true
	}
	for _, m := range sqlAliasRE.FindAllStringSubmatch(s, -1) {
		known[m[1]+m[2]] = true
	}
	var unknown []string
	for _, m := range sqlIdentRE.FindAllStringSubmatch(s, -1) {
		if m[1] != "" || known[strings.ToUpper(m[0])] || known[m[0]] {
			continue // a function call, a keyword or an alias
		}
		if !slices.ContainsFunc(tables, func(tb string) bool { return schema[tb][m[0]] }) {
			unknown = append(unknown, m[0])
		}
	}
	if len(unknown) > 0 {
		t.Errorf("%s: names no column of %v: %v", where, tables, unknown)
	}
}

// metricInfo is a registered metric: histogram or not, and its labels.
type metricInfo struct {
	histogram bool
	labels    []string
}

// recorder is a Registerer that keeps what is registered.
type recorder struct{ cs []prometheus.Collector }

func (r *recorder) Register(c prometheus.Collector) error   { r.cs = append(r.cs, c); return nil }
func (r *recorder) MustRegister(cs ...prometheus.Collector) { r.cs = append(r.cs, cs...) }
func (r *recorder) Unregister(prometheus.Collector) bool    { return false }

// registeredMetrics lists what processor.NewMetrics and chsink.NewMetrics register.
func registeredMetrics() map[string]metricInfo {
	r := &recorder{}
	processor.NewMetrics(r)
	chsink.NewMetrics(r)
	descRE := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}\}$`)
	out := map[string]metricInfo{}
	for _, c := range r.cs {
		_, hist := c.(prometheus.Histogram)
		_, histVec := c.(*prometheus.HistogramVec)
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := descRE.FindStringSubmatch(d.String()); m != nil {
				out[m[1]] = metricInfo{hist || histVec, strings.FieldsFunc(m[2], func(r rune) bool { return r == ',' })}
			}
		}
	}
	return out
}

// checkPromQL: the expression names registered arrears metrics (histograms
// through _bucket, _sum or _count) and groups by their labels only.
func checkPromQL(t *testing.T, where, expr string, metrics map[string]metricInfo) {
	t.Helper()
	labels := map[string]bool{}
	names := promMetricRE.FindAllString(expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: %q names no arrears metric", where, expr)
	}
	for _, name := range names {
		m, ok := metrics[name]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, cut := strings.CutSuffix(name, suffix); !ok && cut {
				m, ok = metrics[base]
				ok = ok && m.histogram
				labels["le"] = labels["le"] || suffix == "_bucket"
			}
		}
		if !ok {
			t.Errorf("%s: metric %s is not registered by the processor or the sink", where, name)
		}
		for _, l := range m.labels {
			labels[l] = true
		}
	}
	for _, m := range promByRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); !labels[l] {
				t.Errorf("%s: groups by %s, a label none of %v has", where, l, names)
			}
		}
	}
}
