package processor

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// ParseMemoryLimit reads processor.memory_limit: a byte count with an
// optional unit as GOMEMLIMIT takes it (B, KiB, MiB, GiB, TiB), e.g.
// "450MiB". "0" or "" is 0: no limit set.
func ParseMemoryLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a byte count like 450MiB (units B, KiB, MiB, GiB, TiB)", s)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n << shift, nil
}

// SetMemoryLimit applies processor.memory_limit to the Go runtime unless the
// GOMEMLIMIT environment variable is set (the runtime already took it: the
// operator's override wins). It returns the limit in force (math.MaxInt64:
// none) and where it came from: "config", "GOMEMLIMIT" or "unset".
func SetMemoryLimit(c Config) (limit int64, from string, err error) {
	n, err := ParseMemoryLimit(c.MemoryLimit)
	if err != nil {
		return 0, "", fmt.Errorf("processor.memory_limit: %w", err)
	}
	switch {
	case os.Getenv("GOMEMLIMIT") != "":
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil
	case n > 0:
		debug.SetMemoryLimit(n)
		return n, "config", nil
	}
	return debug.SetMemoryLimit(-1), "unset", nil
}
