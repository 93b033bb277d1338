package flow

import (
	"math/bits"
	"sort"

	"github.com/romscan/romscan/internal/dex"
)

// Limits of the per-method analysis.
const (
	// maxLabels bounds the distinct inputs (parameters, sources, fields, call
	// results) one method's taint sets tell apart; more are folded together.
	maxLabels = 1024
	// maxStateWords bounds blocks × registers × words of flow-sensitive
	// state; a bigger method is analysed flow-insensitively (one state).
	maxStateWords = 1 << 21
	// maxRegs bounds the registers of one method the analysis models.
	maxRegs = 4096
)

// hooks is what the register analysis asks of its surroundings: what an
// instruction reads (labels) and where values go (outputs). The engine is
// driven by it, so tests and the fuzzer can run it on bare code.
type hooks interface {
	// prepare is called once per instruction before the analysis, so the
	// labels the instruction introduces are known up front.
	prepare(idx int, ins *dex.Instruction, label func(node int32) int)
	// step interprets a non-trivial instruction (invoke, field access,
	// return, throw, const-string) over the state.
	step(idx int, ins *dex.Instruction, s *stepCtx)
}

// stepCtx gives hooks access to the current state.
type stepCtx struct {
	r *run
	s *state
}

// state is the abstract state at one point: per register a taint set (a
// bitset over labels), the integer range [k, hi] when known (a constant when
// k == hi), and the exact class when known (an interned id, 0 unknown).
type state struct {
	t  []uint64
	k  []int64
	hi []int64
	kk []bool
	ty []int32
	// org is the graph node (plus one) a register's object was loaded
	// from (a field), so storing into it updates that cell; 0 when none.
	org []int32
}

// run is one method's analysis.
type run struct {
	code       *dex.Code
	h          hooks
	b          *budget
	insns      []dex.Instruction
	at         []int32 // pc → instruction index, -1 inside an instruction
	nregs      int     // registers modelled; slot nregs is the pending result
	w          int     // words per taint set
	labels     []int32 // label → graph node
	byNode     labelMap
	folded     bool  // labels were folded (more than maxLabels)
	params     []int // parameter registers (both halves of a wide one)
	paramLabel []int // the label of each of params
	trunc      bool  // undecodable code was cut off
	insens     bool  // analysed flow-insensitively
	tmp        []uint64
	// sink receives stores into objects loaded from graph nodes.
	sink func(t []uint64, node int32)
	// implLabel is the label of the method's implicit-flow cell (-1: not
	// tracked): a branch on tainted data flows into it, and every register
	// written where that branch decides whether code runs carries it.
	implLabel int
	ctrl      []bool     // blocks controlled by a tainted branch
	pdom      [][]uint64 // post-dominators by block, computed on demand
	// labelFn is r.label as a value and sc the hooks' view of the state:
	// made once, not per instruction (each was an allocation).
	labelFn func(node int32) int
	sc      stepCtx

	// Buffers kept from one method to the next when a run is reused
	// (reset): most methods are small, and allocating afresh for each was
	// a large share of the analysis.
	decoded bool
	argBuf  []uint32 // every instruction's argument registers
	acc     []uint64 // scratch taint sets (assign, invoke, branches)
	acc2    []uint64
	acc3    []uint64
	taints  arena[uint64] // the states' slices
	ints    arena[int64]
	flags   arena[bool]
	ids     arena[int32]
	states  []state
	nstates int
	seen    []bool // implicit: blocks visited
	stack   []int
	// blocks' buffers
	leader      []bool
	leaderBlock []int
	bl          []block
	blockEdges  []int
	// the worklist's buffers
	in     []*state
	queued []bool
	work   []int
}

func newRun(code *dex.Code, h hooks, b *budget) *run {
	r := &run{}
	r.reset(code, h, b)
	return r
}

// reset prepares r for another method, keeping its buffers.
func (r *run) reset(code *dex.Code, h hooks, b *budget) {
	// Field by field: copying the whole struct over was a share of the
	// analysis of small methods (write barriers during GC).
	r.code, r.h, r.b = code, h, b
	r.insns, r.at, r.labels, r.params, r.paramLabel = r.insns[:0], r.at[:0], r.labels[:0], r.params[:0], r.paramLabel[:0]
	r.argBuf, r.stack, r.bl, r.blockEdges = r.argBuf[:0], r.stack[:0], r.bl[:0], r.blockEdges[:0]
	r.in, r.queued, r.work = r.in[:0], r.queued[:0], r.work[:0]
	r.w, r.nstates, r.implLabel = 0, 0, -1
	r.folded, r.trunc, r.insens, r.decoded = false, false, false, false
	r.sink, r.ctrl, r.pdom, r.sc = nil, nil, nil, stepCtx{}
	r.byNode.reset()
	if r.labelFn == nil {
		r.labelFn = r.label
	}
	r.taints.reset()
	r.ints.reset()
	r.flags.reset()
	r.ids.reset()
	r.nregs = int(code.Registers)
	if r.nregs > maxRegs {
		r.nregs = maxRegs
	}
}

