package testkit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binKeep is how long a cached binary nobody used stays in BinaryCache.
const binKeep = 24 * time.Hour

// BinaryCache is where ArrearsBinary keeps its builds: one directory per
// source hash, shared by every test process of the machine, so that none
// leaves a build behind.
func BinaryCache() string { return filepath.Join(os.TempDir(), "arrears-bin") }

// ArrearsBinary returns the path of cmd/arrears built from the current
// source, for tests that run arrears as a child. The build is cached in
// BinaryCache under the hash of the module's source (and the Go version)
// and reused by every test process while the source is unchanged; builds
// of other sources not used for a day are removed.
func ArrearsBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() { binPath, binErr = cachedBuild() })
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// cachedBuild finds or builds the binary of the current source.
func cachedBuild() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sum, err := sourceHash(root)
	if err != nil {
		return "", fmt.Errorf("hash the module source: %w", err)
	}
	cache := BinaryCache()
	dir := filepath.Join(cache, sum)
	bin := filepath.Join(dir, "arrears")
	defer pruneBinaries(cache, sum)
	if _, err := os.Stat(bin); err == nil {
		now := time.Now()
		_ = os.Chtimes(dir, now, now) // in use: keep it
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// build beside it and rename: processes building at once each get a
	// whole binary
	tmp, err := os.CreateTemp(dir, "arrears-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	out, err := exec.Command("go", "build", "-o", tmp.Name(), "github.com/arrears/arrears/cmd/arrears").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/arrears: %v\n%s", err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not in a Go module")
	}
	return filepath.Dir(mod), nil
}

// sourceHash hashes the Go version and every file of the module a build
// can read (tests, testdata and dot directories such as .local's service
// data left out).
func sourceHash(root string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s\x00", rel)
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// pruneBinaries removes the cached builds other than keep not used for
// binKeep.
func pruneBinaries(cache, keep string) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Name() == keep {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > binKeep {
			_ = os.RemoveAll(filepath.Join(cache, e.Name()))
		}
	}
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
