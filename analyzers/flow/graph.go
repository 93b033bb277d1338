package flow

import (
	"time"

	"github.com/romscan/romscan/signatures"
)

// budget bounds the work of one app: instruction visits and time. Time is
// the CPU time of the analysing thread when the platform gives it (so a
// loaded machine does not cut an analysis that a quiet one finishes: the
// result stays the same), with wall time at four times the limit as a
// backstop; else wall time.
type budget struct {
	steps, maxSteps int64
	deadline        time.Time
	cpu             func() time.Duration // thread CPU time used so far; nil: wall time only
	cpuLimit        time.Duration
	exceeded        bool
	what            string // what was cut first
	// wallStop says the wall-time backstop, not the CPU clock, stopped
	// the work (a loaded machine may get there first).
	wallStop bool
}

func newBudget(maxSteps int64, d time.Duration) *budget {
	return &budget{maxSteps: maxSteps, deadline: time.Now().Add(d)}
}

// newCPUBudget is newBudget on the CPU time of the calling goroutine's
// thread, which must stay locked to it (runtime.LockOSThread) while the
// budget is in use; without a thread clock it is newBudget.
func newCPUBudget(maxSteps int64, d time.Duration) *budget {
	start, ok := threadCPU()
	if !ok {
		return newBudget(maxSteps, d)
	}
	b := &budget{maxSteps: maxSteps, deadline: time.Now().Add(4 * d), cpuLimit: d}
	b.cpu = func() time.Duration {
		now, _ := threadCPU()
		return now - start
	}
	return b
}

// spend counts n steps and reports whether the budget still holds.
func (b *budget) spend(n int64, what string) bool {
	if b.exceeded {
		return false
	}
	before := b.steps
	b.steps += n
	if b.steps > b.maxSteps || (b.steps>>12 != before>>12 && b.late()) {
		b.exceeded = true
		b.what = what
		return false
	}
	return true
}

func (b *budget) over() bool { return b.exceeded }

// late says whether the time limit has passed.
func (b *budget) late() bool {
	if time.Now().After(b.deadline) {
		b.wallStop = true
		return true
	}
	return b.cpu != nil && b.cpu() > b.cpuLimit
}

// nodeKind says what a value-flow node stands for.
type nodeKind uint8

const (
	nSrc   nodeKind = iota // a source call result, field or callback parameter
	nParam                 // parameter i of an app method
	nRet                   // return value of an app method
	nField                 // a static or instance field, as one global cell
	nSink                  // a sink call site
	nExtra                 // an Intent/Bundle extra by key ("" when unknown)
	nExc                   // thrown exceptions, as one cell
	nObj                   // an object a wrapper writes into, a container allocated here, or a keyed read's result (by method and pc)
	nElem                  // a container's element at a constant key (i: the container's node, s: the key)
	nAll                   // every keyed element of a container (i: the container's node)
	nRead                  // what an element read (aget-object, List.get, Map.get) gives, by method and pc
	nImpl                  // what a method's branches on tainted data reveal (implicit flow), by method
)

type nodeKey struct {
	kind nodeKind
	m    int32 // method id (src, param, ret, sink)
	i    int32 // parameter index or PC
	s    string
}

// storedKey is a nodeKey as the graph keeps it, half the size: its string
// is graph.strs[s] (0: none).
type storedKey struct {
	kind nodeKind
	m, i int32
	s    int32
}

// srcSite is where a source value enters the app.
type srcSite struct {
	entry *signatures.APIEntry
	m     *method
	pc    int
	off   int64
	api   string // the called API, or the callback overridden
	param int    // callback parameter, -1 for call results
}

// sinkSite is a sink call.
type sinkSite struct {
	entry     *signatures.APIEntry
	category  string // the entry's category, or "native"
	m         *method
	pc        int
	off       int64
	api       string
	endpoints []string
}

// graph is the app's value-flow graph: an edge says a value at one node may
// reach the other. Intra-procedural summaries give the edges; reachability
// from source nodes to sink nodes gives the flows.
type graph struct {
	// Node ids by key: most keys name no string and fit in 64 bits
	// (packed), fields are named by a string alone; the rest are whole
	// keys. Hashing the whole key with its string was a large share of
	// the analysis.
	packed map[uint64]int32
	fields map[string]int32
	// The nodes met most, method returns and parameters, by method id
	// (node id plus one; 0: none yet): an index, not a hash.
	ret   []int32
	param lists // by method: its slots
	ids   map[nodeKey]int32
	keys  []storedKey
	// strs holds the strings of the keys that have one ("" first).
	strs []string
	succ lists // by node
	// recent remembers edges added to nodes with many successors, by a
	// hash of the edge (a slot holds the last edge hashed there). Shorter
	// lists are searched; a longer list may get a repeat the table forgot,
	// which the search from sources skips like any node seen. An index of
	// every such edge held more memory than the repeats it saved in real
	// apps; code made to repeat edges past recent's reach (longEdges grows
	// past exactAfter) gets that index (exact), so repeats stay bounded.
	recent    *[recentEdges]uint64
	longEdges int
	exact     map[uint64]struct{}
	src       map[int32]*srcSite
	sink      map[int32]*sinkSite
}

