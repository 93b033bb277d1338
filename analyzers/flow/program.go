package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/internal/dex"
)

// maxDispatch bounds how many app methods one virtual call may reach, so a
// call on a hot interface in a huge app does not fan out without end.
const maxDispatch = 32

// class is an app class: defined in one of the app's DEX files.
type class struct {
	name, super string
	ifaces      []string
	dex         *analyzers.Dex
	// list holds the methods in declaration order: whatever iterates
	// over them must not follow map order (the result would change from
	// run to run).
	list []*method
	// byName indexes list by name and descriptor when it is long (nil
	// otherwise: a map per class cost more than a scan of a few).
	byName    map[sig]*method
	fields    []string // field names declared here
	disabled  bool     // a manifest component with enabled="false"
	component bool     // declared in the manifest
	// ctx is the engine's contextMask (once ctxKnown); enter says whether
	// the class's methods may be entry points (0: not worked out yet, 1:
	// yes, -1: no).
	ctx      uint8
	ctxKnown bool
	enter    int8
}

// sig names a method within its class: name and descriptor (a key that
// needs no concatenation).
type sig struct{ name, desc string }

// methodScan is the method count up to which a class's methods are
// looked up in its list rather than indexed.
const methodScan = 32

// method returns the class's method of that name and descriptor, if any.
func (c *class) method(k sig) *method {
	if c.byName != nil {
		return c.byName[k]
	}
	for _, m := range c.list {
		if m.ref.Name == k.name && m.ref.Descriptor == k.desc {
			return m
		}
	}
	return nil
}

// add appends m to the class's methods, indexing them once they are many.
func (c *class) add(m *method) {
	c.list = append(c.list, m)
	switch {
	case c.byName != nil:
		c.byName[sig{m.ref.Name, m.ref.Descriptor}] = m
	case len(c.list) > methodScan:
		c.byName = make(map[sig]*method, cap(c.list))
		for _, x := range c.list {
			c.byName[sig{x.ref.Name, x.ref.Descriptor}] = x
		}
	}
}

// method is an app method, with or without code.
type method struct {
	cls     *class
	ref     methodName // its class is cls.name
	id      int32
	access  uint32
	codeOff uint32 // 0: no code (abstract or native)
}

// methodName is a method's name and descriptor.
type methodName struct{ Name, Descriptor string }

// encoded returns the method as the DEX reader takes it to read its code.
func (m *method) encoded() *dex.EncodedMethod {
	ref := dex.MethodRef{Class: m.cls.name, Name: m.ref.Name, Descriptor: m.ref.Descriptor}
	return &dex.EncodedMethod{Ref: ref, Access: m.access, CodeOff: m.codeOff}
}

func (m *method) static() bool { return m.access&dex.AccStatic != 0 }

// key is "Lcls;->name(desc)ret".
func (m *method) String() string { return m.cls.name + "->" + m.ref.Name + m.ref.Descriptor }

// short names the method for paths: "Cls.name".
func (m *method) short() string { return shortMethod(m.cls.name, m.ref.Name) }

func shortMethod(cls, name string) string {
	c := strings.TrimSuffix(strings.TrimPrefix(cls, "L"), ";")
	if i := strings.LastIndexByte(c, '/'); i >= 0 {
		c = c[i+1:]
	}
	return c + "." + name
}

// program is the app's classes and methods across its DEX files.
type program struct {
	classes  map[string]*class
	order    []*class // classes in load order
	methods  []*method
	children map[string][]*class // type → app classes naming it as super or interface
	subtypes map[string][]*class // memo of the transitive closure
	// Memo of libraryAncestors (by class): asked for each method and call
	// site, answered by walking the hierarchy through map lookups.
	ancestors map[string][]string
	errs      []error
}

