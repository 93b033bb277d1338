package flow

import (
	"context"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/romscan/romscan/analyzers/endpoints"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/signatures"
)

// engine analyses one app.
type engine struct {
	// noSources says the app's own code calls no catalogued source and
	// overrides no source callback: no flow can start, so only the
	// endpoint-recovery pass runs.
	noSources bool
	// probe says the data-flow pass is not run yet: methods are read for
	// endpoints and for a source, and the run stops at the first source
	// (sawSource).
	probe, sawSource bool
	p                *program
	apis             *signatures.APIs
	g                *graph
	b                *budget
	// dexes holds, per DEX file, what its method and field references
	// mean (see dexCache).
	dexes map[*dex.File]*dexCache
	types map[string]int32
	names []string
	// fieldStr holds the constant strings stored in fields, for endpoints.
	fieldStr map[string]string
	// fieldRefl holds the classes and Methods stored in fields, for
	// reflective calls made elsewhere.
	fieldRefl map[string]cval
	found     []foundEndpoint
	// endpointMemo remembers looksEndpoint by string.
	endpointMemo map[string]bool
	folded       int // methods whose inputs were folded
	insens       int // methods analysed flow-insensitively
	trunc        int // methods with undecodable code
	methods      int // methods analysed
	// callers lists, by method id, the methods calling it (for
	// reachability).
	callers lists
	// manifest says whether the app's manifest is known.
	manifest    bool
	reflTargets map[reflCall]*reflTarget
	// retTypes and constRets remember retType (plus one; 0: not worked
	// out yet) and constRet by method id.
	retTypes  []int32
	constRets []constRetMemo
	// The analysis of one method, reused by the next (its buffers).
	run   run
	hooks mhooks
	cs    constScratch
}

type foundEndpoint struct {
	recovered
	m *method
}

// callInfo is what one method reference means to the analysis. It is
// read first (the reference, whether the constant pass may
// fold it); its head (callHead) and the rest (finishCall) are worked out
// when an invoke of it is met.
type callInfo struct {
	ref dex.MethodRef
	// Where the call's parameter offsets (slot → offset in the invoke's
	// registers) and its app targets are in its dexCache's pools (see
	// offs and targets): a slice each took 24 bytes of every call.
	offsAt, targetsAt uint32
	nOffs             uint16
	nTargets          uint8
	source            *signatures.APIEntry
	sink              *signatures.APIEntry
	rare              *callRare  // what few calls have; nil for most
	op                dex.Opcode // the first invoke of the reference met
	model             model
	// foldable and reflective say whether foldCall and reflection may
	// know the call (by its class and name); calls they cannot know are
	// not offered to them.
	foldable, reflective bool
	head                 bool // offs, static, source, sink and link are known (callHead)
	mutates              bool
	static               bool
	bounded              bool // Random.nextInt(int): the result is in [0, bound)
	link                 bool // a write-through wrapper's constructor (see wraps)
	// keyed container access (see keyedCall)
	keyRead, keyWrite, stringKey bool
	full                         bool // the rest is known too (finishCall)
}

// callRare is the part of a call's information that few calls have, kept
// apart: a large app holds a callInfo for every method it calls.
type callRare struct {
	native *method // an app native method: data handed to native code
	// channels: the framework queues the call puts to and gets from
	channels [2]string // put, get
	// The last dispatch on a receiver of known class (see resolveKnown).
	known *knownDispatch
}

// extra returns ci.rare, made when missing.
func (ci *callInfo) extra() *callRare {
	if ci.rare == nil {
		ci.rare = &callRare{}
	}
	return ci.rare
}

// native returns the app native method the call reaches, if any.
func (ci *callInfo) native() *method {
	if ci.rare == nil {
		return nil
	}
	return ci.rare.native
}

type fieldInfo struct {
	key       string
	g         *graph // the graph node is a node of
	source    *signatures.APIEntry
	node      int32
	lib       bool // a framework field
	container bool // an object array or a container: elements keyed
}

func newEngine(p *program, apis *signatures.APIs, b *budget) *engine {
	return &engine{p: p, apis: apis, g: newGraph(0), b: b, dexes: map[*dex.File]*dexCache{},
		types: map[string]int32{}, names: []string{""}, fieldStr: map[string]string{}, fieldRefl: map[string]cval{}, reflTargets: map[reflCall]*reflTarget{}, retTypes: make([]int32, len(p.methods)),
		constRets: make([]constRetMemo, len(p.methods))}
}

// restart returns a fresh engine for the data-flow pass after a probe. It
// keeps what only depends on the program: call and field information,
// resolved reflective calls and the interned types they name (the probe
// met each reference in the order the pass meets it, so the same first
// use decides it).
func (e *engine) restart() *engine {
	n := newEngine(e.p, e.apis, e.b)
	// The graph has a few nodes per method (parameters, returns, call
	// sites): room for them saves growing it step by step.
	n.g = newGraph(4 * len(e.p.methods))
	// Return and parameter cells are indexed by method id: room for
	// every method (growing would double).
	n.g.ret = make([]int32, 0, len(e.p.methods))
	n.g.param.at = make([]listAt, 0, len(e.p.methods))
	n.manifest = e.manifest
	n.dexes, n.reflTargets, n.types, n.names, n.endpointMemo = e.dexes, e.reflTargets, e.types, e.names, e.endpointMemo
	// What a method returns depends on its code alone.
	n.retTypes, n.constRets = e.retTypes, e.constRets
	return n
}

// releaseScratch drops what only the analysis of methods needs (call and
// field information, the per-method buffers, the memos), so that the
// search for flows does not hold it.
func (e *engine) releaseScratch() {
	e.dexes, e.reflTargets, e.endpointMemo, e.fieldStr, e.fieldRefl = nil, nil, nil, nil, nil
	e.retTypes, e.constRets = nil, nil
	e.run, e.hooks, e.cs = run{}, mhooks{}, constScratch{}
}

func (e *engine) typeID(name string) int32 {
	if id, ok := e.types[name]; ok {
		return id
	}
	id := int32(len(e.names))
	e.types[name] = id
	e.names = append(e.names, name)
	return id
}

// catalogue looks an API up on its class, and for a call through an app
// class that inherits it, on the framework classes above.
func (e *engine) catalogue(class, name string) *signatures.APIEntry {
	if x := e.apis.MethodParts(class, name); x != nil {
		return x
	}
	if e.p.classes[class] == nil {
		return nil
	}
	for _, t := range e.p.libraryAncestors(class) {
		if x := e.apis.MethodParts(t, name); x != nil {
			return x
		}
	}
	mask := e.contextMask(e.p.classes[class])
	for i, t := range contextBases {
		if mask&(1<<i) != 0 {
			if x := e.apis.MethodParts(t, name); x != nil {
				return x
			}
		}
	}
	return nil
}

// contextMask says which contextBases an app class is (bit i for
// contextBases[i]), worked out once per class: every call through the
// class asks.
func (e *engine) contextMask(c *class) uint8 {
	if c.ctxKnown {
		return c.ctx
	}
	for i, t := range contextBases {
		if e.p.isSubtype(c.name, t) || e.inheritsFramework(c.name, t) {
			c.ctx |= 1 << i
		}
	}
	c.ctxKnown = true
	return c.ctx
}

