//go:build !linux

package flow

import "time"

// threadCPU is not available here: budgets fall back to wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
