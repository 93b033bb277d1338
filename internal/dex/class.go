package dex

import (
	"encoding/binary"
	"fmt"

	"github.com/romscan/romscan/extract"
)

// Access flags of classes, fields and methods.
const (
	AccPublic       = 0x1
	AccPrivate      = 0x2
	AccProtected    = 0x4
	AccStatic       = 0x8
	AccFinal        = 0x10
	AccSynchronized = 0x20
	AccNative       = 0x100
	AccInterface    = 0x200
	AccAbstract     = 0x400
	AccSynthetic    = 0x1000
	AccConstructor  = 0x10000
)

// Class is a class definition with its decoded class data.
type Class struct {
	Name, Super  string // type descriptors; Super is "" for java.lang.Object
	Interfaces   []string
	Access       uint32
	SourceFile   string // "" when absent
	StaticFields []EncodedField
	// InstanceFields are the fields of each instance.
	InstanceFields []EncodedField
	// Methods are the direct methods, then the virtual methods.
	Methods []EncodedMethod
	// ClassDataOff is the file offset of the class data (0 when none).
	ClassDataOff uint32
}

// EncodedField is a field defined by a class.
type EncodedField struct {
	Field  FieldRef
	Index  uint32 // field_ids index
	Access uint32
}

// EncodedMethod is a method defined by a class.
type EncodedMethod struct {
	Ref     MethodRef
	Index   uint32 // method_ids index
	Access  uint32
	Direct  bool   // a direct method (static, private or constructor)
	CodeOff uint32 // file offset of the code item, 0 for abstract and native methods
}

// classDef is the raw class_def_item.
type classDef struct {
	class, access, super, interfaces, source, annotations, data, staticValues uint32
}

func (f *File) classDef(i int) (classDef, error) {
	if i < 0 || i >= int(f.classDefs.count) {
		return classDef{}, errIndex("class_def", uint32(i), f.classDefs.count)
	}
	var scratch [classDefSize]byte
	b, err := f.src.view(int64(f.classDefs.off)+classDefSize*int64(i), classDefSize, scratch[:0])
	if err != nil {
		return classDef{}, fmt.Errorf("dex: read class_def %d: %w", i, err)
	}
	le := binary.LittleEndian
	return classDef{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]),
		le.Uint32(b[16:]), le.Uint32(b[20:]), le.Uint32(b[24:]), le.Uint32(b[28:])}, nil
}

