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
	// With 64 MiB live the headroom is down to half (4 MiB); what the
	// runtime holds besides the 64 MiB kept is small here.
	if got < 68*mib || got > 200*mib {
		t.Errorf("limit %d MiB with 64 MiB live and 8 MiB headroom, want a little over 68", got/mib)
	}
	tu.ceiling = 32 * mib
	tu.tune()
	if got := debug.SetMemoryLimit(-1); got != 32*mib {
		t.Errorf("limit %d MiB, want the 32 MiB ceiling", got/mib)
	}
	runtime.KeepAlive(keep)
}

func TestHeapTunerSlack(t *testing.T) {
	const mib = 1 << 20
	tu := newHeapTuner(24*mib, 1<<40)
	for _, tc := range []struct{ live, want int64 }{
		{0, 24 * mib}, {8 * mib, 20 * mib}, {20 * mib, 14 * mib}, {24 * mib, 12 * mib}, {500 * mib, 12 * mib},
	} {
		if got := tu.slack(tc.live); got != tc.want {
			t.Errorf("slack(%d MiB) = %d MiB, want %d", tc.live/mib, got/mib, tc.want/mib)
		}
	}
}
