package payload

import (
	"container/list"
	"sync"
)

// opCache keeps decoded operations, least recently used first out, bounded by
// bytes. Concurrent requests for one operation share a single decode.
type opCache struct {
	mu      sync.Mutex
	max     int64
	used    int64
	entries map[int]*cacheEntry
	lru     list.List // of *cacheEntry, most recent at the front
}

type cacheEntry struct {
	op   int
	done chan struct{}
	data []byte
	err  error
	elem *list.Element
}

func newOpCache(maxBytes int64) *opCache {
	return &opCache{max: maxBytes, entries: make(map[int]*cacheEntry)}
}

// get returns op's decoded bytes, calling decode unless they are cached or
// being decoded by another goroutine.
func (c *opCache) get(op int, decode func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if e, ok := c.entries[op]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.done
		if e.err != nil {
			// Errors are not cached; a prefetch error is retried here so
			// the caller sees it first-hand.
			return decode()
		}
		return e.data, nil
	}
	e := &cacheEntry{op: op, done: make(chan struct{})}
	c.entries[op] = e
	c.mu.Unlock()
	data, err := decode()
	c.complete(op, data, err)
	return data, err
}

// reserve creates an in-flight entry for op and reports whether it did; the
// caller must then call complete.
func (c *opCache) reserve(op int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[op]; ok {
		return false
	}
	c.entries[op] = &cacheEntry{op: op, done: make(chan struct{})}
	return true
}

// complete stores the result of decoding op and wakes its waiters.
func (c *opCache) complete(op int, data []byte, err error) {
	c.mu.Lock()
	e := c.entries[op]
	e.data, e.err = data, err
	if err != nil {
		delete(c.entries, op)
	} else {
		e.elem = c.lru.PushFront(e)
		c.used += int64(len(data))
		for c.used > c.max {
			back := c.lru.Back()
			if back == nil || back == e.elem {
				break
			}
			old := back.Value.(*cacheEntry)
			c.lru.Remove(back)
			delete(c.entries, old.op)
			c.used -= int64(len(old.data))
		}
	}
	c.mu.Unlock()
	close(e.done)
}