// Class returns class definition i with its fields and methods.
func (f *File) Class(i int) (*Class, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, err := f.classDef(i)
	if err != nil {
		return nil, err
	}
	c := &Class{Access: d.access, ClassDataOff: d.data}
	if c.Name, err = f.typ(d.class); err != nil {
		return nil, fmt.Errorf("dex: class %d name: %w", i, err)
	}
	if d.super != NoIndex {
		if c.Super, err = f.typ(d.super); err != nil {
			return nil, fmt.Errorf("dex: class %d (%s) superclass: %w", i, c.Name, err)
		}
	}
	if d.source != NoIndex {
		if c.SourceFile, err = f.str(d.source); err != nil {
			return nil, fmt.Errorf("dex: class %d (%s) source file: %w", i, c.Name, err)
		}
	}
	if c.Interfaces, err = f.typeList(d.interfaces, "interfaces of class_def", uint32(i)); err != nil {
		return nil, err
	}
	if d.data == 0 {
		return c, nil
	}
	err = f.classData(d.data, func(counts [4]uint32) {
		// The counts were checked against the bytes left in the file.
		// Empty kinds stay nil; a hostile count past maxPresized grows
		// only as its members actually decode.
		if n := counts[staticField]; n > 0 {
			c.StaticFields = make([]EncodedField, 0, min(n, maxPresized))
		}
		if n := counts[instanceField]; n > 0 {
			c.InstanceFields = make([]EncodedField, 0, min(n, maxPresized))
		}
		if n := counts[directMethod] + counts[virtualMethod]; n > 0 {
			c.Methods = make([]EncodedMethod, 0, min(n, maxPresized))
		}
	}, func(kind memberKind, idx, access, codeOff uint32) error {
		switch kind {
		case staticField, instanceField:
			ref, err := f.field(idx)
			if err != nil {
				return err
			}
			ef := EncodedField{Field: ref, Index: idx, Access: access}
			if kind == staticField {
				c.StaticFields = append(c.StaticFields, ef)
			} else {
				c.InstanceFields = append(c.InstanceFields, ef)
			}
		default:
			ref, err := f.method(idx)
			if err != nil {
				return err
			}
			c.Methods = append(c.Methods, EncodedMethod{Ref: ref, Index: idx, Access: access, Direct: kind == directMethod, CodeOff: codeOff})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dex: class %d (%s) data: %w", i, c.Name, err)
	}
	return c, nil
}

// maxPresized bounds the members of one kind a class's slices are sized for
// before they decode.
const maxPresized = 4096

type memberKind uint8

const (
	staticField memberKind = iota
	instanceField
	directMethod
	virtualMethod
)

// classData walks the class_data_item at off, calling sized (when not nil)
// with the member counts of each kind once they are checked, then fn for each
// member with its absolute index (checked against the tables).
func (f *File) classData(off uint32, sized func(counts [4]uint32), fn func(kind memberKind, idx, access, codeOff uint32) error) error {
	at := f.dataBase + int64(off)
	if at < headerSize || at >= f.src.limit {
		return fmt.Errorf("dex: class data offset %#x out of bounds: %w", off, extract.ErrCorrupt)
	}
	c := newCursor(&f.src, at, f.src.limit)
	var counts [4]uint32
	for k := range counts {
		v, err := c.uleb()
		if err != nil {
			return err
		}
		counts[k] = v
	}
	// Every field takes at least 2 bytes and every method 3: a count the
	// rest of the file cannot hold is corrupt, whatever it claims.
	rem := f.src.limit - c.tell()
	if need := 2*(int64(counts[0])+int64(counts[1])) + 3*(int64(counts[2])+int64(counts[3])); need > rem {
		return fmt.Errorf("dex: class data at %#x claims %d members, more than the %d bytes left hold: %w",
			off, uint64(counts[0])+uint64(counts[1])+uint64(counts[2])+uint64(counts[3]), rem, extract.ErrCorrupt)
	}
	if sized != nil {
		sized(counts)
	}
	for k, n := range counts {
		kind := memberKind(k)
		var idx uint64
		for j := uint32(0); j < n; j++ {
			diff, err := c.uleb()
			if err != nil {
				return err
			}
			access, err := c.uleb()
			if err != nil {
				return err
			}
			if j == 0 {
				idx = uint64(diff)
			} else {
				idx += uint64(diff)
			}
			var codeOff uint32
			if kind >= directMethod {
				if codeOff, err = c.uleb(); err != nil {
					return err
				}
				if idx >= uint64(f.methods.count) {
					return errIndex("class data method", uint32(min(idx, NoIndex)), f.methods.count)
				}
				if codeOff != 0 && !f.codeOffOK(codeOff) {
					return fmt.Errorf("dex: method %d code offset %#x out of bounds: %w", idx, codeOff, extract.ErrCorrupt)
				}
			} else if idx >= uint64(f.fields.count) {
				return errIndex("class data field", uint32(min(idx, NoIndex)), f.fields.count)
			}
			if err := fn(kind, uint32(idx), access, codeOff); err != nil {
				return err
			}
		}
	}
	return nil
}

// Code is a method's code item.
type Code struct {
	Registers, Ins, Outs uint16
	// Insns are the code units. For a file in memory they may alias the
	// file's bytes: callers must not modify them.
	Insns    []uint16
	InsnsOff int64 // file offset of Insns[0], for evidence
	Tries    []Try
}

// Try is a try block and its handlers.
type Try struct {
	StartPC, Count uint32 // the block covers code units [StartPC, StartPC+Count)
	Handlers       []Handler
	CatchAllPC     int32 // -1 when there is no catch-all handler
}

// Handler is a typed catch handler.
type Handler struct {
	Type string // exception type descriptor
	PC   uint32
}

// maxCodeUnits bounds insns_size beyond the file size check: the format's
// 32-bit count could otherwise claim 8 GiB.
const maxCodeUnits = 1 << 26

// codeHeader reads the fixed part of the code item at off and returns it
// with insns_size and tries_size checked against the file.
type codeHeader struct {
	registers, ins, outs, tries uint16
	insnsSize                   uint32
	insnsOff                    int64
}

// codeOffOK checks the alignment and bounds of a code item offset.
func (f *File) codeOffOK(off uint32) bool {
	at := f.dataBase + int64(off)
	if f.compact {
		return off%2 == 0 && at >= headerSize && at+4 <= f.src.limit
	}
	return off%4 == 0 && at >= headerSize && at+16 <= f.src.limit
}

func (f *File) codeHeader(off uint32) (codeHeader, error) {
	if !f.codeOffOK(off) {
		return codeHeader{}, fmt.Errorf("dex: code item offset %#x out of bounds: %w", off, extract.ErrCorrupt)
	}
	if f.compact {
		return f.compactCodeHeader(f.dataBase + int64(off))
	}
	if off%4 != 0 || int64(off) < headerSize || int64(off)+16 > f.src.limit {
		return codeHeader{}, fmt.Errorf("dex: code item offset %#x out of bounds: %w", off, extract.ErrCorrupt)
	}
	var scratch [16]byte
	b, err := f.src.view(int64(off), 16, scratch[:0])
	if err != nil {
		return codeHeader{}, fmt.Errorf("dex: read code item at %#x: %w", off, err)
	}
	le := binary.LittleEndian
	h := codeHeader{registers: le.Uint16(b), ins: le.Uint16(b[2:]), outs: le.Uint16(b[4:]), tries: le.Uint16(b[6:]),
		insnsSize: le.Uint32(b[12:]), insnsOff: int64(off) + 16}
	if h.insnsSize > maxCodeUnits || h.insnsOff+2*int64(h.insnsSize) > f.src.limit {
		return codeHeader{}, fmt.Errorf("dex: code item at %#x: %d code units beyond end of file: %w", off, h.insnsSize, extract.ErrCorrupt)
	}
	return h, nil
}

// Code reads the code item of m: nil, nil for abstract and native methods.
func (f *File) Code(m *EncodedMethod) (*Code, error) {
	if m == nil || m.CodeOff == 0 {
		return nil, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := f.codeHeader(m.CodeOff)
	if err != nil {
		return nil, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
	}
	c := &Code{Registers: h.registers, Ins: h.ins, Outs: h.outs, InsnsOff: h.insnsOff}
	b, err := f.src.view(h.insnsOff, 2*int(h.insnsSize), nil)
	if err != nil {
		return nil, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
	}
	c.Insns = codeUnits(b, f.src.data != nil)
	if h.tries > 0 {
		if c.Tries, err = f.tries(h, true); err != nil {
			return nil, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
		}
	}
	return c, nil
}

// Insns returns the code units of m's code item and the file offset of the
// first, as Code does (nil for abstract and native methods), and fails
// where Code fails; it checks the try blocks without decoding them and
// allocates nothing for a file in memory. For passes that only read
// instructions, once per method of an app.
func (f *File) Insns(m *EncodedMethod) ([]uint16, int64, error) {
	if m == nil || m.CodeOff == 0 {
		return nil, 0, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	h, err := f.codeHeader(m.CodeOff)
	if err != nil {
		return nil, 0, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
	}
	b, err := f.src.view(h.insnsOff, 2*int(h.insnsSize), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
	}
	if h.tries > 0 {
		if _, err := f.tries(h, false); err != nil {
			return nil, 0, fmt.Errorf("dex: code of %s: %w", m.Ref, err)
		}
	}
	return codeUnits(b, f.src.data != nil), h.insnsOff, nil
}

// tries reads the try blocks of the code item h and, when keep is false,
// only checks them (what Code would reject) without keeping them.
func (f *File) tries(h codeHeader, keep bool) ([]Try, error) {
	off := h.insnsOff + 2*int64(h.insnsSize)
	off = (off + 3) &^ 3 // try items are 4-byte aligned after the code
	const tryItemSize = 8
	listOff := off + tryItemSize*int64(h.tries)
	if listOff > f.src.limit {
		return nil, fmt.Errorf("dex: %d try items at %#x beyond end of file: %w", h.tries, off, extract.ErrCorrupt)
	}
	raw, err := f.src.view(off, tryItemSize*int(h.tries), nil)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	var tries []Try
	if keep {
		tries = make([]Try, h.tries)
	}
	for i := range int(h.tries) {
		t := raw[tryItemSize*i:]
		start, count, hoff := le.Uint32(t), uint32(le.Uint16(t[4:])), le.Uint16(t[6:])
		if uint64(start)+uint64(count) > uint64(h.insnsSize) {
			return nil, fmt.Errorf("dex: try %d covers [%#x,+%#x) outside %d code units: %w", i, start, count, h.insnsSize, extract.ErrCorrupt)
		}
		if keep {
			tries[i] = Try{StartPC: start, Count: count, CatchAllPC: -1}
		}
		c := newCursor(&f.src, listOff+int64(hoff), f.src.limit)
		n, err := c.sleb()
		if err != nil {
			return nil, fmt.Errorf("dex: try %d handlers: %w", i, err)
		}
		typed := int64(n)
		if typed < 0 {
			typed = -typed
		}
		if rem := f.src.limit - c.tell(); typed*2 > rem || typed > 0xffff {
			return nil, fmt.Errorf("dex: try %d claims %d handlers: %w", i, typed, extract.ErrCorrupt)
		}
		if keep {
			tries[i].Handlers = make([]Handler, 0, typed)
		}
		for range typed {
			ti, err := c.uleb()
			if err != nil {
				return nil, fmt.Errorf("dex: try %d handler: %w", i, err)
			}
			pc, err := c.uleb()
			if err != nil {
				return nil, fmt.Errorf("dex: try %d handler: %w", i, err)
			}
			if pc >= h.insnsSize {
				return nil, fmt.Errorf("dex: try %d handler pc %#x outside %d code units: %w", i, pc, h.insnsSize, extract.ErrCorrupt)
			}
			typ, err := f.typ(ti)
			if err != nil {
				return nil, fmt.Errorf("dex: try %d handler: %w", i, err)
			}
			if keep {
				tries[i].Handlers = append(tries[i].Handlers, Handler{Type: typ, PC: pc})
			}
		}
		if n <= 0 {
			pc, err := c.uleb()
			if err != nil {
				return nil, fmt.Errorf("dex: try %d catch-all: %w", i, err)
			}
			if pc >= h.insnsSize {
				return nil, fmt.Errorf("dex: try %d catch-all pc %#x outside %d code units: %w", i, pc, h.insnsSize, extract.ErrCorrupt)
			}
			if keep {
				tries[i].CatchAllPC = int32(pc)
			}
		}
	}
	return tries, nil
}

// FillArrayData decodes the fill-array-data payload at payloadPC: the element
// width in bytes and the element data (little-endian, width*count bytes).
func (c *Code) FillArrayData(payloadPC int) (elemWidth int, data []byte, err error) {
	if payloadPC < 0 || payloadPC >= len(c.Insns) || c.Insns[payloadPC] != FillArrayDataPayload {
		return 0, nil, fmt.Errorf("dex: no fill-array-data payload at pc %#x: %w", payloadPC, extract.ErrCorrupt)
	}
	w, err := payloadWidth(c.Insns, payloadPC)
	if err != nil {
		return 0, nil, err
	}
	p := c.Insns[payloadPC : payloadPC+w]
	elemWidth = int(p[1])
	n := int(uint32(p[2]) | uint32(p[3])<<16)
	data = make([]byte, 0, elemWidth*n+1)
	for _, u := range p[4:] {
		data = append(data, byte(u), byte(u>>8))
	}
	return elemWidth, data[:elemWidth*n], nil
}

// Switch decodes the packed-switch or sparse-switch payload at payloadPC:
// the case keys and their targets as offsets relative to the switch
// instruction (add the switch's PC for absolute targets).
func (c *Code) Switch(payloadPC int) (keys []int32, targets []int, err error) {
	if payloadPC < 0 || payloadPC >= len(c.Insns) {
		return nil, nil, fmt.Errorf("dex: switch payload pc %#x outside %d code units: %w", payloadPC, len(c.Insns), extract.ErrCorrupt)
	}
	ident := c.Insns[payloadPC]
	if ident != PackedSwitchPayload && ident != SparseSwitchPayload {
		return nil, nil, fmt.Errorf("dex: no switch payload at pc %#x: %w", payloadPC, extract.ErrCorrupt)
	}
	w, err := payloadWidth(c.Insns, payloadPC)
	if err != nil {
		return nil, nil, err
	}
	p := c.Insns[payloadPC : payloadPC+w]
	i32 := func(i int) int32 { return int32(uint32(p[i]) | uint32(p[i+1])<<16) }
	n := int(p[1])
	keys, targets = make([]int32, n), make([]int, n)
	if ident == PackedSwitchPayload {
		first := i32(2)
		for k := range n {
			keys[k] = first + int32(k)
			targets[k] = int(i32(4 + 2*k))
		}
		return keys, targets, nil
	}
	for k := range n {
		keys[k] = i32(2 + 2*k)
		targets[k] = int(i32(2 + 2*n + 2*k))
	}
	return keys, targets, nil
}

// CompactDex code item layout: 4 bits each of registers (minus ins), ins,
// outs and tries in one unit, then 11 bits of code units and 5 flags saying
// which values overflow into a "preheader" of units stored before the item.
const (
	cdexInsnsShift        = 5
	cdexFlagRegisters     = 0x01
	cdexFlagIns           = 0x02
	cdexFlagOuts          = 0x04
	cdexFlagTries         = 0x08
	cdexFlagInsns         = 0x10
	cdexMaxPreheaderUnits = 6
)

func (f *File) compactCodeHeader(at int64) (codeHeader, error) {
	var scratch [4]byte
	b, err := f.src.view(at, 4, scratch[:0])
	if err != nil {
		return codeHeader{}, fmt.Errorf("dex: read code item at %#x: %w", at, err)
	}
	le := binary.LittleEndian
	fields, cf := le.Uint16(b), le.Uint16(b[2:])
	h := codeHeader{registers: fields >> 12, ins: fields >> 8 & 0xf, outs: fields >> 4 & 0xf, tries: fields & 0xf,
		insnsSize: uint32(cf >> cdexInsnsShift), insnsOff: at + 4}
	if cf&0x1f != 0 {
		pre := at
		next := func() (uint16, error) {
			pre -= 2
			if pre < headerSize || at-pre > 2*cdexMaxPreheaderUnits {
				return 0, fmt.Errorf("dex: code item at %#x: preheader out of bounds: %w", at, extract.ErrCorrupt)
			}
			return f.src.u16(pre)
		}
		if cf&cdexFlagInsns != 0 {
			lo, err := next()
			if err != nil {
				return codeHeader{}, err
			}
			hi, err := next()
			if err != nil {
				return codeHeader{}, err
			}
			h.insnsSize += uint32(lo) + uint32(hi)<<16
		}
		for _, p := range []struct {
			flag uint16
			v    *uint16
		}{{cdexFlagRegisters, &h.registers}, {cdexFlagIns, &h.ins}, {cdexFlagOuts, &h.outs}, {cdexFlagTries, &h.tries}} {
			if cf&p.flag != 0 {
				v, err := next()
				if err != nil {
					return codeHeader{}, err
				}
				*p.v += v
			}
		}
	}
	h.registers += h.ins
	if h.insnsSize > maxCodeUnits || h.insnsOff+2*int64(h.insnsSize) > f.src.limit {
		return codeHeader{}, fmt.Errorf("dex: code item at %#x: %d code units beyond end of file: %w", at, h.insnsSize, extract.ErrCorrupt)
	}
	return h, nil
}