// arena hands out zeroed slices from chunks that are reused after reset,
// so a method's per-block states cost no allocation once the buffers have
// grown. Chunks beyond arenaKeep elements are dropped at reset: one huge
// method does not pin its memory for the rest of the app.
type arena[T any] struct {
	chunks [][]T
	cur    int // chunk being filled
	off    int // next free element in it
	total  int // elements in chunks
}

const (
	arenaChunk = 1 << 14
	arenaKeep  = 1 << 20
)

func (a *arena[T]) reset() {
	if a.total > arenaKeep {
		*a = arena[T]{}
	}
	a.cur, a.off = 0, 0
}

// take returns n zeroed elements.
func (a *arena[T]) take(n int) []T {
	for a.cur < len(a.chunks) {
		c := a.chunks[a.cur]
		if a.off+n <= len(c) {
			s := c[a.off : a.off+n : a.off+n]
			a.off += n
			clear(s)
			return s
		}
		a.cur++
		a.off = 0
	}
	size := max(n, arenaChunk)
	c := make([]T, size)
	a.chunks = append(a.chunks, c)
	a.total += size
	a.cur = len(a.chunks) - 1
	a.off = n
	return c[:n:n]
}

// scratch returns buf resized to n words and zeroed.
func scratch(buf *[]uint64, n int) []uint64 {
	if cap(*buf) < n {
		*buf = make([]uint64, n)
	}
	t := (*buf)[:n]
	clear(t)
	return t
}

// labelMap maps graph nodes to a method's labels. It is indexed by node
// (a map was a large share of the analysis) and stamped per method, so
// moving to the next method does not clear it.
type labelMap struct {
	label []uint16 // labels are below maxLabels
	stamp []uint16 // 16 bits: a table of a word per graph node
	gen   uint16
}

// A label fits labelMap's 16 bits.
const _ = uint16(maxLabels - 1)

// reset forgets every node's label.
func (lm *labelMap) reset() {
	lm.gen++
	if lm.gen == 0 { // wrapped: forget every old stamp
		clear(lm.stamp)
		lm.gen = 1
	}
}

// get returns the label of node, if it has one.
func (lm *labelMap) get(node int32) (int, bool) {
	if node < 0 || int(node) >= len(lm.stamp) || lm.stamp[node] != lm.gen {
		return 0, false
	}
	return int(lm.label[node]), true
}

// set gives node label l (node must be non-negative).
func (lm *labelMap) set(node int32, l int) {
	if int(node) >= len(lm.stamp) {
		// A quarter more, not double: it holds a word per graph node.
		n := max(int(node)+1, len(lm.stamp)+len(lm.stamp)/4, 1024)
		lm.label = append(lm.label, make([]uint16, n-len(lm.label))...)
		lm.stamp = append(lm.stamp, make([]uint16, n-len(lm.stamp))...)
	}
	lm.label[node], lm.stamp[node] = uint16(l), lm.gen
}

// label returns the label of a graph node, adding it when new.
func (r *run) label(node int32) int {
	if l, ok := r.byNode.get(node); ok {
		return l
	}
	if node < 0 {
		return -1 // not a node
	}
	if len(r.labels) >= maxLabels {
		r.folded = true
		l := int(uint32(node) % maxLabels)
		r.byNode.set(node, l)
		return l
	}
	l := len(r.labels)
	r.labels = append(r.labels, node)
	r.byNode.set(node, l)
	return l
}

// decode reads every instruction; undecodable code ends the method there.
func (r *run) decode() bool {
	n := len(r.code.Insns)
	r.decoded = true
	r.insns = r.insns[:0]
	if cap(r.at) < n+1 {
		r.at = make([]int32, n+1)
	}
	r.at = r.at[:n+1]
	for i := range r.at {
		r.at[i] = -1
	}
	if cap(r.insns) < n/2 {
		r.insns = make([]dex.Instruction, 0, n/2) // most instructions are 2 units wide or more
	}
	// One scratch instruction and one arena for every invoke's argument
	// registers, instead of an allocation per instruction. Slices of the
	// arena stay valid when it grows (they keep the old array).
	var scratch dex.Instruction
	args := r.argBuf[:0]
	defer func() { r.argBuf = args[:0] }()
	for pc := 0; pc < n; {
		if !r.b.spend(1, "decode") {
			return false
		}
		width, err := dex.DecodeInto(&scratch, r.code.Insns, pc)
		if err != nil || width <= 0 {
			r.trunc = true
			break
		}
		if scratch.Op != dex.OpPayload {
			ins := scratch
			ins.Args = nil
			if len(scratch.Args) > 0 {
				start := len(args)
				args = append(args, scratch.Args...)
				ins.Args = args[start:len(args):len(args)]
			}
			r.at[pc] = int32(len(r.insns))
			r.insns = append(r.insns, ins)
		}
		pc += width
	}
	return true
}