// inheritsFramework says whether an app class extends a framework class
// whose name suggests it is a t (Activity subclasses are Contexts).
func (e *engine) inheritsFramework(class, t string) bool {
	for _, a := range e.p.libraryAncestors(class) {
		if a == t {
			return true
		}
		if t == "Landroid/content/Context;" || t == "Landroid/content/ContextWrapper;" {
			if strings.HasPrefix(a, "Landroid/app/") || strings.HasPrefix(a, "Landroidx/appcompat/app/") || strings.HasPrefix(a, "Landroid/support/v7/app/") {
				return true
			}
		}
		if t == "Landroid/app/Activity;" && (strings.HasSuffix(a, "Activity;")) {
			return true
		}
	}
	return false
}

// dexCache is what the references of one DEX file mean, by index: read
// and worked out once per app instead of per instruction (a slice index,
// not a map lookup and the file's lock). The tables hold 32-bit positions
// in slabs rather than pointers: they are sized to the whole DEX, most of
// whose references the app's own code never makes.
type dexCache struct {
	dx       *dex.File
	calls    []int32 // by method index: 0 not read yet, -1 unreadable, else position in callSlab plus one
	flds     []int32 // by field index, the same way
	callSlab slab[callInfo]
	fldSlab  slab[fieldInfo]
	// The pools of callInfo's offsets and targets.
	offPool    []uint16
	targetPool []*method
}

// offs returns a call's parameter offsets: slot → offset in the invoke's
// registers.
func (dc *dexCache) offs(ci *callInfo) []uint16 {
	end := ci.offsAt + uint32(ci.nOffs)
	return dc.offPool[ci.offsAt:end:end]
}

// targets returns the app methods a call may run.
func (dc *dexCache) targets(ci *callInfo) []*method {
	end := ci.targetsAt + uint32(ci.nTargets)
	return dc.targetPool[ci.targetsAt:end:end]
}

// cache returns the reference tables of a DEX file.
func (e *engine) cache(dx *dex.File) *dexCache {
	if dc := e.dexes[dx]; dc != nil {
		return dc
	}
	dc := &dexCache{dx: dx, calls: make([]int32, dx.NumMethods()), flds: make([]int32, dx.NumFields())}
	e.dexes[dx] = dc
	return dc
}

// methodRef returns method reference idx, read once, as a call whose
// head may not be known yet (see callHead); nil when the index is out of
// range or the reference unreadable.
func (dc *dexCache) methodRef(idx uint32) *callInfo {
	if int64(idx) >= int64(len(dc.calls)) {
		return nil // out of range: unreadable
	}
	switch at := dc.calls[idx]; {
	case at > 0:
		return dc.callSlab.at(at - 1)
	case at < 0:
		return nil
	}
	ref, err := dc.dx.Method(idx)
	if err != nil {
		dc.calls[idx] = -1
		return nil
	}
	at, ci := dc.callSlab.alloc()
	*ci = callInfo{ref: ref, foldable: foldableClass(ref.Class), reflective: reflectiveCall(ref.Class, ref.Name)}
	dc.calls[idx] = at + 1
	return ci
}

// slab allocates values of one type in chunks, addressed by position: a
// position is half a pointer, and a chunk one allocation.
type slab[T any] struct {
	chunks [][]T
	n      uint32
}

const slabChunk = 128

// alloc returns a new zero value and its position.
func (s *slab[T]) alloc() (int32, *T) {
	if s.n%slabChunk == 0 {
		s.chunks = append(s.chunks, make([]T, slabChunk))
	}
	at := s.n
	s.n++
	return int32(at), &s.chunks[at/slabChunk][at%slabChunk]
}

// at returns the value at position at.
func (s *slab[T]) at(at int32) *T { return &s.chunks[uint32(at)/slabChunk][uint32(at)%slabChunk] }

// call returns what a method reference means, complete.
func (e *engine) call(dc *dexCache, op dex.Opcode, idx uint32) *callInfo {
	ci := e.callHead(dc, op, idx)
	if ci != nil && !ci.full {
		e.finishCall(dc, ci)
	}
	return ci
}

// callHead returns a method reference's call information, of which only
// the parameters, source, sink and link are known unless full is set: all
// the probe for a source needs. Both parts follow the first invoke met.
func (e *engine) callHead(dc *dexCache, op dex.Opcode, idx uint32) *callInfo {
	ci := dc.methodRef(idx)
	if ci == nil || ci.head {
		return ci
	}
	ci.head = true
	ci.op, ci.static = op, op == dex.OpInvokeStatic || op == dex.OpInvokeStaticRange
	off := 0
	params, _ := splitDesc(ci.ref.Descriptor)
	start := len(dc.offPool)
	if !ci.static {
		dc.offPool = append(dc.offPool, 0)
		off = 1
	}
	for _, p := range params {
		dc.offPool = append(dc.offPool, uint16(off))
		off++
		if wide(p) {
			off++
		}
	}
	// At most 256 parameters (splitParams) and the receiver.
	ci.offsAt, ci.nOffs = uint32(start), uint16(len(dc.offPool)-start)
	ref := ci.ref
	// A framework API in the catalogue wins over an app class of the same
	// name: the platform's class is the one loaded.
	if x := e.catalogue(ref.Class, ref.Name); x != nil {
		switch {
		case x.IsSource():
			ci.source = x
		case !x.IsMarker(): // markers (reflection) are neither
			ci.sink = x
		}
	}
	ci.link = wraps(ref.Class, ref.Name, params)
	return ci
}

// chanPut and chanGet name the framework queue a call puts to or gets
// from ("" when none).
func (ci *callInfo) chanPut() string {
	if ci.rare == nil {
		return ""
	}
	return ci.rare.channels[0]
}

func (ci *callInfo) chanGet() string {
	if ci.rare == nil {
		return ""
	}
	return ci.rare.channels[1]
}

// knownDispatch is the last dispatch of a call on a receiver of known
// class (type id ty), kept apart: few calls have one.
type knownDispatch struct {
	op      dex.Opcode
	ty      int32
	targets []*method
}

// resolveKnown is p.resolve of a call on a receiver whose class (type id)
// is known, remembered per call for the last class: the register analysis
// meets the same call again at each visit of its block.
func (e *engine) resolveKnown(ci *callInfo, op dex.Opcode, ty int32) []*method {
	x := ci.extra()
	k := x.known
	if k == nil {
		k = &knownDispatch{}
		x.known = k
	}
	if k.ty != ty || k.op != op {
		k.op, k.ty = op, ty
		k.targets = e.p.resolve(op, ci.ref, e.names[ty])
	}
	return k.targets
}

// addCaller notes that method caller calls callee (64 callers at most).
func (e *engine) addCaller(callee, caller int32) {
	if e.callers.len() == 0 {
		e.callers.grow(len(e.p.methods))
	}
	if len(e.callers.of(callee)) < 64 {
		e.callers.add(callee, caller)
	}
}

