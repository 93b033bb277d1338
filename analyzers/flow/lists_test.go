package flow

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLists checks the pooled lists against plain slices: every list keeps
// its values in order while others grow around it and room is reused.
func TestLists(t *testing.T) {
	tests := []struct {
		name        string
		lists, adds int
	}{
		{name: "one_list", lists: 1, adds: 1000},
		{name: "few_lists", lists: 3, adds: 500},
		{name: "many_short_lists", lists: 2000, adds: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.lists)))
			var l lists
			l.grow(tt.lists)
			want := make([][]int32, tt.lists)
			for n := range tt.adds {
				i := rng.IntN(tt.lists)
				v := int32(n)
				l.add(int32(i), v)
				want[i] = append(want[i], v)
			}
			if l.len() != tt.lists {
				t.Fatalf("len %d, want %d", l.len(), tt.lists)
			}
			total := 0
			for i := range want {
				if got := l.of(int32(i)); !slices.Equal(got, want[i]) {
					t.Fatalf("list %d: got %v, want %v", i, got, want[i])
				}
				total += len(want[i])
			}
			// Room is a power of two per list, outgrown room reused: the
			// pool stays within twice the values plus the room freed.
			if len(l.pool) > 4*total+tt.lists {
				t.Errorf("pool of %d for %d values in %d lists", len(l.pool), total, tt.lists)
			}
		})
	}
}

// TestListsCell: a cell past a list's end grows the list with zeros, and
// what was stored stays.
func TestListsCell(t *testing.T) {
	tests := []struct {
		name  string
		cells []int // cells set, in order, to their index plus one
		want  []int32
	}{
		{name: "in_order", cells: []int{0, 1, 2}, want: []int32{1, 2, 3}},
		{name: "gap", cells: []int{4, 1}, want: []int32{0, 2, 0, 0, 5}},
		{name: "same_twice", cells: []int{2, 2, 0}, want: []int32{1, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l lists
			l.grow(2)
			l.add(1, 7) // a neighbour whose room must not be touched
			for _, j := range tt.cells {
				*l.cell(0, j) = int32(j + 1)
			}
			if got := l.of(0); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if got := l.of(1); !slices.Equal(got, []int32{7}) {
				t.Errorf("neighbour: got %v, want [7]", got)
			}
		})
	}
}
