package processor

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestParseMemoryLimit: GOMEMLIMIT's units, "0" and "" as unset, and
// errors for anything else.
func TestParseMemoryLimit(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "": 0, "1024": 1024, "450MiB": 450 << 20, "2GiB": 2 << 30, "64KiB": 64 << 10, "7B": 7} {
		if got, err := ParseMemoryLimit(in); err != nil || got != want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"450MB", "-1", "1.5GiB", "lots", "9999999TiB"} {
		if _, err := ParseMemoryLimit(in); err == nil {
			t.Errorf("ParseMemoryLimit(%q): no error", in)
		}
	}
	c := Defaults()
	c.MemoryLimit = "450MB"
	if err := c.Validate(); err == nil {
		t.Error("Validate accepted processor.memory_limit 450MB")
	}
}

// TestSetMemoryLimit: the config's limit is applied unless GOMEMLIMIT is
// set, which wins.
func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	c := Defaults()
	c.MemoryLimit = "300MiB"
	t.Setenv("GOMEMLIMIT", "")
	if n, from, err := SetMemoryLimit(c); err != nil || n != 300<<20 || from != "config" || debug.SetMemoryLimit(-1) != 300<<20 {
		t.Fatalf("SetMemoryLimit = %d %s %v, runtime %d; want 300 MiB from config", n, from, err, debug.SetMemoryLimit(-1))
	}
	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "200MiB")
	if n, from, err := SetMemoryLimit(c); err != nil || from != "GOMEMLIMIT" || n != math.MaxInt64 {
		t.Fatalf("with GOMEMLIMIT set: %d %s %v; want the runtime's own limit left alone", n, from, err)
	}
}