// load reads every class of every DEX; the first definition of a class wins,
// as on Android.
// load reads the app's classes. Classes for which skip says true (common
// libraries: androidx, Play services, ...) are left out and their methods
// modelled like framework calls: that keeps big apps fast, and a library's
// own traffic is what the tracker analyzer reports.
func load(ctx context.Context, app *analyzers.App, b *budget, skip func(class string) bool) *program {
	p := &program{classes: map[string]*class{}, children: map[string][]*class{}, subtypes: map[string][]*class{},
		ancestors: map[string][]string{}}
	for _, d := range app.Dex {
		f := d.File
		for ci := 0; ci < f.NumClasses(); ci++ {
			if ci%128 == 0 && (ctx.Err() != nil || b.over()) {
				return p
			}
			c, err := d.Class(ci)
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("flow: class %d of %s: %w", ci, d.Loc, err))
				continue
			}
			if _, dup := p.classes[c.Name]; dup {
				continue
			}
			if skip != nil && skip(c.Name) {
				continue
			}
			cl := &class{name: c.Name, super: c.Super, ifaces: c.Interfaces, dex: d}
			if n := len(c.StaticFields) + len(c.InstanceFields); n > 0 {
				cl.fields = make([]string, 0, n)
				for _, fl := range c.StaticFields {
					cl.fields = append(cl.fields, fl.Field.Name)
				}
				for _, fl := range c.InstanceFields {
					cl.fields = append(cl.fields, fl.Field.Name)
				}
			}
			if len(c.Methods) > 0 {
				cl.list = make([]*method, 0, len(c.Methods))
			}
			// One allocation for the class's methods (the array never
			// grows, so the pointers into it stay valid).
			slab := make([]method, 0, len(c.Methods))
			for i := range c.Methods {
				em := &c.Methods[i]
				if cl.method(sig{em.Ref.Name, em.Ref.Descriptor}) != nil {
					continue
				}
				slab = append(slab, method{id: int32(len(p.methods)), cls: cl, ref: methodName{em.Ref.Name, em.Ref.Descriptor}, access: em.Access, codeOff: em.CodeOff})
				m := &slab[len(slab)-1]
				cl.add(m)
				p.methods = append(p.methods, m)
			}
			p.classes[c.Name] = cl
			p.order = append(p.order, cl)
			if c.Super != "" {
				p.children[c.Super] = append(p.children[c.Super], cl)
			}
			for _, it := range c.Interfaces {
				p.children[it] = append(p.children[it], cl)
			}
		}
	}
	return p
}

// lookup finds name+desc in cls or its app superclasses. It stops at the
// first class outside the app (the method is then the framework's).
func (p *program) lookup(cls string, nameDesc sig) *method {
	for i := 0; i < 64 && cls != ""; i++ {
		c := p.classes[cls]
		if c == nil {
			return nil
		}
		if m := c.method(nameDesc); m != nil {
			return m
		}
		cls = c.super
	}
	return nil
}

// libraryAncestors lists the first non-app types above cls: its framework
// superclass and the framework interfaces of it and its app ancestors.
// The list is shared: callers must not change it.
func (p *program) libraryAncestors(cls string) []string {
	if out, ok := p.ancestors[cls]; ok {
		return out
	}
	out := p.walkAncestors(cls)
	p.ancestors[cls] = out
	return out
}

func (p *program) walkAncestors(cls string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(t string, depth int)
	walk = func(t string, depth int) {
		if t == "" || seen[t] || depth > 32 || len(seen) > 256 {
			return
		}
		seen[t] = true
		c := p.classes[t]
		if c == nil {
			out = append(out, t)
			return
		}
		walk(c.super, depth+1)
		for _, it := range c.ifaces {
			walk(it, depth+1)
		}
	}
	walk(cls, 0)
	return out
}

// subtypesOf lists the app classes below t (app or framework type),
// transitively, t itself excluded. Hostile inheritance cycles end.
func (p *program) subtypesOf(t string) []*class {
	if s, ok := p.subtypes[t]; ok {
		return s
	}
	var out []*class
	seen := map[string]bool{t: true}
	stack := []string{t}
	for len(stack) > 0 && len(out) < 4096 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range p.children[x] {
			if seen[c.name] {
				continue
			}
			seen[c.name] = true
			out = append(out, c)
			stack = append(stack, c.name)
		}
	}
	p.subtypes[t] = out
	return out
}

