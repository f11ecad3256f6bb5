package train

import (
	"math"
	"slices"
	"time"
)

// Metrics describe a fit, measured on the held-out (later) period unless
// named Train*.
type Metrics struct {
	Split         time.Time `json:"split"`
	TrainRows     int       `json:"train_rows"`
	TrainDefaults int       `json:"train_defaults"`
	TestRows      int       `json:"test_rows"`
	TestDefaults  int       `json:"test_defaults"`
	// TrainAUC is the in-sample AUC, to compare with AUC for overfitting.
	TrainAUC float64 `json:"train_auc"`
	// AUC is the area under the ROC curve (ties count half).
	AUC float64 `json:"auc"`
	// KS is the Kolmogorov-Smirnov statistic: the largest gap between the
	// cumulative PD distributions of defaulters and non-defaulters.
	KS float64 `json:"ks"`
	// LogLoss is the mean negative log-likelihood; Brier the mean squared
	// error of the PD.
	LogLoss float64 `json:"log_loss"`
	Brier   float64 `json:"brier"`
	// Calibration has ten deciles of predicted PD, lowest first.
	Calibration []CalibrationBin `json:"calibration"`
	Iterations  int              `json:"iterations"`
	Converged   bool             `json:"converged"`
	// Dropped names the features left out: constant in training or with a
	// fitted weight contradicting their monotonicity.
	Dropped []string `json:"dropped,omitempty"`
}

// CalibrationBin compares predicted and observed default rates in one
// decile of predicted PD.
type CalibrationBin struct {
	Decile       int     `json:"decile"`
	Rows         int     `json:"rows"`
	MinPD        float64 `json:"min_pd"`
	MaxPD        float64 `json:"max_pd"`
	MeanPD       float64 `json:"mean_pd"`
	ObservedRate float64 `json:"observed_rate"`
}

type scored struct {
	pd float64
	y  bool
}

func scoreRows(m *Model, rows []*Row) []scored {
	out := make([]scored, len(rows))
	for i, r := range rows {
		out[i] = scored{pd: m.PD(r.Features), y: r.Defaulted}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		switch {
		case a.pd < b.pd:
			return -1
		case a.pd > b.pd:
			return 1
		}
		return 0
	})
	return out
}

// evaluate returns the defaults, AUC, KS and calibration deciles of m on rows.
func evaluate(m *Model, rows []*Row) (defaults int, auc, ks float64, cal []CalibrationBin) {
	s := scoreRows(m, rows)
	auc, ks, defaults = aucKS(s)
	return defaults, auc, ks, calibration(s)
}

// aucKS walks s (sorted by PD ascending) group by group of equal PD.
func aucKS(s []scored) (auc, ks float64, pos int) {
	for _, r := range s {
		if r.y {
			pos++
		}
	}
	neg := len(s) - pos
	if pos == 0 || neg == 0 {
		return math.NaN(), 0, pos
	}
	var negBelow, posSeen, negSeen float64
	var u float64 // Mann-Whitney: pairs (default, non-default) ranked correctly
	for i := 0; i < len(s); {
		j := i
		var gp, gn float64
		for ; j < len(s) && s[j].pd == s[i].pd; j++ {
			if s[j].y {
				gp++
			} else {
				gn++
			}
		}
		u += gp * (negBelow + gn/2)
		negBelow += gn
		posSeen += gp
		negSeen += gn
		ks = math.Max(ks, math.Abs(negSeen/float64(neg)-posSeen/float64(pos)))
		i = j
	}
	return u / (float64(pos) * float64(neg)), ks, pos
}

func calibration(s []scored) []CalibrationBin {
	const deciles = 10
	var out []CalibrationBin
	for d := 0; d < deciles; d++ {
		lo, hi := d*len(s)/deciles, (d+1)*len(s)/deciles
		if lo == hi {
			continue
		}
		b := CalibrationBin{Decile: d + 1, Rows: hi - lo, MinPD: s[lo].pd, MaxPD: s[hi-1].pd}
		var sum, pos float64
		for _, r := range s[lo:hi] {
			sum += r.pd
			if r.y {
				pos++
			}
		}
		b.MeanPD = sum / float64(b.Rows)
		b.ObservedRate = pos / float64(b.Rows)
		out = append(out, b)
	}
	return out
}

func lossOf(m *Model, rows []*Row) (logLoss, brier float64) {
	for _, r := range rows {
		p := math.Min(math.Max(m.PD(r.Features), 1e-15), 1-1e-15)
		y := 0.0
		if r.Defaulted {
			y = 1
		}
		logLoss -= y*math.Log(p) + (1-y)*math.Log(1-p)
		brier += (p - y) * (p - y)
	}
	n := float64(len(rows))
	return logLoss / n, brier / n
}
