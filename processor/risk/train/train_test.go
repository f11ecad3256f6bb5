package train_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/risk"
	"github.com/arrears/arrears/processor/risk/synth"
	"github.com/arrears/arrears/processor/risk/train"
)

func rowsOf(samples []synth.Sample) []train.Row {
	rows := make([]train.Row, len(samples))
	for i, s := range samples {
		rows[i] = train.Row{Features: s.Features, Defaulted: s.Defaulted, Time: s.Time}
	}
	return rows
}

func TestTrainSynthetic(t *testing.T) {
	samples := synth.Generate(synth.Config{Accounts: 20000, Seed: 7})
	m, met, err := train.Train(rowsOf(samples), train.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out AUC %.4f KS %.4f (train AUC %.4f) rows %d/%d defaults %d/%d iterations %d dropped %v",
		met.AUC, met.KS, met.TrainAUC, met.TrainRows, met.TestRows, met.TrainDefaults, met.TestDefaults, met.Iterations, met.Dropped)
	// the oracle: AUC of the true PD on the same held-out rows
	var pos, neg []float64
	for _, s := range samples {
		if !s.Time.Before(met.Split) {
			if s.Defaulted {
				pos = append(pos, s.TruePD)
			} else {
				neg = append(neg, s.TruePD)
			}
		}
	}
	var wins float64
	for _, p := range pos {
		for _, q := range neg {
			switch {
			case p > q:
				wins++
			case p == q:
				wins += 0.5
			}
		}
	}
	t.Logf("oracle (true PD) held-out AUC %.4f", wins/float64(len(pos)*len(neg)))
	if met.AUC < 0.75 {
		t.Errorf("held-out AUC %.4f < 0.75", met.AUC)
	}
	if !(met.KS > 0) {
		t.Errorf("KS %.4f, want > 0", met.KS)
	}
	if !met.Converged {
		t.Errorf("did not converge in %d iterations", met.Iterations)
	}
	if met.TrainRows+met.TestRows != len(samples) || met.TestRows < len(samples)/4 {
		t.Errorf("split %d/%d", met.TrainRows, met.TestRows)
	}
	if len(met.Calibration) != 10 {
		t.Fatalf("calibration has %d bins", len(met.Calibration))
	}
	for i, c := range met.Calibration {
		t.Logf("decile %2d: n=%d mean PD %.4f observed %.4f", c.Decile, c.Rows, c.MeanPD, c.ObservedRate)
		if i > 0 && c.MeanPD < met.Calibration[i-1].MeanPD {
			t.Errorf("decile %d mean PD %.4f below previous", c.Decile, c.MeanPD)
		}
	}
	// the top decile must be much riskier than the bottom one
	if lo, hi := met.Calibration[0].ObservedRate, met.Calibration[9].ObservedRate; hi < 4*lo || hi < 0.2 {
		t.Errorf("observed default rate bottom %.3f top %.3f: no separation", lo, hi)
	}
	// the model's PD tracks the latent truth
	var sx, sy, sxx, syy, sxy float64
	for _, s := range samples {
		x, y := m.Logit(s.Features), s.Propensity
		sx, sy, sxx, syy, sxy = sx+x, sy+y, sxx+x*x, syy+y*y, sxy+x*y
	}
	n := float64(len(samples))
	corr := (sxy/n - sx/n*sy/n) / math.Sqrt((sxx/n-sx*sx/n/n)*(syy/n-sy*sy/n/n))
	t.Logf("corr(logit, propensity) = %.3f", corr)
	if corr < 0.6 {
		t.Errorf("corr(logit, propensity) = %.3f, want >= 0.6", corr)
	}

	// the rendered scorecard scores like the model
	y, err := m.Scorecard(train.ScorecardOptions{Name: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := risk.Load(y, "synthetic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples[:2000] {
		if got, want := sc.Score(s.Features).PD, m.PD(s.Features); math.Abs(got-want) > 1e-6 {
			t.Fatalf("scorecard PD %.9f, model PD %.9f for %+v", got, want, s.Features)
		}
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	rows := rowsOf(synth.Generate(synth.Config{Accounts: 3000, Seed: 3}))
	m1, _, err := train.Train(rows, train.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := train.Train(rows, train.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	y1, _ := m1.Scorecard(train.ScorecardOptions{})
	y2, _ := m2.Scorecard(train.ScorecardOptions{})
	if string(y1) != string(y2) {
		t.Fatal("two fits of the same rows differ")
	}
}

func TestTrainBinsMonotone(t *testing.T) {
	rows := rowsOf(synth.Generate(synth.Config{Accounts: 8000, Seed: 11}))
	specs := train.DefaultFeatureSpecs()
	specs[0] = train.FeatureSpec{Feature: risk.FeatureDaysPastDue, Edges: []float64{1, 8, 15, 31, 61, 91}, Monotone: 1}
	specs[5] = train.FeatureSpec{Feature: risk.FeatureReversals, Edges: []float64{1, 2, 3}, Monotone: 1}
	m, met, err := train.Train(rows, train.TrainOptions{Features: specs, Split: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("binned: AUC %.4f KS %.4f", met.AUC, met.KS)
	for _, term := range m.Terms {
		for i := 1; i < len(term.BinWeights); i++ {
			if term.BinWeights[i] < term.BinWeights[i-1] {
				t.Errorf("%s bin weights not increasing: %v", term.Spec.Feature, term.BinWeights)
			}
		}
	}
	y, err := m.Scorecard(train.ScorecardOptions{Name: "binned"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := risk.Load(y, "binned.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[:1000] {
		if got, want := sc.Score(r.Features).PD, m.PD(r.Features); math.Abs(got-want) > 1e-6 {
			t.Fatalf("scorecard PD %.9f, model PD %.9f", got, want)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	oneClass := []train.Row{{Time: t0}, {Time: t0.Add(time.Hour)}, {Time: t0.Add(2 * time.Hour)}}
	good := rowsOf(synth.Generate(synth.Config{Accounts: 500, Seed: 1}))
	cases := []struct {
		name string
		rows []train.Row
		opts train.TrainOptions
		want error
	}{
		{"no rows", nil, train.TrainOptions{}, train.ErrData},
		{"one class", oneClass, train.TrainOptions{}, train.ErrData},
		{"split after all rows", good, train.TrainOptions{Split: t0.AddDate(10, 0, 0)}, train.ErrData},
		{"bad fraction", good, train.TrainOptions{TestFraction: 1.5}, train.ErrOptions},
		{"bad l2", good, train.TrainOptions{L2: -1}, train.ErrOptions},
		{"duplicate feature", good, train.TrainOptions{Features: []train.FeatureSpec{{Feature: risk.FeatureReversals}, {Feature: risk.FeatureReversals}}}, train.ErrOptions},
		{"bad edges", good, train.TrainOptions{Features: []train.FeatureSpec{{Feature: risk.FeatureReversals, Edges: []float64{2, 1}}}}, train.ErrOptions},
		{"unknown feature", good, train.TrainOptions{Features: []train.FeatureSpec{{Feature: risk.Feature(200)}}}, train.ErrOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := train.Train(c.rows, c.opts)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}
