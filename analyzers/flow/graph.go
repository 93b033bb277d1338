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
	ids   map[nodeKey]int32
	keys  []nodeKey
	succ  [][]int32
	edges map[[2]int32]bool
	src   map[int32]*srcSite
	sink  map[int32]*sinkSite
}

func newGraph() *graph {
	return &graph{ids: map[nodeKey]int32{}, edges: map[[2]int32]bool{}, src: map[int32]*srcSite{}, sink: map[int32]*sinkSite{}}
}

func (g *graph) node(k nodeKey) int32 {
	if id, ok := g.ids[k]; ok {
		return id
	}
	id := int32(len(g.keys))
	g.ids[k] = id
	g.keys = append(g.keys, k)
	g.succ = append(g.succ, nil)
	return id
}

func (g *graph) edge(from, to int32) {
	if from == to {
		return
	}
	k := [2]int32{from, to}
	if g.edges[k] {
		return
	}
	g.edges[k] = true
	g.succ[from] = append(g.succ[from], to)
}

// paths runs a breadth-first search from one source node and calls fn with
// each sink node reached and the node path to it.
func (g *graph) paths(from int32, b *budget, explicitOnly bool, fn func(sink int32, path []int32)) {
	parent := map[int32]int32{from: -1}
	queue := []int32{from}
	for len(queue) > 0 {
		if !b.spend(1, "flow search") {
			return
		}
		n := queue[0]
		queue = queue[1:]
		if _, ok := g.sink[n]; ok {
			var path []int32
			for x := n; x >= 0 && len(path) < 4096; x = parent[x] {
				path = append(path, x)
			}
			for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
				path[i], path[j] = path[j], path[i]
			}
			fn(n, path)
		}
		for _, s := range g.succ[n] {
			if explicitOnly && g.keys[s].kind == nImpl {
				continue
			}
			if _, seen := parent[s]; !seen {
				parent[s] = n
				queue = append(queue, s)
			}
		}
	}
}