// block is a basic block: instructions [start, end) by index.
type block struct {
	start, end int
	succ       []int
	handlers   []int // blocks of the catch handlers covering it
}

func (r *run) blockOfPC(pc int, leaderBlock []int) int {
	if pc < 0 || pc >= len(r.at) || r.at[pc] < 0 {
		return -1
	}
	return leaderBlock[r.at[pc]]
}

func terminates(op dex.Opcode) bool {
	switch op {
	case dex.OpGoto, dex.OpGoto16, dex.OpGoto32, dex.OpThrow:
		return true
	}
	return op.IsReturn()
}

func (r *run) blocks() []block {
	n := len(r.insns)
	leader := resize(&r.leader, n+1)
	leader[0] = true
	mark := func(pc int) {
		if pc >= 0 && pc < len(r.at) && r.at[pc] >= 0 {
			leader[r.at[pc]] = true
		}
	}
	for i := range r.insns {
		ins := &r.insns[i]
		switch {
		case ins.Op.IsSwitch():
			if _, targets, err := r.code.Switch(ins.Target); err == nil {
				for _, t := range targets {
					mark(ins.PC + t)
				}
			}
			leader[i+1] = true
		case ins.Op.IsBranch():
			mark(ins.Target)
			leader[i+1] = true
		case terminates(ins.Op):
			leader[i+1] = true
		}
	}
	for _, t := range r.code.Tries {
		for _, h := range t.Handlers {
			mark(int(h.PC))
		}
		if t.CatchAllPC >= 0 {
			mark(int(t.CatchAllPC))
		}
	}
	leaderBlock := resize(&r.leaderBlock, n+1)
	bl := r.bl[:0]
	defer func() { r.bl = bl[:0] }()
	edges := r.blockEdges[:0]
	defer func() { r.blockEdges = edges[:0] }()
	for i := 0; i < n; i++ {
		if leader[i] {
			bl = append(bl, block{start: i})
		}
		leaderBlock[i] = len(bl) - 1
	}
	for j := range bl {
		if j+1 < len(bl) {
			bl[j].end = bl[j+1].start
		} else {
			bl[j].end = n
		}
	}
	for j := range bl {
		last := &r.insns[bl[j].end-1]
		start := len(edges)
		add := func(b int) {
			if b >= 0 {
				edges = append(edges, b)
			}
		}
		switch {
		case last.Op.IsSwitch():
			if _, targets, err := r.code.Switch(last.Target); err == nil {
				for _, t := range targets {
					add(r.blockOfPC(last.PC+t, leaderBlock))
				}
			}
		case last.Op.IsBranch():
			add(r.blockOfPC(last.Target, leaderBlock))
		}
		if !terminates(last.Op) && bl[j].end < n {
			add(leaderBlock[bl[j].end])
		}
		// Successors and handlers are slices of one buffer (capped, so an
		// append elsewhere copies); a grown buffer leaves earlier slices
		// on the old array, which stays valid.
		bl[j].succ = edges[start:len(edges):len(edges)]
		start = len(edges)
		// Handlers of try blocks overlapping this block.
		s, e := last.PC, r.insns[bl[j].start].PC
		for _, t := range r.code.Tries {
			if int(t.StartPC) <= s && e < int(t.StartPC+t.Count) {
				for _, h := range t.Handlers {
					add(r.blockOfPC(int(h.PC), leaderBlock))
				}
				if t.CatchAllPC >= 0 {
					add(r.blockOfPC(int(t.CatchAllPC), leaderBlock))
				}
			}
		}
		if len(edges) > start {
			bl[j].handlers = edges[start:len(edges):len(edges)]
		}
	}
	return bl
}

