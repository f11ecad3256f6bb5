package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arrears/arrears/cmd/arrears/config"
	"github.com/arrears/arrears/processor"
	"github.com/arrears/arrears/processor/kafkax"
	"github.com/arrears/arrears/processor/policy"
	"github.com/arrears/arrears/processor/testkit"
)

// stdoutOf runs f with os.Stdout captured.
func stdoutOf(t *testing.T, f func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	err = f()
	os.Stdout = old
	w.Close()
	return <-done, err
}

// TestPolicyCommands: `policy apply` publishes a file (flags after the
// files) and refuses an instant inside processor.policy_lead_time; `policy
// list` marks the files' version in force before it and the published one
// after; `policy diff` shows the changed field between the file on disk
// and the published NAME@VERSION.
func TestPolicyCommands(t *testing.T) {
	cfg := config.Defaults()
	cfg.Kafka = testkit.KafkaConfig(t, 1)
	cfg.Core.PolicyDir = "../../deploy/policies"
	dir := t.TempDir()
	path := filepath.Join(dir, "arrears.yaml")
	if _, err := cfg.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../deploy/policies/postpaid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "postpaid.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(string(b), "grace_days: 2\n", "grace_days: 4\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	soon := time.Now().Add(time.Minute).UTC().Format(time.RFC3339)
	if err := cmdPolicy(ctx, []string{"apply", file, "-config", path, "--effective", soon}); !errors.Is(err, processor.ErrEffectiveTooSoon) {
		t.Fatalf("apply inside the lead time: %v", err)
	}
	eff := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	out, err := stdoutOf(t, func() error {
		return cmdPolicy(ctx, []string{"apply", file, "--effective", eff.Format(time.RFC3339), "-config", path})
	})
	if err != nil || !strings.HasPrefix(out, "applied postpaid-standard@") {
		t.Fatalf("apply: %q %v", out, err)
	}
	ref := strings.Fields(out)[1] // postpaid-standard@VERSION
	version := strings.TrimPrefix(ref, "postpaid-standard@")
	for _, tc := range []struct {
		at   time.Time
		want string // the postpaid row marked *
	}{
		{eff.Add(-time.Second), "files"},
		{eff, version},
	} {
		out, err := stdoutOf(t, func() error {
			return cmdPolicy(ctx, []string{"list", "-config", path, "--at", tc.at.Format(time.RFC3339)})
		})
		if err != nil {
			t.Fatal(err)
		}
		var marked []string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 4 && f[0] == "*" && f[1] == "postpaid-standard" {
				marked = append(marked, line)
			}
		}
		if len(marked) != 1 || !strings.Contains(marked[0], tc.want) {
			t.Errorf("list at %s marks %q, want the %s row:\n%s", tc.at.Format(time.RFC3339), marked, tc.want, out)
		}
	}
	out, err = stdoutOf(t, func() error {
		return cmdPolicy(ctx, []string{"diff", "../../deploy/policies/postpaid.yaml", ref, "-config", path})
	})
	if err != nil || strings.TrimSpace(out) != "~ grace_days: 2 -> 4" {
		t.Errorf("diff: %q %v", out, err)
	}
}

// publishVersion publishes path's policy with its description replaced
// (another version of the same policy) effective from eff, as applied at
// now (simulated time), and returns its version.
func publishVersion(t *testing.T, kcfg kafkax.Config, path string, eff, now time.Time) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "description:") {
			lines[i] = "description: published from " + eff.Format(time.RFC3339)
		}
	}
	f := policy.File{Name: path, Data: []byte(strings.Join(lines, "\n"))}
	out, err := processor.ApplyPolicies(context.Background(), kcfg, policyCodec, []policy.File{f}, eff, now, time.Hour, quietLog())
	if err != nil || len(out) != 1 || out[0].Unchanged {
		t.Fatalf("publish %s: %+v %v", path, out, err)
	}
	return out[0].Record.Version
}