// isSubtype says whether app class cls has t among its ancestors. It is
// asked once per class and base (the answers are kept on the class).
func (p *program) isSubtype(cls, t string) bool { return p.walkSubtype(cls, t) }

func (p *program) walkSubtype(cls, t string) bool {
	seen := map[string]bool{}
	var walk func(x string, depth int) bool
	walk = func(x string, depth int) bool {
		if x == t {
			return true
		}
		if x == "" || seen[x] || depth > 32 {
			return false
		}
		seen[x] = true
		c := p.classes[x]
		if c == nil {
			return false
		}
		if walk(c.super, depth+1) {
			return true
		}
		for _, it := range c.ifaces {
			if walk(it, depth+1) {
				return true
			}
		}
		return false
	}
	return walk(cls, 0)
}

// resolve finds the app methods an invoke may run. known is the receiver's
// exact class when the analysis knows it ("" otherwise).
func (p *program) resolve(op dex.Opcode, ref dex.MethodRef, known string) []*method {
	nd := sig{ref.Name, ref.Descriptor}
	switch op {
	case dex.OpInvokeStatic, dex.OpInvokeStaticRange, dex.OpInvokeDirect, dex.OpInvokeDirectRange, dex.OpInvokeSuper, dex.OpInvokeSuperRange:
		if m := p.lookup(ref.Class, nd); m != nil && m.codeOff != 0 {
			return []*method{m}
		}
		return nil
	}
	if known != "" && p.classes[known] != nil {
		if m := p.lookup(known, nd); m != nil && m.codeOff != 0 {
			return []*method{m}
		}
	}
	var out []*method
	add := func(m *method) {
		// out holds maxDispatch methods at most: a scan finds repeats.
		if m != nil && m.codeOff != 0 && len(out) < maxDispatch && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	add(p.lookup(ref.Class, nd))
	for _, c := range p.subtypesOf(ref.Class) {
		add(c.method(nd))
		if len(out) >= maxDispatch {
			break
		}
	}
	return out
}

// resolveField names the app class declaring a field referenced through
// cls (a subclass may name an inherited field); framework fields keep cls.
func (p *program) resolveField(ref dex.FieldRef) string {
	cls := ref.Class
	for i := 0; i < 64; i++ {
		c := p.classes[cls]
		if c == nil {
			break
		}
		if slices.Contains(c.fields, ref.Name) {
			return cls + "->" + ref.Name
		}
		cls = c.super
	}
	return ref.Class + "->" + ref.Name
}

// splitDesc splits a method descriptor into parameter types and return type.
// A malformed descriptor yields what could be read.
func splitDesc(desc string) (params []string, ret string) {
	end := strings.IndexByte(desc, ')')
	if !strings.HasPrefix(desc, "(") || end < 0 {
		return nil, ""
	}
	return splitParams(nil, desc), desc[end+1:]
}

// descRet returns the return type of a method descriptor ("" when
// malformed), as splitDesc does.
func descRet(desc string) string {
	end := strings.IndexByte(desc, ')')
	if !strings.HasPrefix(desc, "(") || end < 0 {
		return ""
	}
	return desc[end+1:]
}

// splitParams appends the parameter types of a method descriptor to
// params (what could be read of a malformed one).
func splitParams(params []string, desc string) []string {
	if !strings.HasPrefix(desc, "(") {
		return params
	}
	end := strings.IndexByte(desc, ')')
	if end < 0 {
		return params
	}
	s := desc[1:end]
	for n := 0; len(s) > 0 && n < 256; n++ {
		i := 0
		for i < len(s) && s[i] == '[' {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == 'L' {
			j := strings.IndexByte(s[i:], ';')
			if j < 0 {
				break
			}
			i += j
		}
		params = append(params, s[:i+1])
		s = s[i+1:]
	}
	return params
}

// wide says whether a type takes two registers.
func wide(t string) bool { return t == "J" || t == "D" }
