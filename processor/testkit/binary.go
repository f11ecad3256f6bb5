package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// ArrearsBinary builds cmd/arrears once per test process into a temporary
// directory and returns its path, for tests that run arrears as a child.
func ArrearsBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arrears-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "arrears")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/arrears/arrears/cmd/arrears").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/arrears: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
