package train

import (
	"math"
	"testing"
)

func TestAUCKS(t *testing.T) {
	// perfect separation
	s := []scored{{0.1, false}, {0.2, false}, {0.8, true}, {0.9, true}}
	if auc, ks, pos := aucKS(s); auc != 1 || ks != 1 || pos != 2 {
		t.Fatalf("perfect: auc %v ks %v pos %d", auc, ks, pos)
	}
	// all tied: AUC 0.5, KS 0
	s = []scored{{0.5, false}, {0.5, true}, {0.5, false}, {0.5, true}}
	if auc, ks, _ := aucKS(s); auc != 0.5 || ks != 0 {
		t.Fatalf("tied: auc %v ks %v", auc, ks)
	}
	// one inversion out of four pairs
	s = []scored{{0.1, false}, {0.2, true}, {0.3, false}, {0.4, true}}
	if auc, ks, _ := aucKS(s); auc != 0.75 || ks != 0.5 {
		t.Fatalf("mixed: auc %v ks %v", auc, ks)
	}
	if auc, _, _ := aucKS([]scored{{0.1, false}}); !math.IsNaN(auc) {
		t.Fatal("one class should be NaN")
	}
}

func TestCalibration(t *testing.T) {
	var s []scored
	for i := 0; i < 100; i++ {
		s = append(s, scored{pd: float64(i) / 100, y: i%10 == 0})
	}
	c := calibration(s)
	if len(c) != 10 || c[0].Rows != 10 || c[0].MinPD != 0 || c[9].MaxPD != 0.99 || c[3].ObservedRate != 0.1 {
		t.Fatalf("calibration %+v", c)
	}
	if math.Abs(c[0].MeanPD-0.045) > 1e-12 {
		t.Fatalf("mean PD %v", c[0].MeanPD)
	}
}

func TestPAVA(t *testing.T) {
	w := []float64{0, 1, 0.5, 2}
	pava(w, []int{10, 10, 30, 5}, 1)
	want := []float64{0, 0.625, 0.625, 2}
	for i := range w {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Fatalf("pava increasing = %v, want %v", w, want)
		}
	}
	w = []float64{2, 1, 1.5, 0}
	pava(w, []int{1, 1, 1, 1}, -1)
	want = []float64{2, 1.25, 1.25, 0}
	for i := range w {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Fatalf("pava decreasing = %v, want %v", w, want)
		}
	}
}
