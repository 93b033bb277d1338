//go:build unix

package flow

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the test process has used (user + system):
// unlike wall time, it does not grow while other jobs hold the cores.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