// edgeScan is the successor count up to which an edge is looked for in
// the whole list; past it, in the last edgeScan successors and in recent.
const edgeScan = 8

// recentEdges is the size of graph.recent.
const (
	recentBits  = 12
	recentEdges = 1 << recentBits
)

// newGraph returns an empty graph with room for about nodes nodes.
func newGraph(nodes int) *graph {
	// About a sixth of the nodes are packed: most are method returns and
	// parameters (dense) and fields.
	return &graph{packed: make(map[uint64]int32, nodes/6), fields: map[string]int32{}, ids: map[nodeKey]int32{},
		keys: make([]storedKey, 0, nodes), strs: []string{""}, succ: lists{at: make([]listAt, 0, nodes)}, src: map[int32]*srcSite{}, sink: map[int32]*sinkSite{}}
}

// pack returns k as 64 bits when it has no string and its method id fits
// 24 bits.
func pack(k nodeKey) (uint64, bool) {
	if k.s != "" || k.m < 0 || k.m >= 1<<24 {
		return 0, false
	}
	return uint64(k.kind)<<56 | uint64(k.m)<<32 | uint64(uint32(k.i)), true
}

// maxDenseParam bounds the parameter slots kept by index (a descriptor
// has at most 255); others are hashed like any node.
const maxDenseParam = 256

// dense returns the cell holding k's id plus one when k is a method's
// return or parameter, growing the tables when grow is set; nil otherwise
// (or when absent and not grown).
func (g *graph) dense(k nodeKey, grow bool) *int32 {
	if k.s != "" || k.m < 0 || k.m >= 1<<24 {
		return nil
	}
	switch {
	case k.kind == nRet && k.i == 0:
		if int(k.m) >= len(g.ret) {
			if !grow {
				return nil
			}
			g.ret = growTo(g.ret, int(k.m)+1)
		}
		return &g.ret[k.m]
	case k.kind == nParam && k.i >= 0 && k.i < maxDenseParam:
		if int(k.m) >= g.param.len() {
			if !grow {
				return nil
			}
			g.param.at = growTo(g.param.at, int(k.m)+1)
		}
		if int(k.i) >= len(g.param.of(k.m)) && !grow {
			return nil
		}
		return g.param.cell(k.m, int(k.i))
	}
	return nil
}

// growTo returns s extended with zero values to n elements (at least).
func growTo[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		return s[:n]
	}
	return append(s, make([]T, max(n, 2*len(s))-len(s))...)
}

// isDense says whether k's id is kept in the dense tables.
func isDense(k nodeKey) bool {
	return k.s == "" && k.m >= 0 && k.m < 1<<24 && ((k.kind == nRet && k.i == 0) || (k.kind == nParam && k.i >= 0 && k.i < maxDenseParam))
}

// lookup returns the id of an existing node.
func (g *graph) lookup(k nodeKey) (int32, bool) {
	if isDense(k) {
		if c := g.dense(k, false); c != nil && *c != 0 {
			return *c - 1, true
		}
		return 0, false
	}
	if p, ok := pack(k); ok {
		id, ok := g.packed[p]
		return id, ok
	}
	if k.kind == nField && k.m == 0 && k.i == 0 {
		id, ok := g.fields[k.s]
		return id, ok
	}
	id, ok := g.ids[k]
	return id, ok
}

func (g *graph) node(k nodeKey) int32 {
	if isDense(k) {
		c := g.dense(k, true)
		if *c != 0 {
			return *c - 1
		}
		id := g.add(k)
		*c = id + 1
		return id
	}
	p, packed := pack(k)
	field := !packed && k.kind == nField && k.m == 0 && k.i == 0
	switch {
	case packed:
		if id, ok := g.packed[p]; ok {
			return id
		}
	case field:
		if id, ok := g.fields[k.s]; ok {
			return id
		}
	default:
		if id, ok := g.ids[k]; ok {
			return id
		}
	}
	id := g.add(k)
	switch {
	case packed:
		g.packed[p] = id
	case field:
		g.fields[k.s] = id
	default:
		g.ids[k] = id
	}
	return id
}

