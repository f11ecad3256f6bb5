package testkit

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestArrearsBinaryCached: the binary is built into the shared cache under
// the source's hash (no temporary directory per process left behind), a
// second lookup reuses it without building, and a stale build of another
// source is pruned while a recent one stays.
func TestArrearsBinaryCached(t *testing.T) {
	cache := BinaryCache()
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	stale, recent := filepath.Join(cache, "stale-"+ID()), filepath.Join(cache, "recent-"+ID())
	for _, d := range []string{stale, recent} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	old := time.Now().Add(-2 * binKeep)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	bin := ArrearsBinary(t)
	if got := filepath.Dir(filepath.Dir(bin)); got != cache {
		t.Fatalf("binary %s is not in the shared cache %s", bin, cache)
	}
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	again, err := cachedBuild() // as another test process would
	if err != nil {
		t.Fatal(err)
	}
	info2, err := os.Stat(again)
	if err != nil {
		t.Fatal(err)
	}
	if again != bin || !info2.ModTime().Equal(info.ModTime()) {
		t.Fatalf("second lookup gave %s (modified %s), want the cached %s (modified %s) reused", again, info2.ModTime(), bin, info.ModTime())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a build unused for %s was not pruned (stat: %v)", 2*binKeep, err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("a recent build was pruned: %v", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(bin), "*.tmp"))
	if len(tmps) != 0 {
		t.Errorf("temporary build files left: %v", tmps)
	}
}