// resize returns *buf resized to n elements, zeroed.
func resize[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

func (r *run) newState() *state {
	n := r.nregs + 1
	if r.nstates == len(r.states) {
		// Pointers into r.states stay valid: a grown slice is a new array.
		r.states = append(r.states[:r.nstates:r.nstates], make([]state, max(8, r.nstates))...)
	}
	s := &r.states[r.nstates]
	r.nstates++
	*s = state{t: r.taints.take(n * r.w), k: r.ints.take(n), hi: r.ints.take(n), kk: r.flags.take(n), ty: r.ids.take(n), org: r.ids.take(n)}
	return s
}

func (r *run) copyState(dst, src *state) {
	copy(dst.t, src.t)
	copy(dst.k, src.k)
	copy(dst.hi, src.hi)
	copy(dst.kk, src.kk)
	copy(dst.ty, src.ty)
	copy(dst.org, src.org)
}

// join merges src into dst and reports whether dst changed.
func (r *run) join(dst, src *state) bool {
	changed := false
	for i, v := range src.t {
		if dst.t[i]|v != dst.t[i] {
			dst.t[i] |= v
			changed = true
		}
	}
	for i := range dst.kk {
		if dst.kk[i] && (!src.kk[i] || src.k[i] != dst.k[i] || src.hi[i] != dst.hi[i]) {
			dst.kk[i] = false
			changed = true
		}
		if dst.ty[i] != 0 && dst.ty[i] != src.ty[i] {
			dst.ty[i] = 0
			changed = true
		}
		if dst.org[i] != 0 && dst.org[i] != src.org[i] {
			dst.org[i] = 0
			changed = true
		}
	}
	return changed
}

// analyze runs the method: prepare labels, then a worklist over basic
// blocks to a fixpoint (or a single flow-insensitive state for methods too
// big for per-block states). It reports false when the budget ran out.
func (r *run) analyze(paramLabels func(r *run)) bool {
	if !r.decoded && !r.decode() {
		return false
	}
	if len(r.insns) == 0 {
		return !r.b.over()
	}
	for i := range r.insns {
		r.h.prepare(i, &r.insns[i], r.labelFn)
	}
	paramLabels(r)
	r.w = (len(r.labels) + 63) / 64
	if r.w == 0 {
		r.w = 1
	}
	r.tmp = scratch(&r.tmp, r.w)
	r.nstates = 0
	bl := r.blocks()
	entry := r.newState()
	r.initParams(entry)
	if int64(len(bl))*int64(r.nregs+1)*int64(r.w) > maxStateWords {
		return r.insensitive(entry)
	}
	in := resize(&r.in, len(bl))
	in[0] = entry
	queued := resize(&r.queued, len(bl))
	work := append(r.work[:0], 0)
	defer func() { r.work = work[:0] }()
	queued[0] = true
	cur := r.newState()
	for len(work) > 0 {
		j := work[len(work)-1]
		work = work[:len(work)-1]
		queued[j] = false
		b := &bl[j]
		if !r.b.spend(int64(b.end-b.start), "register analysis") {
			return false
		}
		r.copyState(cur, in[j])
		push := func(to int) {
			if in[to] == nil {
				in[to] = r.newState()
				r.copyState(in[to], cur)
			} else if !r.join(in[to], cur) {
				return
			}
			if !queued[to] {
				queued[to] = true
				work = append(work, to)
			}
		}
		taken := -2 // -2: both ways, -1: fall through only, else the target block
		for i := b.start; i < b.end; i++ {
			ins := &r.insns[i]
			if len(b.handlers) > 0 && canThrow(ins.Op) {
				for _, h := range b.handlers {
					push(h)
				}
			}
			taken = r.exec(i, ins, cur)
			if r.ctrl != nil && r.ctrl[j] && writesA(ins.Op) && r.ok(ins.A) {
				r.set(cur, int(ins.A), r.implLabel)
			}
			if r.implLabel >= 0 && len(b.handlers) > 0 && throwsOnValue(ins) {
				// An exception raised by a tainted size or index decides
				// whether the handlers run.
				if t := r.taint(cur, ins.C); ins.Op == dex.OpNewArray {
					r.implicit(j, r.taint(cur, ins.B), bl, b.handlers, in, queued, &work)
				} else {
					r.implicit(j, t, bl, b.handlers, in, queued, &work)
				}
			}
		}
		last := &r.insns[b.end-1]
		if r.implLabel >= 0 && taken == -2 && (last.Op.IsSwitch() || (last.Op >= dex.OpIfEq && last.Op <= dex.OpIfLez)) {
			t := scratch(&r.acc3, r.w)
			copy(t, r.taint(cur, last.A))
			if last.Op <= dex.OpIfLe {
				or(t, r.taint(cur, last.B))
			}
			r.implicit(j, t, bl, nil, in, queued, &work)
		}
		if last.Op.IsSwitch() {
			next := -1
			if j+1 < len(bl) {
				next = j + 1
			}
			if targets, ok := r.switchTargets(last, cur, bl, next); ok {
				for _, t := range targets {
					push(t)
				}
				continue
			}
		}
		for k, s := range b.succ {
			if last.Op.IsBranch() && !last.Op.IsSwitch() && taken != -2 {
				// A constant condition: only one way is possible. The branch
				// target is succ[0]; the fall-through, when present, succ[1].
				if (taken == 1) != (k == 0) {
					continue
				}
			}
			push(s)
		}
	}
	return true
}

// writesA says whether an instruction writes register vA.
func writesA(op dex.Opcode) bool {
	switch {
	case op >= dex.OpMove && op <= dex.OpMoveException,
		op >= dex.OpConst4 && op <= dex.OpConstClass,
		op >= dex.OpInstanceOf && op <= dex.OpNewArray,
		op >= dex.OpCmplFloat && op <= dex.OpCmpLong,
		op >= dex.OpAget && op <= dex.OpAgetShort,
		op >= dex.OpIget && op <= dex.OpIgetShort,
		op >= dex.OpSget && op <= dex.OpSgetShort,
		op >= dex.OpNegInt && op <= dex.OpUshrIntLit8:
		return true
	}
	return false
}

// throwsOnValue says whether an instruction throws depending on a value
// (an array size or index) rather than on the code alone.
func throwsOnValue(ins *dex.Instruction) bool {
	op := ins.Op
	return op == dex.OpNewArray || (op >= dex.OpAget && op <= dex.OpAputShort)
}

// implicit handles a decision on tainted data t at the end of block j (or,
// with handlers, an exception it may raise): t flows into the method's
// implicit cell, and the blocks the decision controls (reached from its
// successors before a block that post-dominates j) carry that cell in every
// register they write.
func (r *run) implicit(j int, t []uint64, bl []block, handlers []int, in []*state, queued []bool, work *[]int) {
	if empty(t) || len(bl) > 2048 {
		return
	}
	r.sink(t, r.labels[r.implLabel])
	if r.pdom == nil {
		if r.pdom = postDominators(bl, r.b); r.pdom == nil {
			r.implLabel = -1 // out of budget: no implicit flows in this method
			return
		}
		r.ctrl = make([]bool, len(bl))
	}
	succ := bl[j].succ
	if handlers != nil {
		succ = handlers
	}
	pd := r.pdom[j]
	if cap(r.seen) < len(bl) {
		r.seen = make([]bool, len(bl))
	}
	seen := r.seen[:len(bl)]
	clear(seen)
	stack := append(r.stack[:0], succ...)
	defer func() { r.stack = stack[:0] }()
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if k < 0 || k >= len(bl) || seen[k] || pd[k/64]&(1<<(k%64)) != 0 {
			continue
		}
		seen[k] = true
		if !r.ctrl[k] {
			r.ctrl[k] = true
			if in[k] != nil && !queued[k] {
				queued[k] = true
				*work = append(*work, k)
			}
		}
		stack = append(stack, bl[k].succ...)
		stack = append(stack, bl[k].handlers...)
	}
}