// add appends a new node.
func (g *graph) add(k nodeKey) int32 {
	id := int32(len(g.keys))
	sk := storedKey{kind: k.kind, m: k.m, i: k.i}
	if k.s != "" {
		sk.s = int32(len(g.strs))
		g.strs = append(g.strs, k.s)
	}
	g.keys = append(g.keys, sk)
	g.succ.at = append(g.succ.at, listAt{})
	return id
}

func (g *graph) edge(from, to int32) {
	if from == to {
		return
	}
	succ := g.succ.of(from)
	for _, s := range succ[max(len(succ)-edgeScan, 0):] {
		if s == to {
			return
		}
	}
	switch {
	case g.exact != nil && len(succ) >= edgeScan:
		k := edgeKey(from, to)
		if _, ok := g.exact[k]; ok {
			return
		}
		if len(succ) == edgeScan { // the list grows past the scan: index it
			for _, s := range succ {
				g.exact[edgeKey(from, s)] = struct{}{}
			}
		}
		g.exact[k] = struct{}{}
	case len(succ) > edgeScan:
		if g.recent == nil {
			g.recent = new([recentEdges]uint64)
		}
		// Stored plus one, so that an empty slot matches no edge.
		k := edgeKey(from, to) + 1
		slot := &g.recent[(k*0x9e3779b97f4a7c15)>>(64-recentBits)]
		if *slot == k {
			return
		}
		*slot = k
		if g.longEdges++; g.longEdges > exactAfter(len(g.keys)) {
			g.indexLong()
		}
	}
	g.succ.add(from, to)
}

// exactAfter is the number of edges added to long successor lists after
// which they are indexed: real apps stay well below it (about one and a
// half per node in the largest of the corpus).
func exactAfter(nodes int) int { return max(1<<16, 4*nodes) }

// indexLong indexes every edge of the long successor lists, from which on
// a repeat is never added.
func (g *graph) indexLong() {
	g.exact = map[uint64]struct{}{}
	for n := range g.succ.len() {
		if succ := g.succ.of(int32(n)); len(succ) > edgeScan {
			for _, s := range succ {
				g.exact[edgeKey(int32(n), s)] = struct{}{}
			}
		}
	}
	g.recent = nil
}

// key returns node n's key.
func (g *graph) key(n int32) nodeKey {
	k := g.keys[n]
	return nodeKey{kind: k.kind, m: k.m, i: k.i, s: g.strs[k.s]}
}

// edgeKey packs an edge into 64 bits.
func edgeKey(from, to int32) uint64 { return uint64(uint32(from))<<32 | uint64(uint32(to)) }

// paths runs a breadth-first search from one source node and calls fn with
// each sink node reached and the node path to it.
func (g *graph) paths(from int32, b *budget, explicitOnly bool, sc *searchScratch, fn func(sink int32, path []int32)) {
	sc.start(len(g.keys))
	sc.setParent(from, -1)
	queue := append(sc.queue[:0], from)
	defer func() { sc.queue = queue[:0] }()
	for head := 0; head < len(queue); {
		if !b.spend(1, "flow search") {
			return
		}
		n := queue[head]
		head++
		if _, ok := g.sink[n]; ok {
			var path []int32
			for x := n; x >= 0 && len(path) < 4096; x = sc.parent[x] {
				path = append(path, x)
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			fn(n, path)
		}
		for _, s := range g.succ.of(n) {
			if explicitOnly && g.keys[s].kind == nImpl {
				continue
			}
			if !sc.seen(s) {
				sc.setParent(s, n)
				queue = append(queue, s)
			}
		}
	}
}

// searchScratch is the breadth-first search's state, kept from one source
// to the next: parents by node, valid where stamped with the current
// search.
type searchScratch struct {
	parent []int32
	stamp  []uint32
	gen    uint32
	queue  []int32
}

func (sc *searchScratch) start(nodes int) {
	if len(sc.parent) < nodes {
		sc.parent = make([]int32, nodes)
		sc.stamp = make([]uint32, nodes)
		sc.gen = 0
	}
	sc.gen++
	if sc.gen == 0 { // wrapped: forget every old stamp
		clear(sc.stamp)
		sc.gen = 1
	}
}

func (sc *searchScratch) seen(n int32) bool { return sc.stamp[n] == sc.gen }

func (sc *searchScratch) setParent(n, p int32) {
	sc.parent[n], sc.stamp[n] = p, sc.gen
}
