package deploy

// The Prometheus alert rules of alerts/ (arrears.rules.yaml) and their
// promtool unit tests (arrears.rules.test.yaml). Offline: every rule is an
// alert with a for:, a severity and summary, description and runbook_url
// annotations; each runbook_url names a section of docs/operations.md that
// exists; every metric an expression names is registered by the processor
// or the sink (so renaming a metric breaks this test, not the alert); every
// alert has a firing and a silent case in the unit tests; the k8s
// PrometheusRule carries the same groups. TestPromtool then runs
// `promtool check rules` and `promtool test rules` (promtool from Debian's
// prometheus package, deploy/local/promtool.sh; a missing promtool fails
// the test, -short skips it).

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	rulesFile     = "alerts/arrears.rules.yaml"
	rulesTestFile = "alerts/arrears.rules.test.yaml"
	runbookDoc    = "../docs/operations.md"
	runbookURL    = "https://github.com/arrears/arrears/blob/main/docs/operations.md#"
)

// alertRule and ruleGroups decode the rule file (yaml) and the
// PrometheusRule's spec (json, through sigs.k8s.io/yaml) alike.
type alertRule struct {
	Alert       string            `yaml:"alert" json:"alert"`
	Record      string            `yaml:"record" json:"record,omitempty"`
	Expr        string            `yaml:"expr" json:"expr"`
	For         string            `yaml:"for" json:"for"`
	Labels      map[string]string `yaml:"labels" json:"labels"`
	Annotations map[string]string `yaml:"annotations" json:"annotations"`
}

type ruleGroups struct {
	Groups []struct {
		Name  string      `yaml:"name" json:"name"`
		Rules []alertRule `yaml:"rules" json:"rules"`
	} `yaml:"groups" json:"groups"`
}

// prometheusRule is the Prometheus Operator's PrometheusRule, the fields we use.
type prometheusRule struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            ruleGroups        `json:"spec"`
}

func loadRules(t *testing.T) ruleGroups {
	t.Helper()
	var g ruleGroups
	decodeYAMLStrict(t, rulesFile, &g)
	if len(g.Groups) == 0 {
		t.Fatalf("%s: no groups", rulesFile)
	}
	return g
}

// headingAnchors are GitHub's anchors of the markdown headings of a file.
func headingAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	out := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	return out
}

func TestAlertRules(t *testing.T) {
	metrics := registeredMetrics()
	anchors := headingAnchors(t, runbookDoc)
	seen := map[string]bool{}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			where := rulesFile + " alert " + r.Alert
			if r.Alert == "" || r.Record != "" || seen[r.Alert] {
				t.Errorf("%s (group %s): want uniquely named alerts only", where, g.Name)
			}
			seen[r.Alert] = true
			if r.For == "" {
				t.Errorf("%s: no for:", where)
			}
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want warning or critical", where, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: annotation %s missing", where, a)
				}
			}
			anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], runbookURL)
			if !ok || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q names no section of docs/operations.md", where, r.Annotations["runbook_url"])
			}
			checkPromQL(t, where, r.Expr, metrics)
		}
	}

	// Every alert fires in one case and is silent in another.
	var tests struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	raw, err := os.ReadFile(rulesTestFile)
	if err == nil {
		err = yaml.Unmarshal(raw, &tests)
	}
	if err != nil {
		t.Fatalf("%s: %v", rulesTestFile, err)
	}
	firing, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			if !seen[a.Alertname] {
				t.Errorf("%s: tests alert %q, which %s does not define", rulesTestFile, a.Alertname, rulesFile)
			}
			firing[a.Alertname] = firing[a.Alertname] || len(a.ExpAlerts) > 0
			silent[a.Alertname] = silent[a.Alertname] || len(a.ExpAlerts) == 0
		}
	}
	for name := range seen {
		if !firing[name] || !silent[name] {
			t.Errorf("%s: alert %s wants a firing case (%v) and a silent one (%v)", rulesTestFile, name, firing[name], silent[name])
		}
	}
}

// TestPrometheusRuleManifest: the k8s PrometheusRule ships the same groups
// as alerts/arrears.rules.yaml (the file is the source; copy its groups into
// k8s/prometheusrule.yaml's spec when changing it).
func TestPrometheusRuleManifest(t *testing.T) {
	b := loadBase(t)
	prs := all[*prometheusRule](b)
	if len(prs) != 1 {
		t.Fatalf("want one PrometheusRule in the k8s base, have %d", len(prs))
	}
	if !reflect.DeepEqual(prs[0].Spec, loadRules(t)) {
		t.Errorf("k8s/prometheusrule.yaml spec differs from %s; copy its groups", rulesFile)
	}
}

// promtool returns the path of promtool, installing it (deploy/local/promtool.sh).
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", filepath.Join("local", "promtool.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool is required (bash deploy/local/promtool.sh, make promtool): %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

func TestPromtool(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool; skipped with -short")
	}
	bin := promtool(t)
	for _, args := range [][]string{{"check", "rules", filepath.Base(rulesFile)}, {"test", "rules", filepath.Base(rulesTestFile)}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = filepath.Dir(rulesFile)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestComposeLoadsAlertRules: compose's Prometheus mounts the rule file and
// its config loads it.
func TestComposeLoadsAlertRules(t *testing.T) {
	p := loadCompose(t)
	rules, ok := p.Configs["prometheus-rules"]
	if abs, _ := filepath.Abs(rulesFile); !ok || rules.File != abs {
		t.Fatalf("configs.prometheus-rules: want file %s, have %+v", rulesFile, rules)
	}
	var target string
	for _, c := range p.Services["prometheus"].Configs {
		if c.Source == "prometheus-rules" {
			target = c.Target
		}
	}
	var prom struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if err := yaml.Unmarshal([]byte(p.Configs["prometheus"].Content), &prom); err != nil {
		t.Fatal(err)
	}
	if target == "" || !slices.Contains(prom.RuleFiles, target) {
		t.Errorf("service prometheus: rule file mounted at %q, config rule_files %v", target, prom.RuleFiles)
	}
}