// postDominators returns, per block, the set of blocks on every path from
// it to an exit (itself included). Blocks that reach no exit keep the full
// set. nil when the budget runs out.
func postDominators(bl []block, b *budget) [][]uint64 {
	n := len(bl)
	w := (n + 63) / 64
	pd := make([][]uint64, n)
	for b := range pd {
		pd[b] = make([]uint64, w)
		if len(bl[b].succ)+len(bl[b].handlers) == 0 {
			pd[b][b/64] |= 1 << (b % 64)
			continue
		}
		for i := range pd[b] {
			pd[b][i] = ^uint64(0)
		}
	}
	tmp := make([]uint64, w)
	for changed, pass := true, 0; changed && pass < 256; pass++ {
		if !b.spend(int64(n*w)/8+1, "implicit flows (post-dominators)") {
			return nil
		}
		changed = false
		for b := n - 1; b >= 0; b-- {
			if len(bl[b].succ)+len(bl[b].handlers) == 0 {
				continue
			}
			for i := range tmp {
				tmp[i] = ^uint64(0)
			}
			for _, s := range bl[b].succ {
				if s >= 0 && s < n {
					for i := range tmp {
						tmp[i] &= pd[s][i]
					}
				}
			}
			for _, s := range bl[b].handlers {
				if s >= 0 && s < n {
					for i := range tmp {
						tmp[i] &= pd[s][i]
					}
				}
			}
			tmp[b/64] |= 1 << (b % 64)
			for i := range tmp {
				if tmp[i] != pd[b][i] {
					copy(pd[b], tmp)
					changed = true
					break
				}
			}
		}
	}
	return pd
}

// insensitive iterates one merged state over all instructions until it
// stops changing.
func (r *run) insensitive(s *state) bool {
	r.insens = true
	for i := range s.kk {
		s.kk[i] = false
	}
	prev := make([]uint64, len(s.t))
	for pass := 0; pass < 64; pass++ {
		copy(prev, s.t)
		if !r.b.spend(int64(len(r.insns)), "register analysis (flow-insensitive)") {
			return false
		}
		for i := range r.insns {
			r.exec(i, &r.insns[i], s)
			// Constants are meaningless without flow order.
			for j := range s.kk {
				s.kk[j] = false
			}
		}
		same := true
		for i := range prev {
			if prev[i] != s.t[i] {
				same = false
				break
			}
		}
		if same {
			break
		}
	}
	return true
}

func canThrow(op dex.Opcode) bool {
	switch {
	case op.IsInvoke(), op == dex.OpThrow:
		return true
	case op >= dex.OpAget && op <= dex.OpSputShort:
		return true
	case op == dex.OpCheckCast, op == dex.OpNewInstance, op == dex.OpNewArray, op == dex.OpFilledNewArray, op == dex.OpFilledNewArrayRange:
		return true
	}
	return false
}

// initParams gives each parameter register its label.
func (r *run) initParams(s *state) {
	for slot, reg := range r.params {
		if slot < len(r.paramLabel) {
			r.set(s, reg, r.paramLabel[slot])
		}
	}
}