// finishCall fills in the rest of a call's information.
func (e *engine) finishCall(dc *dexCache, ci *callInfo) {
	ci.full = true
	ref, op := ci.ref, ci.op
	var targets []*method
	if ci.source == nil {
		targets = e.p.resolve(op, ref, "")
		if len(targets) == 0 && e.p.classes[ref.Class] != nil {
			if nm := e.p.lookup(ref.Class, sig{ref.Name, ref.Descriptor}); nm != nil && nm.access&dex.AccNative != 0 {
				ci.extra().native = nm
			}
		}
	}
	params, ret := splitDesc(ref.Descriptor)
	ci.model, ci.mutates = classify(ref.Class, ref.Name, ret, params)
	if put, get := e.channel(ref); put != "" || get != "" {
		ci.extra().channels = [2]string{put, get}
	}
	ci.keyRead, ci.keyWrite, ci.stringKey = keyedCall(ref.Class, ref.Name, ref.Descriptor)
	ci.bounded = ref.Class == "Ljava/util/Random;" && ref.Name == "nextInt" && ref.Descriptor == "(I)I"
	if ci.model == modelAsyncExec {
		for _, c := range append([]*class{e.p.classes[ref.Class]}, e.p.subtypesOf(ref.Class)...) {
			if c == nil {
				continue
			}
			for _, t := range c.list {
				if t.ref.Name == "doInBackground" && t.codeOff != 0 && len(targets) < maxDispatch {
					targets = append(targets, t)
				}
			}
		}
	}
	// At most maxDispatch targets.
	ci.targetsAt, ci.nTargets = uint32(len(dc.targetPool)), uint8(len(targets))
	dc.targetPool = append(dc.targetPool, targets...)
}

func (e *engine) field(dc *dexCache, idx uint32) *fieldInfo {
	if int64(idx) >= int64(len(dc.flds)) {
		return nil // out of range: unreadable
	}
	switch at := dc.flds[idx]; {
	case at > 0:
		return dc.fldSlab.at(at - 1)
	case at < 0:
		return nil
	}
	ref, err := dc.dx.Field(idx)
	if err != nil {
		dc.flds[idx] = -1
		return nil
	}
	at, fi := dc.fldSlab.alloc()
	*fi = fieldInfo{key: e.p.resolveField(ref), lib: e.p.classes[ref.Class] == nil, container: containerType(ref.Type)}
	if x := e.apis.Field(ref.Class + "->" + ref.Name); x != nil && x.IsSource() {
		fi.source = x
	}
	dc.flds[idx] = at + 1
	return fi
}

// looksEndpoint is the package's looksEndpoint, remembered per string:
// the same constants (keys, tags, URLs) are passed again and again.
func (e *engine) looksEndpoint(s string) bool {
	if strings.IndexByte(s, '.') < 0 && strings.IndexByte(s, ':') < 0 {
		return false // see looksEndpoint
	}
	if v, ok := e.endpointMemo[s]; ok {
		return v
	}
	v := looksEndpoint(s)
	if e.endpointMemo == nil {
		e.endpointMemo = map[string]bool{}
	}
	if len(e.endpointMemo) < 1<<14 {
		e.endpointMemo[s] = v
	}
	return v
}

// looksEndpoint says whether a string is a URL, host or IP endpoint.
func looksEndpoint(s string) bool {
	// Every endpoint form (URL, host name, IPv4, IPv6) has an ASCII dot
	// or colon: most strings are ruled out without parsing.
	if strings.IndexByte(s, '.') < 0 && strings.IndexByte(s, ':') < 0 {
		return false
	}
	if strings.Contains(s, "{?}") {
		s = s[:strings.Index(s, "{?}")]
	}
	return len(endpoints.FindInString(s, true)) > 0
}

// analyzeAll runs every app method with code; <clinit> and constructors
// first, so constant strings stored in fields are known to their readers.
func (e *engine) analyzeAll(ctx context.Context) {
	for i, m := range e.order() {
		if i%64 == 0 && ctx.Err() != nil {
			e.b.exceeded, e.b.what = true, "cancelled"
			return
		}
		if e.b.over() {
			return
		}
		e.method(m)
		if e.sawSource {
			return
		}
	}
	// AsyncTask: what doInBackground returns reaches onPostExecute.
	for _, c := range e.p.order {
		var bg, post *method
		for _, m := range c.list {
			switch m.ref.Name {
			case "doInBackground":
				bg = m
			case "onPostExecute":
				post = m
			}
		}
		if bg != nil && post != nil && !post.static() {
			e.g.edge(e.g.node(nodeKey{kind: nRet, m: bg.id}), e.g.node(nodeKey{kind: nParam, m: post.id, i: 1}))
		}
	}
}

