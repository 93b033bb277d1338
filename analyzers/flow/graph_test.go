package flow

import "testing"

// TestEdgeRepeatsBounded: code that sends the same edges again and again,
// more of them than the table of recent edges holds, does not grow the
// successor lists without end; an edge added once is there once it is
// indexed, and the search finds the same successors either way.
func TestEdgeRepeatsBounded(t *testing.T) {
	tests := []struct {
		name             string
		from, to, rounds int
		maxStoredPerEdge float64 // stored successors per distinct edge, at most
		wantExact        bool
	}{
		// Few edges, repeated: the tail scan and the recent table catch
		// the repeats (the first edgeScan of a list, added while it was short,
		// once more), no index is built.
		{name: "few_repeated", from: 4, to: 16, rounds: 200, maxStoredPerEdge: 2, wantExact: false},
		// More distinct edges into long lists than recent holds, repeated
		// many times: the lists are indexed.
		{name: "many_repeated", from: 128, to: 64, rounds: 100, maxStoredPerEdge: 12, wantExact: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph(0)
			for i := 0; i < tt.from+tt.to; i++ {
				g.node(nodeKey{kind: nObj, m: int32(i), i: 0})
			}
			for range tt.rounds {
				for f := 0; f < tt.from; f++ {
					for s := 0; s < tt.to; s++ {
						g.edge(int32(f), int32(tt.from+s))
					}
				}
			}
			distinct := tt.from * tt.to
			stored := 0
			for f := 0; f < tt.from; f++ {
				succ := g.succ.of(int32(f))
				stored += len(succ)
				seen := map[int32]bool{}
				for _, s := range succ {
					seen[s] = true
				}
				if len(seen) != tt.to {
					t.Fatalf("node %d: %d distinct successors, want %d", f, len(seen), tt.to)
				}
				// Insertion order is kept: the first tt.to are the edges in
				// the order first added.
				for i := 0; i < tt.to; i++ {
					if succ[i] != int32(tt.from+i) {
						t.Fatalf("node %d: successor %d is %d, want %d", f, i, succ[i], tt.from+i)
					}
				}
			}
			if got := float64(stored) / float64(distinct); got > tt.maxStoredPerEdge {
				t.Errorf("%d successors stored for %d distinct edges (%.1f each), want at most %.1f each", stored, distinct, got, tt.maxStoredPerEdge)
			}
			if (g.exact != nil) != tt.wantExact {
				t.Errorf("indexed %v, want %v", g.exact != nil, tt.wantExact)
			}
		})
	}
}