// stored notes that t was stored into the object in reg: when that object
// was loaded from a field, the field's cell receives t.
func (r *run) stored(s *state, reg uint32, t []uint64) {
	if r.ok(reg) && s.org[reg] != 0 && !empty(t) && r.sink != nil {
		r.sink(t, s.org[reg]-1)
	}
}

// Register helpers; out-of-range registers (hostile code) are ignored.

func (r *run) ok(reg uint32) bool { return int(reg) < r.nregs }

func (r *run) taint(s *state, reg uint32) []uint64 {
	if !r.ok(reg) {
		for i := range r.tmp {
			r.tmp[i] = 0
		}
		return r.tmp
	}
	return s.t[int(reg)*r.w : int(reg)*r.w+r.w]
}

func (r *run) result(s *state) []uint64 {
	return s.t[r.nregs*r.w : r.nregs*r.w+r.w]
}

func (r *run) clear(s *state, reg uint32) {
	if !r.ok(reg) {
		return
	}
	t := s.t[int(reg)*r.w : int(reg)*r.w+r.w]
	for i := range t {
		t[i] = 0
	}
	s.kk[reg] = false
	s.ty[reg] = 0
	s.org[reg] = 0
}

func (r *run) set(s *state, reg int, label int) {
	if reg < 0 || reg >= r.nregs || label < 0 {
		return
	}
	s.t[reg*r.w+label/64] |= 1 << (label % 64)
}

// assign sets dst to the union of the taint of srcs (dst may be among them).
func (r *run) assign(s *state, dst uint32, srcs ...uint32) {
	if !r.ok(dst) {
		return
	}
	acc := scratch(&r.acc, r.w)
	for _, x := range srcs {
		or(acc, r.taint(s, x))
	}
	copy(s.t[int(dst)*r.w:], acc)
	s.kk[dst] = false
	s.ty[dst] = 0
	s.org[dst] = 0
}

func or(dst, src []uint64) {
	for i := range dst {
		dst[i] |= src[i]
	}
}

func empty(t []uint64) bool {
	for _, v := range t {
		if v != 0 {
			return false
		}
	}
	return true
}

// each calls fn with every label set in t.
func each(t []uint64, fn func(l int)) {
	for i, v := range t {
		for v != 0 {
			b := bits.TrailingZeros64(v)
			fn(i*64 + b)
			v &^= 1 << b
		}
	}
}

func (r *run) move(s *state, dst, src uint32) {
	if !r.ok(dst) {
		return
	}
	if !r.ok(src) {
		r.clear(s, dst)
		return
	}
	copy(s.t[int(dst)*r.w:int(dst)*r.w+r.w], s.t[int(src)*r.w:int(src)*r.w+r.w])
	s.k[dst], s.hi[dst], s.kk[dst], s.ty[dst], s.org[dst] = s.k[src], s.hi[src], s.kk[src], s.ty[src], s.org[src]
}

func (r *run) setConst(s *state, dst uint32, v int64) {
	r.clear(s, dst)
	if r.ok(dst) {
		s.k[dst], s.hi[dst], s.kk[dst] = v, v, true
	}
}

// setK records that reg holds the constant v (reg must be in range, or
// the pending-result slot).
func (s *state) setK(reg uint32, v int64) { s.k[reg], s.hi[reg], s.kk[reg] = v, v, true }

// setRange records that reg holds a value in [lo, hi].
func (s *state) setRange(reg uint32, lo, hi int64) { s.k[reg], s.hi[reg], s.kk[reg] = lo, hi, true }

// rangeOf returns the integer range of reg when known.
func (r *run) rangeOf(s *state, reg uint32) (lo, hi int64, ok bool) {
	if !r.ok(reg) || !s.kk[reg] {
		return 0, 0, false
	}
	return s.k[reg], s.hi[reg], true
}

func (r *run) konst(s *state, reg uint32) (int64, bool) {
	if !r.ok(reg) {
		return 0, false
	}
	return s.k[reg], s.kk[reg] && s.k[reg] == s.hi[reg]
}

