package scan

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/extract/walk"
)

func memLeaf(name string, size int64) *walk.Leaf {
	return &walk.Leaf{Name: name, Size: size, R: bytes.NewReader(make([]byte, size))}
}

// TestLeafQueueBiggestFirst: waiting leaves come out largest first, equal
// sizes in arrival order, and pop ends once the queue is closed and empty.
func TestLeafQueueBiggestFirst(t *testing.T) {
	q, stop := newLeafQueue(context.Background(), 16, 1<<20)
	defer stop()
	for _, l := range []*walk.Leaf{memLeaf("a", 10), memLeaf("b", 300), memLeaf("c", 20), memLeaf("d", 300), memLeaf("e", 5)} {
		if !q.push(l) {
			t.Fatal("push refused")
		}
	}
	q.close()
	var got []string
	for {
		l, ok := q.pop()
		if !ok {
			break
		}
		got = append(got, l.Name)
	}
	if want := "b d c a e"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// TestLeafQueueBounds: push waits while the queue holds its count or its
// bytes of in-memory leaves, resumes when a worker takes one, and gives up
// when the scan is cancelled.
func TestLeafQueueBounds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q, stop := newLeafQueue(ctx, 2, 100)
	defer stop()
	q.push(memLeaf("a", 60))
	pushed := make(chan bool, 1)
	go func() { pushed <- q.push(memLeaf("b", 60)) }() // 120 bytes > 100: waits
	select {
	case <-pushed:
		t.Fatal("push over the byte bound did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	if l, _ := q.pop(); l.Name != "a" {
		t.Fatalf("popped %s", l.Name)
	}
	if ok := <-pushed; !ok {
		t.Fatal("push refused after a pop")
	}
	q.push(memLeaf("c", 1))
	go func() { pushed <- q.push(memLeaf("d", 1)) }() // 3 leaves > 2: waits
	select {
	case <-pushed:
		t.Fatal("push over the count bound did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case ok := <-pushed:
		if ok {
			t.Error("push after cancel queued the leaf")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not wake the waiting push")
	}
}
