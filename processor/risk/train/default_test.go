package train_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/risk/synth"
	"github.com/arrears/arrears/processor/risk/train"
)

var update = flag.Bool("update", false, "rewrite deploy/risk/scorecard.yaml and metrics.json")

const deployDir = "../../../deploy/risk"

// defaultHistory is the synthetic history deploy/risk/scorecard.yaml is
// trained on.
func defaultHistory() []train.Row {
	return rowsOf(synth.Generate(synth.Config{Accounts: 40000, Seed: 2026}))
}

// TestGenerateDefaultScorecard trains the shipped scorecard. With -update it
// rewrites deploy/risk/scorecard.yaml and metrics.json; without, it checks
// that the shipped scorecard scores like a fresh fit (within 1e-6, so a
// different floating-point platform does not fail it).
//
//	go test ./processor/risk/train -run TestGenerateDefaultScorecard -update
func TestGenerateDefaultScorecard(t *testing.T) {
	rows := defaultHistory()
	m, met, err := train.Train(rows, train.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default scorecard: held-out AUC %.4f KS %.4f on %d rows", met.AUC, met.KS, met.TestRows)
	if met.AUC < 0.75 || !(met.KS > 0) {
		t.Fatalf("AUC %.4f KS %.4f", met.AUC, met.KS)
	}
	y, err := m.Scorecard(train.ScorecardOptions{
		Name:        "default",
		Description: "Default scorecard, trained on synthetic history (processor/risk/synth, seed 2026). Retrain on your own history with arrears risk train.",
	})
	if err != nil {
		t.Fatal(err)
	}
	mj, err := json.MarshalIndent(met, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mj = append(mj, '\n')
	ypath, mpath := filepath.Join(deployDir, "scorecard.yaml"), filepath.Join(deployDir, "metrics.json")
	if *update {
		if err := os.WriteFile(ypath, y, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(mpath, mj, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	shipped, err := os.ReadFile(ypath)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	sc, err := risk.Load(shipped, ypath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(shipped, y) {
		return
	}
	for _, r := range rows[:5000] {
		if got, want := sc.Score(r.Features).PD, m.PD(r.Features); math.Abs(got-want) > 1e-6 {
			t.Fatalf("shipped scorecard PD %.9f, fresh fit %.9f: regenerate with -update", got, want)
		}
	}
}