// exec interprets one instruction. For a conditional branch it returns 1
// (always taken), 0 (never taken) or -2 (unknown); else -2.
func (r *run) exec(idx int, ins *dex.Instruction, s *state) int {
	op := ins.Op
	switch {
	case op == dex.OpNop, op == dex.OpMonitorEnter, op == dex.OpMonitorExit, op == dex.OpGoto, op == dex.OpGoto16, op == dex.OpGoto32,
		op == dex.OpFillArrayData, op == dex.OpPackedSwitch, op == dex.OpSparseSwitch:
	case op >= dex.OpMove && op <= dex.OpMoveObject16:
		r.move(s, ins.A, ins.B)
		if op >= dex.OpMoveWide && op <= dex.OpMoveWide16 {
			r.move(s, ins.A+1, ins.B+1)
		}
	case op >= dex.OpMoveResult && op <= dex.OpMoveResultObject:
		if r.ok(ins.A) {
			copy(s.t[int(ins.A)*r.w:int(ins.A)*r.w+r.w], r.result(s))
			s.k[ins.A], s.hi[ins.A], s.kk[ins.A], s.ty[ins.A], s.org[ins.A] = s.k[r.nregs], s.hi[r.nregs], s.kk[r.nregs], s.ty[r.nregs], 0
			if op == dex.OpMoveResultWide && r.ok(ins.A+1) {
				copy(s.t[int(ins.A+1)*r.w:int(ins.A+1)*r.w+r.w], r.result(s))
				s.kk[ins.A+1] = false
			}
		}
	case op >= dex.OpConst4 && op <= dex.OpConstHigh16:
		r.setConst(s, ins.A, ins.Literal)
	case op >= dex.OpConstWide16 && op <= dex.OpConstWideHigh16:
		r.setConst(s, ins.A, ins.Literal)
		r.clear(s, ins.A+1)
	case op == dex.OpConstClass, op == dex.OpConstMethodHandle, op == dex.OpConstMethodType, op == dex.OpInstanceOf, op == dex.OpArrayLength:
		r.clear(s, ins.A)
	case op == dex.OpNewArray:
		r.clear(s, ins.A)
		r.step(idx, ins, s)
	case op == dex.OpCheckCast:
		// The value is unchanged.
	case op == dex.OpFilledNewArray, op == dex.OpFilledNewArrayRange:
		res := r.result(s)
		for i := range res {
			res[i] = 0
		}
		for _, a := range ins.Args {
			or(res, r.taint(s, a))
		}
		s.ty[r.nregs] = 0
	case op == dex.OpCmplFloat, op == dex.OpCmpgFloat, op == dex.OpCmplDouble, op == dex.OpCmpgDouble, op == dex.OpCmpLong:
		r.assign(s, ins.A, ins.B, ins.C)
	case op >= dex.OpIfEq && op <= dex.OpIfLez:
		return r.cond(ins, s)
	case op == dex.OpAgetObject:
		r.step(idx, ins, s)
	case op == dex.OpAputObject:
		r.step(idx, ins, s)
	case op >= dex.OpAget && op <= dex.OpAgetShort:
		r.assign(s, ins.A, ins.B)
		if op == dex.OpAgetWide {
			r.assign(s, ins.A+1, ins.B)
		}
	case op >= dex.OpAput && op <= dex.OpAputShort:
		if r.ok(ins.B) {
			or(s.t[int(ins.B)*r.w:int(ins.B)*r.w+r.w], r.taint(s, ins.A))
			r.stored(s, ins.B, r.taint(s, ins.A))
		}
	case op >= dex.OpNegInt && op <= dex.OpIntToShort:
		v, known := r.konst(s, ins.B)
		r.assign(s, ins.A, ins.B)
		// A known source says nothing of the destination: check it too.
		known = known && r.ok(ins.A)
		if known && op == dex.OpNegInt {
			s.setK(ins.A, -v)
		} else if known && op >= dex.OpIntToLong && op <= dex.OpIntToShort {
			s.setK(ins.A, v)
		}
	case op >= dex.OpAddInt && op <= dex.OpRemDouble:
		a, ka := r.konst(s, ins.B)
		c, kc := r.konst(s, ins.C)
		r.assign(s, ins.A, ins.B, ins.C)
		if ka && kc {
			if v, ok := arith(op-dex.OpAddInt, a, c); ok && r.ok(ins.A) {
				s.setK(ins.A, v)
			}
		}
	case op >= dex.OpAddInt2addr && op <= dex.OpRemDouble2addr:
		a, ka := r.konst(s, ins.A)
		c, kc := r.konst(s, ins.B)
		r.assign(s, ins.A, ins.A, ins.B)
		if ka && kc {
			if v, ok := arith(op-dex.OpAddInt2addr, a, c); ok && r.ok(ins.A) {
				s.setK(ins.A, v)
			}
		}
	case op >= dex.OpAddIntLit16 && op <= dex.OpUshrIntLit8:
		a, ka := r.konst(s, ins.B)
		r.assign(s, ins.A, ins.B)
		if ka {
			if v, ok := litArith(op, a, ins.Literal); ok && r.ok(ins.A) {
				s.setK(ins.A, v)
			}
		}
	case op == dex.OpNewInstance:
		r.clear(s, ins.A)
		fallthrough
	default:
		// Invokes, field access, returns, throws, const-string,
		// move-exception: the hooks know what they mean.
		r.step(idx, ins, s)
	}
	return -2
}

// step hands an instruction to the hooks.
func (r *run) step(idx int, ins *dex.Instruction, s *state) {
	r.sc = stepCtx{r: r, s: s}
	r.h.step(idx, ins, &r.sc)
}

