//go:build unix

package sandboxapi_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used: the
// benchmarks report it per verification, a figure that a busy machine
// disturbs less than a rate.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
