package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
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

// StartChild starts `bin args...` with env, its output in the file log,
// and stops it with SIGTERM when the test ends; the log is shown when the
// test failed.
func StartChild(t testing.TB, bin string, args, env []string, log string) {
	t.Helper()
	lf, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		lf.Close()
		if t.Failed() {
			if b, err := os.ReadFile(log); err == nil {
				t.Logf("%s log:\n%s", args[0], b)
			}
		}
	})
}
