package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestHeapTunerFollowsLiveHeap(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	const mib = 1 << 20
	keep := make([]byte, 64*mib)
	for i := range keep {
		keep[i] = byte(i)
	}
	runtime.GC()
	tu := newHeapTuner(8*mib, 1<<40)
	tu.tune()
	got := debug.SetMemoryLimit(-1)
	// What the runtime holds besides the 64 MiB kept is small here.
	if got < 72*mib || got > 200*mib {
		t.Errorf("limit %d MiB with 64 MiB live and 8 MiB headroom, want a little over 72", got/mib)
	}
	tu.ceiling = 32 * mib
	tu.tune()
	if got := debug.SetMemoryLimit(-1); got != 32*mib {
		t.Errorf("limit %d MiB, want the 32 MiB ceiling", got/mib)
	}
	runtime.KeepAlive(keep)
}
