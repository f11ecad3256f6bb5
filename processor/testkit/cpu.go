package testkit

import (
	"syscall"
	"time"
)

// CPUTime is this process's user + system CPU so far (getrusage), for
// benchmarks that report work per CPU second on a shared machine.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
