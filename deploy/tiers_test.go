package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/risk"
)

// tierColours are the Grafana colours a risk tier may take: by name, never by
// position (series and categories come sorted by name, so the palette's
// first colour, green, went to HIGH).
var tierColours = map[string][]string{
	"LOW":       {"green", "semi-dark-green", "dark-green"},
	"MEDIUM":    {"yellow", "semi-dark-yellow", "orange", "semi-dark-orange"},
	"HIGH":      {"red", "semi-dark-red"},
	"VERY_HIGH": {"dark-red", "purple", "dark-purple"},
}

// tierTarget is a panel query.
type tierTarget struct {
	RawSQL string `json:"rawSql"`
}

// tierPanel is what colours a panel: overrides and the bar chart's colorByField.
type tierPanel struct {
	ID          int    `json:"id"`
	Title       string `json:"title"`
	Type        string `json:"type"`
	Targets     []tierTarget
	FieldConfig struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Options struct {
		ColorByField string `json:"colorByField"`
	} `json:"options"`
}

// TestGrafanaTierColours: every panel that charts risk tiers gives each tier
// of the shipped scorecard its own colour: a time series through one
// override per tier that matches its series (whatever way Grafana names a
// labelled series) and no other tier's, a bar chart through colorByField and
// a value mapping on the tier column.
func TestGrafanaTierColours(t *testing.T) {
	raw, err := os.ReadFile("risk/scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := risk.Load(raw, "risk/scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tiers := sc.Tiers()
	for _, tier := range tiers {
		if tierColours[tier] == nil {
			t.Fatalf("scorecard tier %s has no colour here", tier)
		}
	}
	seen := 0
	for _, d := range loadDashboards(t) {
		var doc struct{ Panels []tierPanel }
		if b, err := os.ReadFile(d.file); err != nil || json.Unmarshal(b, &doc) != nil {
			t.Fatalf("%s: %v", d.file, err)
		}
		for _, p := range doc.Panels {
			if !slices.ContainsFunc(p.Targets, func(tg tierTarget) bool {
				return strings.Contains(tg.RawSQL, " AS tier") || strings.Contains(tg.RawSQL, ", tier,")
			}) {
				continue
			}
			seen++
			where := fmt.Sprintf("%s panel %d %q", d.file, p.ID, p.Title)
			switch p.Type {
			case "timeseries":
				checkSeriesColours(t, where, p, tiers)
			case "barchart":
				checkBarColours(t, where, p, tiers)
			default:
				t.Errorf("%s: a %s of tiers; only timeseries and barchart are checked", where, p.Type)
			}
		}
	}
	if seen < 2 {
		t.Errorf("%d tier panels found, want the tier bar chart and the tier changes time series", seen)
	}
}

func checkSeriesColours(t *testing.T, where string, p tierPanel, tiers []string) {
	t.Helper()
	for _, tier := range tiers {
		// The names Grafana may give the series of one tier of "changes".
		for _, name := range []string{tier, "changes " + tier, `changes {tier="` + tier + `"}`} {
			var got []string
			for _, o := range p.FieldConfig.Overrides {
				if o.Matcher.ID != "byRegexp" {
					continue
				}
				re, err := regexp.Compile(strings.TrimSuffix(strings.TrimPrefix(o.Matcher.Options, "/"), "/"))
				if err != nil {
					t.Fatalf("%s: override regexp %q: %v", where, o.Matcher.Options, err)
				}
				if re.MatchString(name) {
					for _, pr := range o.Properties {
						var c struct{ Mode, FixedColor string }
						if pr.ID == "color" && json.Unmarshal(pr.Value, &c) == nil && c.Mode == "fixed" {
							got = append(got, c.FixedColor)
						}
					}
				}
			}
			if len(got) != 1 || !slices.Contains(tierColours[tier], got[0]) {
				t.Errorf("%s: series %q gets colours %v, want one of %v", where, name, got, tierColours[tier])
			}
		}
	}
}

func checkBarColours(t *testing.T, where string, p tierPanel, tiers []string) {
	t.Helper()
	if p.Options.ColorByField != "tier" {
		t.Errorf("%s: colorByField %q, want tier", where, p.Options.ColorByField)
	}
	colour := map[string]string{}
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID != "byName" || o.Matcher.Options != "tier" {
			continue
		}
		for _, pr := range o.Properties {
			var maps []struct {
				Type    string
				Options map[string]struct{ Color string }
			}
			if pr.ID == "mappings" && json.Unmarshal(pr.Value, &maps) == nil {
				for _, m := range maps {
					for v, r := range m.Options {
						if m.Type == "value" {
							colour[v] = r.Color
						}
					}
				}
			}
		}
	}
	for _, tier := range tiers {
		if !slices.Contains(tierColours[tier], colour[tier]) {
			t.Errorf("%s: tier %s is %q, want one of %v", where, tier, colour[tier], tierColours[tier])
		}
	}
}
