package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arrears/arrears/processor/core"
	"github.com/arrears/arrears/processor/policy"
)

// ExperimentChallenger is the challenger policy ExperimentFiles adds:
// postpaid-standard without its late fee, at a lower priority.
const ExperimentChallenger = "postpaid-soft"

// ExperimentFiles are the deploy directory's policies with a
// champion/challenger experiment on postpaid: postpaid-standard names
// ExperimentChallenger as its challenger under id at share. root is the
// repository root relative to the test's package directory.
func ExperimentFiles(root, id string, share float64) ([]policy.File, error) {
	dir := filepath.Join(root, "deploy/policies")
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var files []policy.File
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files = append(files, policy.File{Name: filepath.Base(n), Data: b})
		if filepath.Base(n) != "postpaid.yaml" {
			continue
		}
		text := string(b)
		soft := strings.Replace(text, "name: postpaid-standard", "name: "+ExperimentChallenger, 1)
		soft = strings.Replace(soft, "      - {type: fee, amount: \"5.00\", currency: EUR}\n", "", 1)
		soft = strings.Replace(soft, "  priority: 0\n", "  priority: -1\n", 1) // below its champion
		if soft == text {
			return nil, fmt.Errorf("%s: cannot derive the challenger", n)
		}
		files[len(files)-1].Data = []byte(text + fmt.Sprintf("challenger: {experiment: %s, policy: %s, share: %g}\n", id, ExperimentChallenger, share))
		files = append(files, policy.File{Name: "postpaid-soft.yaml", Data: []byte(soft)})
	}
	return files, nil
}

// ExperimentSet loads ExperimentFiles.
func ExperimentSet(t testing.TB, root, id string, share float64) *policy.Set {
	t.Helper()
	files, err := ExperimentFiles(root, id, share)
	if err != nil {
		t.Fatal(err)
	}
	set, err := policy.LoadSet(files)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// ExperimentEnv is DeployEnv with ExperimentSet's policies.
func ExperimentEnv(t testing.TB, root, id string, share float64) *core.Env {
	t.Helper()
	env := DeployEnv(t, root)
	env.Policies = ExperimentSet(t, root, id, share)
	return env
}
