package flow

import "math/bits"

// lists holds many short growing lists of int32 (a graph node's
// successors, a method's callers) in one array: a list is a slice header
// of 24 bytes, more than the few values most lists hold. A list's room is
// a power of two; room it outgrows is reused by lists of that size.
type lists struct {
	at   []listAt
	pool []int32
	free [32][]uint32 // offsets of unused room, by log2 of its size
}

// listAt is where one list is: pool[off:off+n].
type listAt struct{ off, n uint32 }

// grow makes room for lists up to index n-1.
func (l *lists) grow(n int) {
	if n > len(l.at) {
		l.at = append(l.at, make([]listAt, n-len(l.at))...)
	}
}

// len returns the number of lists.
func (l *lists) len() int { return len(l.at) }

// of returns list i (valid until the next add).
func (l *lists) of(i int32) []int32 {
	a := l.at[i]
	return l.pool[a.off : a.off+a.n : a.off+a.n]
}

// add appends v to list i.
func (l *lists) add(i int32, v int32) {
	a := &l.at[i]
	if a.n == 0 || a.n&(a.n-1) == 0 { // full: the room is n, a power of two
		k := 0
		if a.n > 0 {
			k = bits.Len32(a.n) // log2(n) + 1: room for twice as many
		}
		off := l.take(k)
		copy(l.pool[off:], l.pool[a.off:a.off+a.n])
		if a.n > 0 {
			l.free[k-1] = append(l.free[k-1], a.off)
		}
		a.off = off
	}
	l.pool[a.off+a.n] = v
	a.n++
}

// take returns the offset of room for 1<<k values.
func (l *lists) take(k int) uint32 {
	if f := l.free[k]; len(f) > 0 {
		off := f[len(f)-1]
		l.free[k] = f[:len(f)-1]
		return off
	}
	off := uint32(len(l.pool))
	l.pool = append(l.pool, make([]int32, 1<<k)...)
	return off
}

// cell returns value j of list i, the list growing with zeros to hold it
// (valid until the next add or cell).
func (l *lists) cell(i int32, j int) *int32 {
	for int(l.at[i].n) <= j {
		l.add(i, 0)
	}
	return &l.pool[l.at[i].off+uint32(j)]
}
