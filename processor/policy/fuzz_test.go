package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPolicyLoad feeds arbitrary bytes to Load: it must never panic or hang,
// every failure must be Errors naming the file, and whatever loads must be
// a policy the engine can use (stages in order, a stable version).
// Regression inputs live in testdata/fuzz/FuzzPolicyLoad.
func FuzzPolicyLoad(f *testing.F) {
	f.Add([]byte(validPolicy))
	paths, _ := filepath.Glob(filepath.Join("..", "..", "deploy", "policies", "*.yaml"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pol, err := Load(data, "fuzz.yaml")
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error is not a non-empty Errors: %v", err)
			}
			for _, e := range es {
				if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 0 {
					t.Fatalf("bad problem %+v", e)
				}
			}
			return
		}
		if pol.Name == "" || len(pol.Stages) == 0 || len(pol.Version) != 12 {
			t.Fatalf("loaded an incomplete policy: %+v", pol)
		}
		for i := 1; i < len(pol.Stages); i++ {
			if pol.Stages[i].DaysPastDue < pol.Stages[i-1].DaysPastDue {
				t.Fatalf("stages out of order: %+v", pol.Stages)
			}
		}
		again, err := Load(data, "fuzz.yaml")
		if err != nil || again.Version != pol.Version {
			t.Fatalf("reload: version %v, err %v", again, err)
		}
	})
}

// TestLoadRefusesAliasBomb: nine levels of ten aliases (10^9 values when
// expanded) in a valid-looking policy are refused by the parser's bound,
// before anything walks or decodes them.
func TestLoadRefusesAliasBomb(t *testing.T) {
	doc := "a0: &a0 [reminder]\n"
	for i := 1; i <= 9; i++ {
		doc += fmt.Sprintf("a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 10), ","))
	}
	_, err := Load([]byte(doc), "bomb.yaml")
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 || !strings.Contains(es[0].Error(), "bomb.yaml:") || !strings.Contains(es[0].Msg, "aliases expanded") {
		t.Fatalf("err = %v, want one problem naming the alias bound", err)
	}
}
