package testkit

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/risk"
)

// DeployEnv is the core environment `arrears run` builds from the deploy
// directory's policies and scorecard with the default core section (and
// explanations skipped, as run skips them). root is the repository root
// relative to the test's package directory ("../.." and so on).
func DeployEnv(t testing.TB, root string) *core.Env {
	t.Helper()
	cc := core.Defaults()
	env := &core.Env{Rules: cc.Rules(), Limits: cc.Limits(), Zone: core.CachedZones(time.LoadLocation), SkipExplanations: true}
	var err error
	if env.Policies, err = policy.LoadFS(os.DirFS(filepath.Join(root, "deploy/policies"))); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(root, "deploy/risk/scorecard.yaml")
	b, err := os.ReadFile(sc)
	if err != nil {
		t.Fatal(err)
	}
	if env.Scorecard, err = risk.Load(b, "scorecard.yaml"); err != nil {
		t.Fatal(err)
	}
	return env
}