// order lists the methods with code in the order the passes analyse
// them: <clinit> and constructors first.
func (e *engine) order() []*method {
	order := make([]*method, 0, len(e.p.methods))
	for _, m := range e.p.methods {
		if m.codeOff != 0 {
			order = append(order, m)
		}
	}
	rank := func(m *method) int {
		switch m.ref.Name {
		case "<clinit>":
			return 0
		case "<init>":
			return 1
		}
		return 2
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	return order
}

// surelySource says, from the instructions alone, that the probe would
// find a source: a method holds one that no constant folding can take
// away (reflective calls are left to the probe). It reads the methods in
// the passes' order, so the calls it meets first are those the data-flow
// pass meets first; it leaves the budget as it found it (it is bounded by
// a budget of its own: the same step count).
func (e *engine) surelySource(ctx context.Context) bool {
	saved := *e.b
	defer func() { *e.b = saved }()
	for i, m := range e.order() {
		if i%64 == 0 && ctx.Err() != nil {
			return false
		}
		code, err := m.cls.dex.File.Code(m.encoded())
		if err != nil || code == nil {
			continue
		}
		h := &e.hooks
		h.reset(e, m)
		r := &e.run
		r.reset(code, h, e.b)
		h.r = r
		if !r.decode() {
			return false
		}
		if len(r.insns) > 0 && e.sourceIn(h, true) {
			return true
		}
	}
	return false
}

// method analyses one method and adds its edges to the graph.
func (e *engine) method(m *method) {
	code, err := m.cls.dex.File.Code(m.encoded())
	if err != nil || code == nil {
		if err != nil {
			e.trunc++
		}
		return
	}
	e.methods++
	h := &e.hooks
	h.reset(e, m)
	r := &e.run
	r.reset(code, h, e.b)
	h.r = r
	r.sink = h.out
	if !r.decode() {
		return
	}
	h.size(len(r.insns))
	h.consts = e.constPass(r.insns, code, r.nregs, h.dc, m)
	for _, f := range h.consts.found {
		if len(e.found) < 256 {
			e.found = append(e.found, foundEndpoint{f, m})
		}
	}
	switch {
	case e.probe:
		e.sawSource = len(r.insns) > 0 && e.sourceIn(h, false)
	case !e.noSources:
		r.analyze(h.params)
	}
	if r.folded {
		e.folded++
	}
	if r.insens {
		e.insens++
	}
	if r.trunc {
		e.trunc++
	}
}

// sourceIn says whether the data-flow pass would find a source in the
// method h is set up for (decoded, constants folded): the cases of prepare
// and params that add a source node, without adding it. With sure, the
// constants are not folded, and reflective calls are not counted.
func (e *engine) sourceIn(h *mhooks, sure bool) bool {
	for idx := range h.r.insns {
		ins := &h.r.insns[idx]
		op := ins.Op
		switch {
		case op.IsInvoke() && op.IndexKind() == dex.IndexMethod:
			ci := e.callHead(h.dc, op, ins.Index)
			if ci == nil || ci.link {
				continue
			}
			if sure && ci.reflective {
				// The constant pass may resolve it to another method.
				continue
			}
			if !sure {
				if rc, ok := h.consts.reflect[idx]; ok {
					if rt := e.reflectTarget(rc); rt != nil {
						if rt.source != nil {
							return true
						}
						continue
					}
				}
			}
			if ci.source != nil {
				return true
			}
		case op >= dex.OpIget && op <= dex.OpSgetShort && (op <= dex.OpIgetShort || op >= dex.OpSget):
			if fi := e.field(h.dc, ins.Index); fi != nil && fi.source != nil {
				return true
			}
		case op == dex.OpConstString || op == dex.OpConstStringJumbo:
			s, err := h.dx.String(ins.Index)
			if err != nil || !strings.HasPrefix(s, "content://") {
				continue
			}
			if x := e.apis.String(s); x != nil && x.IsSource() {
				return true
			}
		}
	}
	params, _ := splitDesc(h.m.ref.Descriptor)
	if len(params) == 0 || strings.HasPrefix(h.m.ref.Name, "<") {
		return false
	}
	for _, t := range e.p.libraryAncestors(h.m.cls.name) {
		if x := e.apis.MethodParts(t, h.m.ref.Name); x != nil && x.IsSource() {
			return slices.ContainsFunc(params, func(p string) bool { return strings.HasPrefix(p, "L") })
		}
	}
	return false
}

// mhooks connects one method's register analysis to the app's graph.
type mhooks struct {
	e      *engine
	m      *method
	dx     *dex.File
	dc     *dexCache
	r      *run
	ci     []*callInfo // by instruction index
	lab    [][]int     // instruction index → labels it introduces
	labBuf []int       // backs lab's slices
	consts *constInfo
	refl   map[int]*reflTarget // reflective calls resolved by the constant pass
	out    func(t []uint64, n int32)
	// emitted holds what edges already sent (see edges).
	emitted emitMemo
}

// reset prepares h for method m, keeping its buffers.
func (h *mhooks) reset(e *engine, m *method) {
	emitted := h.emitted
	emitted.reset()
	*h = mhooks{e: e, m: m, dx: m.cls.dex.File, dc: e.cache(m.cls.dex.File), ci: h.ci[:0], lab: h.lab[:0], labBuf: h.labBuf[:0], out: h.out,
		emitted: emitted}
	if h.out == nil {
		h.out = h.edges
	}
}

// size makes room for n instructions.
func (h *mhooks) size(n int) {
	if cap(h.ci) < n {
		h.ci = make([]*callInfo, n)
		h.lab = make([][]int, n)
	}
	h.ci, h.lab = h.ci[:n], h.lab[:n]
	clear(h.ci)
	clear(h.lab)
}

// labels returns ls as a slice of h's buffer (appending to it copies).
func (h *mhooks) labels(ls ...int) []int {
	start := len(h.labBuf)
	h.labBuf = append(h.labBuf, ls...)
	return h.labBuf[start:len(h.labBuf):len(h.labBuf)]
}

func (h *mhooks) node(k nodeKey) int32 { return h.e.g.node(k) }

// fieldNode returns the node of a field's cell, remembered with the field
// (for the graph it was made in: the probe's graph is not the pass's).
func (h *mhooks) fieldNode(fi *fieldInfo) int32 {
	if fi.g != h.e.g {
		fi.g, fi.node = h.e.g, h.node(nodeKey{kind: nField, s: fi.key})
	}
	return fi.node
}

// params labels the parameter registers: Param(m, slot), plus a source
// label for callback parameters (onLocationChanged(Location), ...).
func (h *mhooks) params(r *run) {
	params, _ := splitDesc(h.m.ref.Descriptor)
	first := int(r.code.Registers) - int(r.code.Ins)
	reg := first
	slot := 0
	var cb *signatures.APIEntry
	if len(params) > 0 && !strings.HasPrefix(h.m.ref.Name, "<") {
		for _, t := range h.e.p.libraryAncestors(h.m.cls.name) {
			if x := h.e.apis.MethodParts(t, h.m.ref.Name); x != nil && x.IsSource() {
				cb = x
				break
			}
		}
	}
	add := func(l int, w bool) {
		r.params = append(r.params, reg)
		r.paramLabel = append(r.paramLabel, l)
		if w {
			r.params = append(r.params, reg+1)
			r.paramLabel = append(r.paramLabel, l)
		}
	}
	// Implicit flows need a decision: a branch, a switch or a handler.
	decides := len(r.code.Tries) > 0
	for i := 0; i < len(r.insns) && !decides; i++ {
		op := r.insns[i].Op
		decides = op.IsSwitch() || (op >= dex.OpIfEq && op <= dex.OpIfLez)
	}
	if decides {
		r.implLabel = r.label(h.node(nodeKey{kind: nImpl, m: h.m.id}))
	}
	if !h.m.static() {
		add(r.label(h.node(nodeKey{kind: nParam, m: h.m.id, i: 0})), false)
		reg++
		slot++
	}
	for i, p := range params {
		add(r.label(h.node(nodeKey{kind: nParam, m: h.m.id, i: int32(slot)})), wide(p))
		if ch := h.e.channelCallback(h.m, i); ch != "" {
			add(r.label(h.node(nodeKey{kind: nField, s: ch})), false)
		}
		if cb != nil && strings.HasPrefix(p, "L") {
			n := h.node(nodeKey{kind: nSrc, m: h.m.id, i: int32(-1 - i)})
			if _, ok := h.e.g.src[n]; !ok {
				h.e.g.src[n] = &srcSite{entry: cb, m: h.m, pc: 0, off: r.code.InsnsOff, api: cb.Title, param: i}
				h.e.g.src[n].api = "callback parameter " + p + " of " + h.m.ref.Name
			}
			add(r.label(n), wide(p))
		}
		reg++
		slot++
		if wide(p) {
			reg++
		}
	}
}

func (h *mhooks) prepare(idx int, ins *dex.Instruction, label func(int32) int) {
	e := h.e
	op := ins.Op
	switch {
	case op.IsInvoke() && op.IndexKind() == dex.IndexMethod:
		ci := e.call(h.dc, op, ins.Index)
		if ci == nil {
			return
		}
		h.ci[idx] = ci
		if ci.keyRead {
			h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nRead, m: h.m.id, i: int32(ins.PC)})))
		}
		if ci.chanGet() != "" {
			h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nField, s: ci.chanGet()})))
		}
		if ci.link {
			h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nObj, m: h.m.id, i: int32(ins.PC)})))
			return
		}
		if rc, ok := h.consts.reflect[idx]; ok {
			if rt := e.reflectTarget(rc); rt != nil {
				if h.refl == nil {
					h.refl = map[int]*reflTarget{}
				}
				h.refl[idx] = rt
				if rt.source != nil {
					n := h.node(nodeKey{kind: nSrc, m: h.m.id, i: int32(ins.PC)})
					if _, ok := e.g.src[n]; !ok {
						e.g.src[n] = &srcSite{entry: rt.source, m: h.m, pc: ins.PC, off: h.r.code.InsnsOff + int64(ins.PC)*2, api: rt.api, param: -1}
					}
					h.lab[idx] = h.labels(label(n))
				}
				for _, t := range rt.targets {
					h.lab[idx] = append(h.lab[idx], label(h.node(nodeKey{kind: nRet, m: t.id})))
					e.addCaller(t.id, h.m.id)
				}
				return
			}
		}
		switch {
		case ci.source != nil:
			n := h.node(nodeKey{kind: nSrc, m: h.m.id, i: int32(ins.PC)})
			if _, ok := e.g.src[n]; !ok {
				e.g.src[n] = &srcSite{entry: ci.source, m: h.m, pc: ins.PC, off: h.r.code.InsnsOff + int64(ins.PC)*2, api: ci.ref.String(), param: -1}
			}
			h.lab[idx] = h.labels(label(n))
		case ci.nTargets > 0:
			for _, t := range h.dc.targets(ci) {
				h.lab[idx] = append(h.lab[idx], label(h.node(nodeKey{kind: nRet, m: t.id})))
				e.addCaller(t.id, h.m.id)
			}
		case ci.model == modelExtrasGet:
			if k, ok := h.consts.keys[idx]; ok {
				h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nExtra, s: "=" + k})), label(h.node(nodeKey{kind: nExtra, s: ""})))
			} else {
				h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nExtra, s: "*"})))
			}
		}
	case op >= dex.OpIget && op <= dex.OpSgetShort && (op <= dex.OpIgetShort || op >= dex.OpSget):
		fi := e.field(h.dc, ins.Index)
		if fi == nil {
			return
		}
		if fi.source != nil {
			n := h.node(nodeKey{kind: nSrc, m: h.m.id, i: int32(ins.PC)})
			if _, ok := e.g.src[n]; !ok {
				ref, _ := h.dx.Field(ins.Index)
				e.g.src[n] = &srcSite{entry: fi.source, m: h.m, pc: ins.PC, off: h.r.code.InsnsOff + int64(ins.PC)*2, api: ref.String(), param: -1}
			}
			h.lab[idx] = h.labels(label(n))
			return
		}
		n := h.fieldNode(fi)
		h.lab[idx] = h.labels(label(n))
		if fi.container && (op == dex.OpIgetObject || op == dex.OpSgetObject) {
			h.lab[idx] = append(h.lab[idx], label(h.node(nodeKey{kind: nAll, i: n})))
		}
	case op == dex.OpNewInstance || op == dex.OpNewArray:
		if t, err := h.dx.Type(ins.Index); err == nil && containerType(t) {
			n := h.node(nodeKey{kind: nObj, m: h.m.id, i: int32(ins.PC)})
			h.lab[idx] = h.labels(label(n), label(h.node(nodeKey{kind: nAll, i: n})))
		}
	case op == dex.OpAgetObject:
		h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nRead, m: h.m.id, i: int32(ins.PC)})))
	case op == dex.OpConstString || op == dex.OpConstStringJumbo:
		s, err := h.dx.String(ins.Index)
		if err != nil || !strings.HasPrefix(s, "content://") {
			return
		}
		if x := e.apis.String(s); x != nil && x.IsSource() {
			n := h.node(nodeKey{kind: nSrc, m: h.m.id, i: int32(ins.PC)})
			if _, ok := e.g.src[n]; !ok {
				e.g.src[n] = &srcSite{entry: x, m: h.m, pc: ins.PC, off: h.r.code.InsnsOff + int64(ins.PC)*2, api: s, param: -1}
			}
			h.lab[idx] = h.labels(label(n))
		}
	case op == dex.OpMoveException:
		h.lab[idx] = h.labels(label(h.node(nodeKey{kind: nExc})))
	}
}

