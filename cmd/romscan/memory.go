package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// heapTuner keeps the heap close to what a scan holds. With GOGC=100 alone
// the heap may grow to twice the live data before a collection, so peak
// memory is twice the largest apps being analysed at once. After each
// collection the tuner sets the soft memory limit to what the runtime then
// holds (live heap, stacks, metadata) plus a headroom, so the heap grows by
// the headroom rather than doubling; GOGC still triggers earlier while
// little is live, and ceiling (the default limit) caps it. The headroom is
// the full amount while little is live and shrinks by half the live heap,
// down to half the amount: large apps in memory add less slack on top of
// what they hold, at the cost of more collections while they are there
// (measured on the corpus folder scan in README's benchmark section).
type heapTuner struct {
	headroom, ceiling int64
	samples           []metrics.Sample
}

// Runtime memory classes the tuner reads; total minus the heap's free,
// released and unused bytes is what the runtime holds besides garbage.
var tunerMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

func newHeapTuner(headroom, ceiling int64) *heapTuner {
	t := &heapTuner{headroom: headroom, ceiling: ceiling}
	for _, name := range tunerMetrics {
		t.samples = append(t.samples, metrics.Sample{Name: name})
	}
	return t
}

// startHeapTuner sets the ceiling as the limit and retunes it after every
// collection from then on.
func startHeapTuner(headroom, ceiling int64) {
	t := newHeapTuner(headroom, ceiling)
	debug.SetMemoryLimit(ceiling)
	// A finalizer runs after each collection that finds its object
	// unreachable; re-arming it makes it run after every collection.
	runtime.SetFinalizer(&gcSentinel{t}, afterGC)
}

type gcSentinel struct{ t *heapTuner }

func afterGC(s *gcSentinel) {
	s.t.tune()
	runtime.SetFinalizer(s, afterGC)
}

func (t *heapTuner) tune() {
	metrics.Read(t.samples)
	v := make([]int64, len(t.samples))
	for i, s := range t.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return // metric unknown to this runtime: keep the ceiling
		}
		v[i] = int64(s.Value.Uint64())
	}
	live, total, objects, unused, free, released := v[0], v[1], v[2], v[3], v[4], v[5]
	nonHeap := total - objects - unused - free - released
	limit := live + max(nonHeap, 0) + t.slack(live)
	debug.SetMemoryLimit(min(limit, t.ceiling))
}

// slack is the headroom for a live heap of live bytes.
func (t *heapTuner) slack(live int64) int64 {
	return max(t.headroom/2, t.headroom-live/2)
}