// arith folds a binary integer operation (d is the offset from add-int in
// the 23x group, the same order as the 2addr group); only int ops fold.
func arith(d dex.Opcode, a, c int64) (int64, bool) {
	a32, c32 := int32(a), int32(c)
	switch d {
	case 0:
		return int64(a32 + c32), true
	case 1:
		return int64(a32 - c32), true
	case 2:
		return int64(a32 * c32), true
	case 3:
		if c32 == 0 || (a32 == -1<<31 && c32 == -1) {
			return 0, false
		}
		return int64(a32 / c32), true
	case 4:
		if c32 == 0 || (a32 == -1<<31 && c32 == -1) {
			return 0, false
		}
		return int64(a32 % c32), true
	case 5:
		return int64(a32 & c32), true
	case 6:
		return int64(a32 | c32), true
	case 7:
		return int64(a32 ^ c32), true
	case 8:
		return int64(a32 << (uint32(c32) & 31)), true
	case 9:
		return int64(a32 >> (uint32(c32) & 31)), true
	case 10:
		return int64(int32(uint32(a32) >> (uint32(c32) & 31))), true
	}
	return 0, false
}

func litArith(op dex.Opcode, a, lit int64) (int64, bool) {
	switch op {
	case dex.OpAddIntLit16, dex.OpAddIntLit8:
		return arith(0, a, lit)
	case dex.OpRsubInt, dex.OpRsubIntLit8:
		return arith(1, lit, a)
	case dex.OpMulIntLit16, dex.OpMulIntLit8:
		return arith(2, a, lit)
	case dex.OpDivIntLit16, dex.OpDivIntLit8:
		return arith(3, a, lit)
	case dex.OpRemIntLit16, dex.OpRemIntLit8:
		return arith(4, a, lit)
	case dex.OpAndIntLit16, dex.OpAndIntLit8:
		return arith(5, a, lit)
	case dex.OpOrIntLit16, dex.OpOrIntLit8:
		return arith(6, a, lit)
	case dex.OpXorIntLit16, dex.OpXorIntLit8:
		return arith(7, a, lit)
	case dex.OpShlIntLit8:
		return arith(8, a, lit)
	case dex.OpShrIntLit8:
		return arith(9, a, lit)
	case dex.OpUshrIntLit8:
		return arith(10, a, lit)
	}
	return 0, false
}

// cond evaluates a conditional branch on known integer ranges.
func (r *run) cond(ins *dex.Instruction, s *state) int {
	alo, ahi, ka := r.rangeOf(s, ins.A)
	var clo, chi int64
	kc := true
	if ins.Op <= dex.OpIfLe {
		clo, chi, kc = r.rangeOf(s, ins.B)
	}
	if !ka || !kc {
		return -2
	}
	yes, no := false, false
	switch ins.Op {
	case dex.OpIfEq, dex.OpIfEqz, dex.OpIfNe, dex.OpIfNez:
		eq := alo == ahi && clo == chi && alo == clo
		ne := ahi < clo || chi < alo
		yes, no = eq, ne
		if ins.Op == dex.OpIfNe || ins.Op == dex.OpIfNez {
			yes, no = ne, eq
		}
	case dex.OpIfLt, dex.OpIfLtz:
		yes, no = ahi < clo, alo >= chi
	case dex.OpIfGe, dex.OpIfGez:
		yes, no = alo >= chi, ahi < clo
	case dex.OpIfGt, dex.OpIfGtz:
		yes, no = alo > chi, ahi <= clo
	case dex.OpIfLe, dex.OpIfLez:
		yes, no = ahi <= clo, alo > chi
	}
	switch {
	case yes:
		return 1
	case no:
		return 0
	}
	return -2
}

// switchTargets returns the blocks a switch on a register of known range
// can reach (cases in range, and the next block unless the cases cover the
// whole range); ok is false when the range is unknown.
func (r *run) switchTargets(ins *dex.Instruction, s *state, bl []block, next int) (targets []int, ok bool) {
	lo, hi, known := r.rangeOf(s, ins.A)
	if !known || hi-lo > 1<<16 {
		return nil, false
	}
	keys, pcs, err := r.code.Switch(ins.Target)
	if err != nil {
		return nil, false
	}
	covered := int64(0)
	for i, k := range keys {
		if int64(k) < lo || int64(k) > hi {
			continue
		}
		covered++
		if b := r.blockAt(ins.PC+pcs[i], bl); b >= 0 {
			targets = append(targets, b)
		}
	}
	if covered < hi-lo+1 && next >= 0 {
		targets = append(targets, next)
	}
	return targets, true
}

// blockAt finds the block starting at pc (-1 when none does).
func (r *run) blockAt(pc int, bl []block) int {
	if pc < 0 || pc >= len(r.at) || r.at[pc] < 0 {
		return -1
	}
	i := int(r.at[pc])
	j := sort.Search(len(bl), func(j int) bool { return bl[j].start >= i })
	if j < len(bl) && bl[j].start == i {
		return j
	}
	return -1
}