// edges adds edges from every label in t to node n. The fixpoint visits
// blocks again and again: labels this method already sent to n are
// skipped (their edges are in the graph).
func (h *mhooks) edges(t []uint64, n int32) {
	sent := h.emitted.of(n, len(t))
	for i, v := range t {
		v &^= sent[i]
		sent[i] |= t[i]
		for v != 0 {
			b := bits.TrailingZeros64(v)
			v &^= 1 << b
			if l := i*64 + b; l < len(h.r.labels) {
				h.e.g.edge(h.r.labels[l], n)
			}
		}
	}
}

// emitMemo is, per graph node, the labels one method has sent to it: a
// taint set by node, stamped per method so that moving to the next method
// does not clear it.
type emitMemo struct {
	at    []int32  // node → offset in sets
	stamp []uint16 // 16 bits: a table of a word per graph node
	gen   uint16
	sets  []uint64
}

func (em *emitMemo) reset() {
	em.gen++
	if em.gen == 0 { // wrapped: forget every old stamp
		clear(em.stamp)
		em.gen = 1
	}
	em.sets = em.sets[:0]
}

// of returns node n's set of w words (valid until the next call).
func (em *emitMemo) of(n int32, w int) []uint64 {
	if int(n) >= len(em.stamp) {
		// A quarter more, not double: it holds a word per graph node.
		size := max(int(n)+1, len(em.stamp)+len(em.stamp)/4, 1024)
		em.at = append(em.at, make([]int32, size-len(em.at))...)
		em.stamp = append(em.stamp, make([]uint16, size-len(em.stamp))...)
	}
	if em.stamp[n] != em.gen {
		em.stamp[n], em.at[n] = em.gen, int32(len(em.sets))
		em.sets = append(em.sets, make([]uint64, w)...)
	}
	off := int(em.at[n])
	return em.sets[off : off+w]
}

func (h *mhooks) step(idx int, ins *dex.Instruction, sc *stepCtx) {
	r, s := sc.r, sc.s
	op := ins.Op
	setLabels := func(reg uint32) {
		for _, l := range h.lab[idx] {
			r.set(s, int(reg), l)
		}
	}
	switch {
	case op == dex.OpConstString || op == dex.OpConstStringJumbo:
		r.clear(s, ins.A)
		setLabels(ins.A)
	case op == dex.OpMoveException:
		r.clear(s, ins.A)
		setLabels(ins.A)
	case op == dex.OpNewInstance || op == dex.OpNewArray:
		if op == dex.OpNewInstance {
			if t, err := h.dx.Type(ins.Index); err == nil && h.e.p.classes[t] != nil && r.ok(ins.A) {
				s.ty[ins.A] = h.e.typeID(t)
			}
		}
		if ls := h.lab[idx]; len(ls) == 2 && r.ok(ins.A) {
			// A container made here: its own cell, and its keyed elements.
			setLabels(ins.A)
			s.org[ins.A] = r.labels[ls[0]] + 1
		}
	case op == dex.OpAputObject:
		if k, ok := r.konst(s, ins.C); ok && h.keyable(r, s, ins.B) {
			h.keyedWrite(r, s, s.org[ins.B]-1, strconv.FormatInt(k, 10), r.taint(s, ins.A))
			return
		}
		if r.ok(ins.B) {
			or(r.taint(s, ins.B), r.taint(s, ins.A))
			r.stored(s, ins.B, r.taint(s, ins.A))
		}
	case op == dex.OpAgetObject:
		if k, ok := r.konst(s, ins.C); ok && h.keyable(r, s, ins.B) && len(h.lab[idx]) == 1 {
			t := h.keyedRead(r, s, ins.B, strconv.FormatInt(k, 10), h.lab[idx][0])
			r.clear(s, ins.A)
			if r.ok(ins.A) {
				copy(r.taint(s, ins.A), t)
			}
		} else {
			r.assign(s, ins.A, ins.B)
		}
		// The element may itself be an array or container: what is stored
		// into it lands in the read's cell, which the outer array holds.
		if len(h.lab[idx]) == 1 && r.ok(ins.A) && r.ok(ins.B) {
			l := h.lab[idx][0]
			if ins.A != ins.B {
				r.set(s, int(ins.B), l)
			}
			r.set(s, int(ins.A), l)
			s.org[ins.A] = r.labels[l] + 1
		}
	case op == dex.OpReturn || op == dex.OpReturnObject || op == dex.OpReturnWide:
		if t := r.taint(s, ins.A); !empty(t) {
			h.out(t, h.node(nodeKey{kind: nRet, m: h.m.id}))
		}
	case op == dex.OpThrow:
		if t := r.taint(s, ins.A); !empty(t) {
			h.out(t, h.node(nodeKey{kind: nExc}))
		}
	case op >= dex.OpIget && op <= dex.OpIgetShort:
		obj := scratch(&r.acc, r.w)
		copy(obj, r.taint(s, ins.B))
		fi := h.e.field(h.dc, ins.Index)
		r.clear(s, ins.A)
		setLabels(ins.A)
		if fi != nil && fi.lib && r.ok(ins.A) {
			or(r.taint(s, ins.A), obj)
		}
		if op == dex.OpIgetWide {
			r.clear(s, ins.A+1)
		}
		if op == dex.OpIgetObject && fi != nil && fi.source == nil && r.ok(ins.A) {
			s.org[ins.A] = h.fieldNode(fi) + 1
		}
	case op >= dex.OpSget && op <= dex.OpSgetShort:
		r.clear(s, ins.A)
		setLabels(ins.A)
		if op == dex.OpSgetWide {
			r.clear(s, ins.A+1)
		}
		if op == dex.OpSgetObject && r.ok(ins.A) {
			if fi := h.e.field(h.dc, ins.Index); fi != nil && fi.source == nil {
				s.org[ins.A] = h.fieldNode(fi) + 1
			}
		}
	case op >= dex.OpIput && op <= dex.OpIputShort:
		t := r.taint(s, ins.A)
		if !empty(t) {
			if fi := h.e.field(h.dc, ins.Index); fi != nil {
				h.out(t, h.fieldNode(fi))
			}
			if r.ok(ins.B) && ins.A != ins.B {
				or(r.taint(s, ins.B), t)
				r.stored(s, ins.B, t)
			}
		}
	case op >= dex.OpSput && op <= dex.OpSputShort:
		if t := r.taint(s, ins.A); !empty(t) {
			if fi := h.e.field(h.dc, ins.Index); fi != nil {
				h.out(t, h.fieldNode(fi))
			}
		}
	case op.IsInvoke():
		h.invoke(idx, ins, r, s)
	}
}

