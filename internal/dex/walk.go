package dex

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/romscan/romscan/extract"
)

// CallSite is an invoke instruction that names a method (invoke-virtual,
// -super, -direct, -static, -interface, their /range forms, and
// invoke-polymorphic; invoke-custom names a call site and is not reported).
type CallSite struct {
	Caller      MethodRef // the method holding the instruction
	CallerIndex uint32
	Target      MethodRef // the invoked method
	TargetIndex uint32
	Op          Opcode
	PC          int   // code unit of the instruction in the caller
	Offset      int64 // file offset of the instruction
}

// StringUse is a const-string or const-string/jumbo instruction.
type StringUse struct {
	Caller      MethodRef
	CallerIndex uint32
	String      string
	StringIndex uint32
	PC          int
	Offset      int64
}

// FieldUse is an instance or static field access (iget*, iput*, sget*, sput*).
type FieldUse struct {
	Caller      MethodRef
	CallerIndex uint32
	Field       FieldRef
	FieldIndex  uint32
	Op          Opcode
	PC          int
	Offset      int64
}

// Visitor receives what Walk finds; nil members are skipped. Returning an
// error stops the walk with that error.
type Visitor struct {
	Call   func(CallSite) error
	String func(StringUse) error
	Field  func(FieldUse) error
}

// CallSites calls fn for every invoke that names a method, in every method
// with code, in class definition order.
func (f *File) CallSites(ctx context.Context, fn func(CallSite) error) error {
	return f.Walk(ctx, Visitor{Call: fn})
}

// StringUses calls fn for every const-string and const-string/jumbo, in every
// method with code, in class definition order.
func (f *File) StringUses(ctx context.Context, fn func(StringUse) error) error {
	return f.Walk(ctx, Visitor{String: fn})
}

// WalkError reports the corrupt parts a Walk skipped. It wraps the first
// problem (which wraps extract.ErrCorrupt).
type WalkError struct {
	Count int   // problems found
	First error // the first one
}

func (e *WalkError) Error() string {
	if e.Count == 1 {
		return e.First.Error()
	}
	return fmt.Sprintf("%v (and %d more problems)", e.First, e.Count-1)
}

func (e *WalkError) Unwrap() error { return e.First }

// Walk decodes every method with code, in class definition order, and reports
// call sites, string uses and field uses to v in instruction order. A corrupt
// class or method is skipped and the walk goes on; the problems are returned
// as a *WalkError at the end. It reuses its buffers and resolves each method,
// field and string once (through the File's caches), so it allocates little.
func (f *File) Walk(ctx context.Context, v Visitor) error {
	w := walker{f: f, v: v}
	for ci := range int(f.classDefs.count) {
		if ci%32 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := w.class(ci); err != nil {
			return err
		}
	}
	if w.problems > 0 {
		return &WalkError{Count: w.problems, First: w.first}
	}
	return nil
}

type walker struct {
	f        *File
	v        Visitor
	members  []walkMember
	buf      []byte
	problems int
	first    error
}

type walkMember struct{ idx, codeOff uint32 }

func (w *walker) problem(err error) {
	if w.problems == 0 {
		w.first = err
	}
	w.problems++
}

// class walks class definition ci; only an error from the visitor is returned.
func (w *walker) class(ci int) error {
	f := w.f
	f.mu.Lock()
	d, err := f.classDef(ci)
	w.members = w.members[:0]
	if err == nil && d.data != 0 {
		err = f.classData(d.data, nil, func(kind memberKind, idx, _, codeOff uint32) error {
			if kind >= directMethod && codeOff != 0 {
				w.members = append(w.members, walkMember{idx, codeOff})
			}
			return nil
		})
	}
	f.mu.Unlock()
	if err != nil {
		w.problem(fmt.Errorf("dex: class_def %d: %w", ci, err))
	}
	for _, m := range w.members {
		if err := w.method(m); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) method(m walkMember) error {
	f := w.f
	f.mu.Lock()
	h, err := f.codeHeader(m.codeOff)
	var code []byte
	if err == nil {
		code, err = f.src.view(h.insnsOff, 2*int(h.insnsSize), w.buf)
		if err == nil && f.src.data == nil {
			w.buf = code
		}
	}
	f.mu.Unlock()
	if err != nil {
		w.problem(fmt.Errorf("dex: method %d: %w", m.idx, err))
		return nil
	}
	var caller MethodRef
	haveCaller := false
	resolveCaller := func() error {
		if haveCaller {
			return nil
		}
		f.mu.Lock()
		r, err := f.method(m.idx)
		f.mu.Unlock()
		caller, haveCaller = r, err == nil
		return err
	}
	le := binary.LittleEndian
	n := len(code) / 2
	for pc := 0; pc < n; {
		u := le.Uint16(code[2*pc:])
		op := Opcode(u & 0xff)
		width := int(walkWidth[op])
		if op == OpNop && u >= PackedSwitchPayload && u <= FillArrayDataPayload && u&0xff == 0 {
			width = payloadWidthBytes(code, pc)
		}
		if width == 0 || pc+width > n {
			w.problem(fmt.Errorf("dex: method %d: bad or truncated instruction %#04x at pc %#x: %w", m.idx, u, pc, extract.ErrCorrupt))
			return nil
		}
		switch kind := opTable[op].kind; {
		case kind == IndexMethod && w.v.Call != nil:
			idx := uint32(le.Uint16(code[2*pc+2:]))
			if err := resolveCaller(); err != nil {
				w.problem(err)
				return nil
			}
			f.mu.Lock()
			target, err := f.method(idx)
			f.mu.Unlock()
			if err != nil {
				w.problem(fmt.Errorf("dex: %s pc %#x: %w", caller, pc, err))
				break
			}
			if err := w.v.Call(CallSite{Caller: caller, CallerIndex: m.idx, Target: target, TargetIndex: idx,
				Op: op, PC: pc, Offset: h.insnsOff + 2*int64(pc)}); err != nil {
				return err
			}
		case kind == IndexString && w.v.String != nil:
			idx := uint32(le.Uint16(code[2*pc+2:]))
			if op == OpConstStringJumbo {
				idx = le.Uint32(code[2*pc+2:])
			}
			if err := resolveCaller(); err != nil {
				w.problem(err)
				return nil
			}
			f.mu.Lock()
			s, err := f.str(idx)
			f.mu.Unlock()
			if err != nil {
				w.problem(fmt.Errorf("dex: %s pc %#x: %w", caller, pc, err))
				break
			}
			if err := w.v.String(StringUse{Caller: caller, CallerIndex: m.idx, String: s, StringIndex: idx,
				PC: pc, Offset: h.insnsOff + 2*int64(pc)}); err != nil {
				return err
			}
		case kind == IndexField && w.v.Field != nil:
			idx := uint32(le.Uint16(code[2*pc+2:]))
			if err := resolveCaller(); err != nil {
				w.problem(err)
				return nil
			}
			f.mu.Lock()
			fr, err := f.field(idx)
			f.mu.Unlock()
			if err != nil {
				w.problem(fmt.Errorf("dex: %s pc %#x: %w", caller, pc, err))
				break
			}
			if err := w.v.Field(FieldUse{Caller: caller, CallerIndex: m.idx, Field: fr, FieldIndex: idx,
				Op: op, PC: pc, Offset: h.insnsOff + 2*int64(pc)}); err != nil {
				return err
			}
		}
		pc += width
	}
	return nil
}
