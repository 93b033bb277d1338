package scan

import (
	"container/heap"
	"context"
	"os"
	"sync"

	"github.com/romscan/romscan/extract/walk"
)

// Limits of the queue between the walker and the workers.
const (
	// maxQueuedLeaves bounds the leaves waiting for a worker (each may hold
	// an open file).
	maxQueuedLeaves = 128
	// maxQueuedMemory bounds the bytes of waiting leaves that are not
	// plain files (members decoded into memory).
	maxQueuedMemory = 64 << 20
)

// leafQueue hands leaves to the workers biggest first. The walker runs
// ahead of the workers by up to maxQueuedLeaves leaves, so the large apps
// of a folder start early instead of ending the scan on one core while
// the other is idle (size is the best cheap guess of analysis time).
type leafQueue struct {
	mu       sync.Mutex
	cond     *sync.Cond
	items    leafHeap
	mem      int64 // bytes of queued leaves held in memory
	closed   bool
	canceled bool
	seq      int64
	maxItems int
	maxMem   int64
}

func newLeafQueue(ctx context.Context, maxItems int, maxMem int64) (*leafQueue, func() bool) {
	q := &leafQueue{maxItems: maxItems, maxMem: maxMem}
	q.cond = sync.NewCond(&q.mu)
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.canceled = true
		q.mu.Unlock()
		q.cond.Broadcast()
	})
	return q, stop
}

// inMemory says how many bytes a waiting leaf holds in memory: none for a
// leaf read from a file (an input file or a spilled member).
func inMemory(l *walk.Leaf) int64 {
	if _, ok := l.R.(*os.File); ok {
		return 0
	}
	return l.Size
}

// push queues a leaf, waiting while the queue is full; false (the leaf is
// not queued) when the scan was cancelled.
func (q *leafQueue) push(l *walk.Leaf) bool {
	m := inMemory(l)
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.canceled && len(q.items) > 0 && (len(q.items) >= q.maxItems || q.mem+m > q.maxMem) {
		q.cond.Wait()
	}
	if q.canceled {
		return false
	}
	q.seq++
	heap.Push(&q.items, queued{leaf: l, mem: m, seq: q.seq})
	q.mem += m
	q.cond.Broadcast()
	return true
}

// close says no more leaves come.
func (q *leafQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// pop returns the biggest waiting leaf; false when the queue is closed and
// empty. After a cancellation it still drains what is queued (the workers
// release each leaf).
func (q *leafQueue) pop() (*walk.Leaf, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil, false
	}
	it := heap.Pop(&q.items).(queued)
	q.mem -= it.mem
	q.cond.Broadcast()
	return it.leaf, true
}

type queued struct {
	leaf *walk.Leaf
	mem  int64
	seq  int64 // arrival order, so equal sizes go first come first served
}

type leafHeap []queued

func (h leafHeap) Len() int { return len(h) }
func (h leafHeap) Less(i, j int) bool {
	if h[i].leaf.Size != h[j].leaf.Size {
		return h[i].leaf.Size > h[j].leaf.Size
	}
	return h[i].seq < h[j].seq
}
func (h leafHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *leafHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *leafHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return it
}