func (h *mhooks) invoke(idx int, ins *dex.Instruction, r *run, s *state) {
	res := r.result(s)
	for i := range res {
		res[i] = 0
	}
	s.ty[r.nregs] = 0
	s.kk[r.nregs] = false
	ci := h.ci[idx]
	if rt := h.refl[idx]; rt != nil && ci != nil {
		h.reflectInvoke(idx, ins, r, s, ci, rt)
		return
	}
	if ci == nil {
		// invoke-custom (lambdas): the result may carry any argument.
		for _, a := range ins.Args {
			or(res, r.taint(s, a))
		}
		return
	}
	offs := h.dc.offs(ci)
	slot := func(i int) (uint32, bool) {
		if i >= len(offs) || int(offs[i]) >= len(ins.Args) {
			return 0, false
		}
		return ins.Args[offs[i]], true
	}
	if ci.bounded {
		// Random.nextInt(n) is in [0, n): branches on it may be decided.
		if reg, ok := slot(1); ok {
			if n, ok := r.konst(s, reg); ok && n > 0 {
				s.setRange(uint32(r.nregs), 0, n-1)
			}
		}
	}
	acc := scratch(&r.acc2, r.w)
	argsOnly := scratch(&r.acc3, r.w)
	for i := range offs {
		if reg, ok := slot(i); ok {
			or(acc, r.taint(s, reg))
			if i > 0 || ci.static {
				or(argsOnly, r.taint(s, reg))
			}
		}
	}
	if ci.sink != nil && !empty(acc) {
		h.out(acc, h.sinkNode(ins, ci.sink, ci.sink.Category, ci.ref.String()))
	}
	if ci.chanPut() != "" && !empty(argsOnly) {
		h.out(argsOnly, h.node(nodeKey{kind: nField, s: ci.chanPut()}))
	}
	if ci.chanGet() != "" && len(h.lab[idx]) == 1 {
		l := h.lab[idx][0]
		res[l/64] |= 1 << (l % 64)
		return
	}
	if (ci.keyRead || ci.keyWrite) && ci.sink == nil && ci.source == nil && ci.nTargets == 0 {
		if h.keyedInvoke(idx, ins, r, s, ci, slot) {
			return
		}
	}
	if ci.source != nil {
		for _, l := range h.lab[idx] {
			res[l/64] |= 1 << (l % 64)
		}
		return
	}
	if ci.nTargets > 0 {
		targets := h.dc.targets(ci)
		if !ci.static && ci.model != modelAsyncExec {
			if reg, ok := slot(0); ok && r.ok(reg) && s.ty[reg] != 0 {
				if t := h.e.resolveKnown(ci, ins.Op, s.ty[reg]); len(t) > 0 {
					targets = t
				}
			}
		}
		for _, t := range targets {
			if ci.model == modelAsyncExec {
				// execute(args...) → doInBackground(args...)
				if !empty(argsOnly) {
					h.out(argsOnly, h.node(nodeKey{kind: nParam, m: t.id, i: 1}))
				}
				continue
			}
			for i := range offs {
				if reg, ok := slot(i); ok {
					if tt := r.taint(s, reg); !empty(tt) {
						h.out(tt, h.node(nodeKey{kind: nParam, m: t.id, i: int32(i)}))
					}
				}
			}
			if l, ok := r.byNode.get(h.node(nodeKey{kind: nRet, m: t.id})); ok {
				res[l/64] |= 1 << (l % 64)
			}
		}
		if len(targets) == 1 {
			if v, ok := h.e.constRet(targets[0]); ok {
				s.setK(uint32(r.nregs), v)
			}
		}
		// A factory returning a new object of one class: later calls on
		// the result dispatch to that class only.
		rt := int32(0)
		for i, t := range targets {
			x := h.e.retType(t)
			if x == 0 || (i > 0 && x != rt) {
				rt = 0
				break
			}
			rt = x
		}
		s.ty[r.nregs] = rt
		return
	}
	if ci.link {
		// The wrapper's writes go to a cell the wrapped object reads from.
		recv, ok1 := slot(0)
		inner, ok2 := slot(1)
		if ok1 && ok2 && r.ok(recv) && r.ok(inner) && len(h.lab[idx]) == 1 {
			l := h.lab[idx][0]
			r.set(s, int(inner), l)
			s.org[recv] = r.labels[l] + 1
		}
	}
	if ci.native() != nil && !empty(argsOnly) {
		h.out(argsOnly, h.sinkNode(ins, nil, "native", ci.ref.String()))
	}
	switch ci.model {
	case modelExtrasPut:
		k, ok := h.consts.keys[idx]
		key := ""
		if ok {
			key = "=" + k
		}
		n := h.node(nodeKey{kind: nExtra, s: key})
		h.e.g.edge(n, h.node(nodeKey{kind: nExtra, s: "*"}))
		if !empty(argsOnly) {
			h.out(argsOnly, n)
		}
	case modelExtrasGet:
		for _, l := range h.lab[idx] {
			res[l/64] |= 1 << (l % 64)
		}
		if reg, ok := slot(0); ok {
			or(res, r.taint(s, reg))
		}
		return
	case modelCopyInto:
		recv, ok1 := slot(0)
		dst, ok2 := slot(3)
		if ok1 && ok2 && r.ok(dst) {
			t := r.taint(s, recv)
			or(r.taint(s, dst), t)
			r.stored(s, dst, t)
		}
		return
	case modelArrayCopy:
		src, ok1 := slot(0)
		dst, ok2 := slot(2)
		if ok1 && ok2 && r.ok(dst) {
			or(r.taint(s, dst), r.taint(s, src))
			r.stored(s, dst, r.taint(s, src))
		}
		return
	case modelReflectInvoke:
		copy(res, acc)
		obj, ok1 := slot(1)
		args, ok2 := slot(2)
		if ok1 && ok2 && r.ok(obj) && r.ok(args) {
			if at := r.taint(s, args); !empty(at) {
				or(r.taint(s, obj), at)
				r.stored(s, obj, at)
			}
		}
	case modelNoPropagate:
		// A comparison or a size of tainted data says something about it:
		// only through the implicit cell.
		if ret := descRet(ci.ref.Descriptor); r.implLabel >= 0 && !empty(acc) && ret != "" && ret != "V" && !strings.HasPrefix(ret, "L") && !strings.HasPrefix(ret, "[") {
			h.out(acc, r.labels[r.implLabel])
			res[r.implLabel/64] |= 1 << (r.implLabel % 64)
		}
	default:
		copy(res, acc)
	}
	if ci.mutates && !ci.static && !empty(argsOnly) {
		if reg, ok := slot(0); ok && r.ok(reg) {
			or(r.taint(s, reg), argsOnly)
			r.stored(s, reg, argsOnly)
		}
	}
}

