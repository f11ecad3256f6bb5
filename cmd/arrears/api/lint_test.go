package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenAPILint runs a standard OpenAPI linter, Redocly CLI (pinned in
// deploy/openapi-lint, installed from npm by deploy/local/openapi-lint.sh
// into ~/.cache/arrears), offline, with its recommended rules and every
// warning an error (deploy/openapi-lint/redocly.yaml).
func TestOpenAPILint(t *testing.T) {
	if testing.Short() {
		t.Skip("installs Redocly CLI from npm; skipped with -short")
	}
	out, err := exec.Command("bash", "../../../deploy/local/openapi-lint.sh").Output()
	if err != nil {
		t.Fatalf("deploy/local/openapi-lint.sh: %v", err)
	}
	bin := strings.TrimSpace(string(out))
	lint := func(file string) ([]byte, error) {
		cmd := exec.Command(bin, "lint", "--config", "../../../deploy/openapi-lint/redocly.yaml", "--format", "stylish", file)
		cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
		return cmd.CombinedOutput()
	}
	if res, err := lint("openapi.yaml"); err != nil || !strings.Contains(string(res), "valid") {
		t.Fatalf("redocly lint openapi.yaml: %v\n%s", err, res)
	}
	// The linter and its rules do refuse a defect: the document without
	// its operation ids and 4xx answers.
	bad := strings.NewReplacer("operationId: getMe", "", `"401": {$ref: "#/components/responses/Unauthorized"}`, "").Replace(string(OpenAPI()))
	f := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(f, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := lint(f); err == nil {
		t.Fatalf("redocly lint passed a document without operationId and 4xx answers:\n%s", res)
	}
}
