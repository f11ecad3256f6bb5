package dashboard

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/arrears/arrears/processor/risk"
)

// checkTierColors: the risk-tier chart lists the shipped scorecard's tiers
// lowest risk first and colours each by its name: LOW green, MEDIUM amber,
// HIGH red, VERY_HIGH a darker red (the report sorts tiers by name, so a
// colour by position painted HIGH green).
func checkTierColors(t *testing.T, labels, colors []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "deploy", "risk", "scorecard.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := risk.Load(raw, "scorecard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(labels, sc.Tiers()) || len(colors) != len(labels) {
		t.Fatalf("risk chart tiers %v colours %v, want the scorecard's %v, lowest risk first", labels, colors, sc.Tiers())
	}
	want := map[string][2]float64{"LOW": {90, 150}, "MEDIUM": {35, 55}, "HIGH": {-15, 15}, "VERY_HIGH": {-15, 15}}
	light := map[string]float64{}
	for i, tier := range labels {
		h, l, err := hueLightness(colors[i])
		r, ok := want[tier]
		if h > 180 {
			h -= 360
		}
		if err != nil || !ok || h < r[0] || h > r[1] {
			t.Errorf("risk chart: tier %s is %s (hue %.0f), want hue in %v", tier, colors[i], h, r)
		}
		light[tier] = l
	}
	if light["VERY_HIGH"] >= light["HIGH"] {
		t.Errorf("risk chart: VERY_HIGH (lightness %.2f) should be darker than HIGH (%.2f)", light["VERY_HIGH"], light["HIGH"])
	}
}

// hueLightness of a #rrggbb colour: hue in degrees [0, 360), HSL lightness.
func hueLightness(hex string) (hue, light float64, err error) {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return 0, 0, fmt.Errorf("colour %q: %w", hex, err)
	}
	rf, gf, bf := float64(r)/255, float64(g)/255, float64(b)/255
	mx, mn := math.Max(rf, math.Max(gf, bf)), math.Min(rf, math.Min(gf, bf))
	light = (mx + mn) / 2
	d := mx - mn
	switch {
	case d == 0:
		return 0, light, nil
	case mx == rf:
		hue = math.Mod((gf-bf)/d, 6)
	case mx == gf:
		hue = (bf-rf)/d + 2
	default:
		hue = (rf-gf)/d + 4
	}
	hue *= 60
	if hue < 0 {
		hue += 360
	}
	return hue, light, nil
}

func TestHueLightness(t *testing.T) {
	for hex, want := range map[string]float64{"#ff0000": 0, "#00ff00": 120, "#0000ff": 240, "#ffbf00": 45} {
		if h, _, err := hueLightness(hex); err != nil || math.Abs(h-want) > 0.5 {
			t.Errorf("hue(%s) = %.1f, %v; want %.0f", hex, h, err, want)
		}
	}
}