// sinkNode returns the node of a sink call site, recording the site.
func (h *mhooks) sinkNode(ins *dex.Instruction, x *signatures.APIEntry, category, api string) int32 {
	n := h.node(nodeKey{kind: nSink, m: h.m.id, i: int32(ins.PC)})
	if _, ok := h.e.g.sink[n]; !ok {
		ss := &sinkSite{entry: x, category: category, m: h.m, pc: ins.PC, off: h.r.code.InsnsOff + int64(ins.PC)*2, api: api}
		if ins.PC >= 0 && ins.PC < len(h.r.at) && h.r.at[ins.PC] >= 0 {
			ss.endpoints = h.consts.endpoints[int(h.r.at[ins.PC])]
		}
		h.e.g.sink[n] = ss
	}
	return n
}

// constRetMemo is what constRet found for a method.
type constRetMemo struct {
	v         int64
	ok, known bool
}

// constRet returns the constant a small method always returns
// ("int foo() { return 42; }"), so branches on it can be decided.
func (e *engine) constRet(m *method) (int64, bool) {
	if v := e.constRets[m.id]; v.known {
		return v.v, v.ok
	}
	var res constRetMemo
	defer func() { res.known = true; e.constRets[m.id] = res }()
	code, err := m.cls.dex.File.Code(m.encoded())
	if err != nil || code == nil || len(code.Insns) > 16 {
		return 0, false
	}
	regs := map[uint32]int64{}
	var ins dex.Instruction
	for pc := 0; pc < len(code.Insns); {
		w, err := dex.DecodeInto(&ins, code.Insns, pc)
		if err != nil || w <= 0 {
			return 0, false
		}
		switch {
		case ins.Op >= dex.OpConst4 && ins.Op <= dex.OpConstHigh16:
			regs[ins.A] = ins.Literal
		case ins.Op >= dex.OpAddIntLit16 && ins.Op <= dex.OpUshrIntLit8:
			a, ok := regs[ins.B]
			v, ok2 := litArith(ins.Op, a, ins.Literal)
			if !ok || !ok2 {
				return 0, false
			}
			regs[ins.A] = v
		case ins.Op >= dex.OpAddInt && ins.Op <= dex.OpUshrInt, ins.Op >= dex.OpAddInt2addr && ins.Op <= dex.OpUshrInt2addr:
			b, c, d := ins.B, ins.C, ins.Op-dex.OpAddInt
			if ins.Op >= dex.OpAddInt2addr {
				b, c, d = ins.A, ins.B, ins.Op-dex.OpAddInt2addr
			}
			x, ok1 := regs[b]
			y, ok2 := regs[c]
			v, ok3 := arith(d, x, y)
			if !ok1 || !ok2 || !ok3 {
				return 0, false
			}
			regs[ins.A] = v
		case ins.Op == dex.OpReturn:
			v, ok := regs[ins.A]
			if !ok || (res.ok && res.v != v) {
				res.ok = false
				return 0, false
			}
			res.v, res.ok = v, true
		case ins.Op == dex.OpNop:
		default:
			res.ok = false
			return 0, false
		}
		pc += w
	}
	return res.v, res.ok
}

// reflTarget is what a reflective call resolved by the constant pass runs:
// app methods (call edges), or a catalogued framework source or sink.
type reflTarget struct {
	targets      []*method
	source, sink *signatures.APIEntry
	api          string
	instance     int32 // Class/Constructor.newInstance: the app class created (type id), else 0
}

// reflectTarget resolves a reflective call: the app methods of that name
// (and parameter count, when known) on the class, its app superclasses and
// subclasses, else the catalogue entry of the framework method. nil when
// nothing is known of it.
func (e *engine) reflectTarget(rc reflCall) *reflTarget {
	if rt, ok := e.reflTargets[rc]; ok {
		return rt
	}
	rt := &reflTarget{api: rc.class + "->" + rc.name + " (called through reflection)"}
	if e.p.classes[rc.class] != nil {
		seen := map[int32]bool{}
		add := func(c *class) {
			for _, m := range c.list {
				if m.ref.Name != rc.name || m.codeOff == 0 || seen[m.id] || len(rt.targets) >= maxDispatch {
					continue
				}
				if ps, _ := splitDesc(m.ref.Descriptor); rc.nargs >= 0 && len(ps) != rc.nargs {
					continue
				}
				seen[m.id] = true
				rt.targets = append(rt.targets, m)
			}
		}
		for cls, i := rc.class, 0; i < 64 && e.p.classes[cls] != nil; i++ {
			add(e.p.classes[cls])
			if rc.name == "<init>" {
				break
			}
			cls = e.p.classes[cls].super
		}
		if rc.name != "<init>" {
			for _, c := range e.p.subtypesOf(rc.class) {
				add(c)
			}
		} else {
			rt.instance = e.typeID(rc.class)
		}
	}
	if len(rt.targets) == 0 && rc.name != "<init>" {
		if x := e.catalogue(rc.class, rc.name); x != nil {
			switch {
			case x.IsSource():
				rt.source = x
			case !x.IsMarker():
				rt.sink = x
			}
		}
	}
	if len(rt.targets) == 0 && rt.source == nil && rt.sink == nil && rt.instance == 0 {
		rt = nil
	}
	if len(e.reflTargets) < 4096 {
		e.reflTargets[rc] = rt
	}
	return rt
}

// reflectInvoke runs a resolved reflective call: Method.invoke(obj, args)
// passes obj as the receiver and the argument array to every parameter;
// Constructor.newInstance(args) does the same for a new object.
func (h *mhooks) reflectInvoke(idx int, ins *dex.Instruction, r *run, s *state, ci *callInfo, rt *reflTarget) {
	res := r.result(s)
	slot := func(i int) []uint64 {
		offs := h.dc.offs(ci)
		if i >= len(offs) || int(offs[i]) >= len(ins.Args) {
			return nil
		}
		return r.taint(s, ins.Args[offs[i]])
	}
	var recv, arr []uint64
	switch ci.ref.Name {
	case "invoke":
		recv, arr = slot(1), slot(2)
	case "newInstance":
		arr = slot(1)
	}
	if rt.sink != nil {
		acc := make([]uint64, r.w)
		if recv != nil {
			or(acc, recv)
		}
		if arr != nil {
			or(acc, arr)
		}
		if !empty(acc) {
			h.out(acc, h.sinkNode(ins, rt.sink, rt.sink.Category, rt.api))
		}
	}
	for _, l := range h.lab[idx] {
		res[l/64] |= 1 << (l % 64)
	}
	for _, t := range rt.targets {
		ps, _ := splitDesc(t.ref.Descriptor)
		first := int32(0)
		if !t.static() {
			first = 1
			if !empty(recv) {
				h.out(recv, h.node(nodeKey{kind: nParam, m: t.id, i: 0}))
			}
		}
		if !empty(arr) {
			for i := range ps {
				h.out(arr, h.node(nodeKey{kind: nParam, m: t.id, i: first + int32(i)}))
			}
		}
	}
	if rt.instance != 0 {
		s.ty[r.nregs] = rt.instance
	}
}

// retType returns the exact class (type id) a small straight-line method
// always returns as a new object ("return new B()"), 0 when unknown.
func (e *engine) retType(m *method) int32 {
	if v := e.retTypes[m.id]; v != 0 {
		return v - 1
	}
	res := int32(0)
	defer func() { e.retTypes[m.id] = res + 1 }()
	code, err := m.cls.dex.File.Code(m.encoded())
	if err != nil || code == nil || len(code.Insns) > 32 {
		return 0
	}
	regs := map[uint32]string{}
	var ins dex.Instruction
	found := ""
	for pc := 0; pc < len(code.Insns); {
		w, err := dex.DecodeInto(&ins, code.Insns, pc)
		if err != nil || w <= 0 {
			return 0
		}
		op := ins.Op
		switch {
		case op.IsBranch() || op.IsSwitch() || op == dex.OpGoto || op == dex.OpGoto16 || op == dex.OpGoto32 || op == dex.OpThrow:
			return 0
		case op == dex.OpNewInstance:
			t, err := m.cls.dex.File.Type(ins.Index)
			if err != nil || e.p.classes[t] == nil {
				return 0
			}
			regs[ins.A] = t
		case op >= dex.OpMove && op <= dex.OpMoveObject16:
			regs[ins.A] = regs[ins.B]
		case op == dex.OpReturnObject:
			t := regs[ins.A]
			if t == "" || (found != "" && found != t) {
				return 0
			}
			found = t
		case op.IsReturn():
			return 0
		default:
			if f := op.Format(); f != "" && f != "10x" && !strings.HasPrefix(f, "3") {
				delete(regs, ins.A)
			}
		}
		pc += w
	}
	if found != "" {
		res = e.typeID(found)
	}
	return res
}

// keyable says whether the container in reg has a cell whose keyed
// elements its register sees: the register carries the cell's "all
// elements" label (or, for an element read from an outer array, the read's
// own label, which the elements reach). Otherwise a keyed write would be
// lost to whoever reads the container whole, so it is not kept apart.
func (h *mhooks) keyable(r *run, s *state, reg uint32) bool {
	if !r.ok(reg) || s.org[reg] == 0 || r.folded {
		return false
	}
	node := s.org[reg] - 1
	if h.e.g.keys[node].kind != nRead {
		var ok bool
		if node, ok = h.e.g.lookup(nodeKey{kind: nAll, i: node}); !ok {
			return false
		}
	}
	l, ok := r.byNode.get(node)
	if !ok {
		return false
	}
	t := r.taint(s, reg)
	return t[l/64]&(1<<(l%64)) != 0
}

// keyedWrite stores t at a constant key of the container whose cell is
// node: the element's own cell, which the container's "all elements" cell
// also sees. The container's register is not tainted, so reads of other
// keys stay clean.
func (h *mhooks) keyedWrite(r *run, s *state, node int32, key string, t []uint64) {
	if empty(t) {
		return
	}
	el := h.node(nodeKey{kind: nElem, i: node, s: key})
	all := h.node(nodeKey{kind: nAll, i: node})
	h.e.g.edge(el, all)
	if h.e.g.keys[node].kind == nRead {
		// An element read from an outer array: the outer array holds it.
		h.e.g.edge(all, node)
	}
	h.out(t, el)
}

// keyedRead returns the taint of the element at a constant key of the
// container in reg: what the container holds apart from its keyed
// elements, plus the element at that key (through the read's own label).
func (h *mhooks) keyedRead(r *run, s *state, reg uint32, key string, readLabel int) []uint64 {
	node := s.org[reg] - 1
	t := append([]uint64(nil), r.taint(s, reg)...)
	if l, ok := r.byNode.get(h.node(nodeKey{kind: nAll, i: node})); ok && !r.folded {
		t[l/64] &^= 1 << (l % 64)
	}
	h.e.g.edge(h.node(nodeKey{kind: nElem, i: node, s: key}), r.labels[readLabel])
	t[readLabel/64] |= 1 << (readLabel % 64)
	return t
}

// keyedInvoke runs List.get/set and Map.get/put with a constant key on a
// container with a known cell; false when the key or the cell is unknown.
func (h *mhooks) keyedInvoke(idx int, ins *dex.Instruction, r *run, s *state, ci *callInfo, slot func(int) (uint32, bool)) bool {
	recv, ok := slot(0)
	if !ok || !h.keyable(r, s, recv) {
		return false
	}
	var key string
	if ci.stringKey {
		k, ok := h.consts.keys[idx]
		if !ok {
			return false
		}
		key = "=" + k
	} else {
		reg, ok := slot(1)
		if !ok {
			return false
		}
		k, ok := r.konst(s, reg)
		if !ok {
			return false
		}
		key = strconv.FormatInt(k, 10)
	}
	res := r.result(s)
	if ci.keyWrite {
		if v, ok := slot(2); ok {
			h.keyedWrite(r, s, s.org[recv]-1, key, r.taint(s, v))
		}
		return true
	}
	if len(h.lab[idx]) != 1 {
		return false
	}
	copy(res, h.keyedRead(r, s, recv, key, h.lab[idx][0]))
	return true
}

// channelNames are the method names of channelPuts and channelGets: a
// call of another name puts to and gets from no channel.
var channelNames = func() map[string]bool {
	names := map[string]bool{}
	for _, m := range []map[string]string{channelPuts, channelGets} {
		for k := range m {
			if _, n, ok := strings.Cut(k, "->"); ok {
				names[n] = true
			}
		}
	}
	return names
}()

// channel names the framework queue a call puts to or gets from (see
// channelPuts), also when it is called through an app subclass.
func (e *engine) channel(ref dex.MethodRef) (put, get string) {
	if !channelNames[ref.Name] {
		return "", ""
	}
	look := func(cls string) bool {
		k := cls + "->" + ref.Name
		put, get = channelPuts[k], channelGets[k]
		return put != "" || get != ""
	}
	if look(ref.Class) || e.p.classes[ref.Class] == nil {
		return put, get
	}
	for _, a := range e.p.libraryAncestors(ref.Class) {
		if look(a) {
			break
		}
	}
	return put, get
}

// channelCallback names the channel delivering to parameter i of an app
// method that overrides a framework callback (handleMessage(Message)).
func (e *engine) channelCallback(m *method, i int) string {
	if i != 0 || m.static() {
		return ""
	}
	d := m.ref.Descriptor
	if j := strings.IndexByte(d, ')'); j >= 0 {
		d = d[:j+1]
	}
	ch := channelCallbacks[m.ref.Name+d]
	if ch == "" || len(e.p.libraryAncestors(m.cls.name)) == 0 {
		return ""
	}
	return ch
}
