package dex

import (
	"fmt"

	"github.com/romscan/romscan/extract"
)

// Opcode is a Dalvik opcode (0x00-0xff), or OpPayload for the data
// pseudo-instructions that live inside code arrays.
type Opcode uint16

// OpPayload is the opcode Decode reports for packed-switch, sparse-switch and
// fill-array-data payloads, so a linear walk can skip them.
const OpPayload Opcode = 0x100

// Payload identifiers (the first code unit of a payload).
const (
	PackedSwitchPayload  = 0x0100
	SparseSwitchPayload  = 0x0200
	FillArrayDataPayload = 0x0300
)

// IndexKind says what the index operand of an instruction refers to.
type IndexKind uint8

// Index kinds.
const (
	IndexNone IndexKind = iota
	IndexString
	IndexType
	IndexField
	IndexMethod
	IndexProto
	IndexCallSite
	IndexMethodHandle
)

var indexKindNames = [...]string{"none", "string", "type", "field", "method", "proto", "call_site", "method_handle"}

// String names the index kind.
func (k IndexKind) String() string {
	if int(k) < len(indexKindNames) {
		return indexKindNames[k]
	}
	return fmt.Sprintf("IndexKind(%d)", k)
}

// format is a Dalvik instruction format (the "22c" of the specification).
type format uint8

const (
	fNone format = iota
	f10x
	f12x
	f11n
	f11x
	f10t
	f20t
	f22x
	f21t
	f21s
	f21h
	f21c
	f23x
	f22b
	f22t
	f22s
	f22c
	f32x
	f30t
	f31t
	f31i
	f31c
	f35c
	f3rc
	f45cc
	f4rcc
	f51l
	fPayload
)

var formatNames = [...]string{"", "10x", "12x", "11n", "11x", "10t", "20t", "22x", "21t", "21s", "21h", "21c",
	"23x", "22b", "22t", "22s", "22c", "32x", "30t", "31t", "31i", "31c", "35c", "3rc", "45cc", "4rcc", "51l", "payload"}

// formatWidth is the width in code units of each format (0 for payloads,
// whose width depends on their contents).
var formatWidth = [...]uint8{0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 5, 0}

type opInfo struct {
	name   string
	format format
	kind   IndexKind
}

// widthTable is the width of each opcode in code units, 0 for unused ones.
var widthTable = func() (w [256]uint8) {
	for i, o := range opTable {
		w[i] = formatWidth[o.format]
	}
	return w
}()

// quickTable describes the opcodes ART's "quicken" filter writes into DEX
// code kept in VDEX files (Android 8-11): their operands are vtable indices
// and field offsets, not table indices. Only DecodeQuickened accepts them.
var quickTable = [256]opInfo{
	0x73: {name: "return-void-no-barrier", format: f10x},
	0xe3: {name: "iget-quick", format: f22c},
	0xe4: {name: "iget-wide-quick", format: f22c},
	0xe5: {name: "iget-object-quick", format: f22c},
	0xe6: {name: "iput-quick", format: f22c},
	0xe7: {name: "iput-wide-quick", format: f22c},
	0xe8: {name: "iput-object-quick", format: f22c},
	0xe9: {name: "invoke-virtual-quick", format: f35c},
	0xea: {name: "invoke-virtual/range-quick", format: f3rc},
	0xeb: {name: "iput-boolean-quick", format: f22c},
	0xec: {name: "iput-byte-quick", format: f22c},
	0xed: {name: "iput-char-quick", format: f22c},
	0xee: {name: "iput-short-quick", format: f22c},
	0xef: {name: "iget-boolean-quick", format: f22c},
	0xf0: {name: "iget-byte-quick", format: f22c},
	0xf1: {name: "iget-char-quick", format: f22c},
	0xf2: {name: "iget-short-quick", format: f22c},
}

// walkWidth is the width of each opcode for the walker, which also steps
// over quickened opcodes (they name no method, string or field index).
var walkWidth = func() (w [256]uint8) {
	for i := range opTable {
		w[i] = formatWidth[opTable[i].format]
		if w[i] == 0 {
			w[i] = formatWidth[quickTable[i].format]
		}
	}
	return w
}()

// Quickened reports whether o is one of the opcodes ART's quicken filter
// writes in place of unused ones (iget-quick, invoke-virtual-quick, ...).
func (o Opcode) Quickened() bool { return o < 256 && quickTable[o].format != fNone }

func (o Opcode) info() opInfo {
	if o < 256 {
		if opTable[o].format == fNone {
			return quickTable[o]
		}
		return opTable[o]
	}
	if o == OpPayload {
		return opInfo{name: "payload", format: fPayload}
	}
	return opInfo{}
}

// Valid reports whether o is an opcode of the DEX format (or OpPayload);
// quickened opcodes are not.
func (o Opcode) Valid() bool { return o.info().format != fNone && !o.Quickened() }

// Name is the mnemonic of o ("invoke-virtual", "const-string/jumbo"; for
// quickened opcodes as dexdump names them, "invoke-virtual-quick"), or
// "unused-XX" for an opcode the format leaves unused.
func (o Opcode) Name() string {
	if n := o.info().name; n != "" {
		return n
	}
	return fmt.Sprintf("unused-%02x", uint16(o))
}

// String is the mnemonic of o.
func (o Opcode) String() string { return o.Name() }

// Format is the Dalvik format of o ("35c", "3rc", "22c", ...), "payload" for
// OpPayload, "" for unused opcodes.
func (o Opcode) Format() string { return formatNames[o.info().format] }

// IndexKind says what the index operand of o refers to.
func (o Opcode) IndexKind() IndexKind { return o.info().kind }

// IsInvoke reports whether o is an invoke-* instruction (including
// invoke-polymorphic and invoke-custom).
func (o Opcode) IsInvoke() bool {
	return (o >= OpInvokeVirtual && o <= OpInvokeInterface) || (o >= OpInvokeVirtualRange && o <= OpInvokeInterfaceRange) ||
		(o >= OpInvokePolymorphic && o <= OpInvokeCustomRange)
}

// IsReturn reports whether o is a return instruction.
func (o Opcode) IsReturn() bool { return o >= OpReturnVoid && o <= OpReturnObject }

// IsBranch reports whether o transfers control to a target (goto, if-*,
// packed-switch, sparse-switch).
func (o Opcode) IsBranch() bool {
	return (o >= OpGoto && o <= OpGoto32) || o == OpPackedSwitch || o == OpSparseSwitch || (o >= OpIfEq && o <= OpIfLez)
}

// IsSwitch reports whether o is packed-switch or sparse-switch.
func (o Opcode) IsSwitch() bool { return o == OpPackedSwitch || o == OpSparseSwitch }

// Instruction is one decoded instruction. Register operands appear in A, B, C
// in the order of the Dalvik format (vA, vB, vC). For 35c/45cc, A is the
// argument count and Args the listed registers; for 3rc/4rcc, A is the count,
// C the first register and Args the expanded range.
type Instruction struct {
	PC      int
	Op      Opcode
	A, B, C uint32
	Args    []uint32
	Index   uint32 // string/type/field/method/proto/call-site/method-handle index
	Index2  uint32 // proto index of invoke-polymorphic
	Literal int64  // literal of const*, */lit8, */lit16, sign- or shift-extended
	Target  int    // branch target PC, or the payload PC of switches and fill-array-data
}

// Decode decodes the instruction at pc (in 16-bit code units) of insns and
// returns its width in code units. Payloads decode as OpPayload with their
// full width; unused opcodes and truncated instructions are errors.
func Decode(insns []uint16, pc int) (ins Instruction, width int, err error) {
	width, err = DecodeInto(&ins, insns, pc)
	return ins, width, err
}

// DecodeInto is Decode that reuses ins (and the capacity of ins.Args), for
// loops that decode many instructions without allocating.
func DecodeInto(ins *Instruction, insns []uint16, pc int) (int, error) {
	return decode(ins, insns, pc, false)
}

// DecodeQuickened is Decode that also accepts the quickened opcodes of VDEX
// code (see Opcode.Quickened); their Index is the raw vtable index or field
// offset.
func DecodeQuickened(insns []uint16, pc int) (ins Instruction, width int, err error) {
	width, err = decode(&ins, insns, pc, true)
	return ins, width, err
}

// Ref is what DecodeRef reads of an instruction.
type Ref struct {
	Op    Opcode
	Kind  IndexKind // what Index refers to (Op.IndexKind())
	Index uint32    // 0 when the instruction has no index operand
}

// DecodeRef decodes only what a scan for references needs of the
// instruction at pc: its opcode, its index operand and its width. It agrees
// with DecodeInto on all three and fails where DecodeInto fails, with the
// same error, but skips the register operands: a pass over every method of
// an app calls it once per instruction.
func DecodeRef(insns []uint16, pc int) (Ref, int, error) {
	if pc >= 0 && pc < len(insns) {
		u := insns[pc]
		r := refTable[u&0xff]
		w := int(r.width)
		// Payloads, unused opcodes, truncated instructions and 35c/45cc
		// argument counts above 5 take the full decoder for its errors.
		if w > 0 && pc+w <= len(insns) && !(u&0xff == 0 && u>>8 != 0) && !(r.argc && u>>12 > 5) {
			ref := Ref{Op: Opcode(u & 0xff), Kind: r.kind}
			switch r.index {
			case refIndex16:
				ref.Index = uint32(insns[pc+1])
			case refIndex32:
				ref.Index = uint32(insns[pc+1]) | uint32(insns[pc+2])<<16
			}
			return ref, w, nil
		}
	}
	var ins Instruction
	width, err := decode(&ins, insns, pc, false)
	return Ref{Op: ins.Op, Kind: ins.Op.IndexKind(), Index: ins.Index}, width, err
}

// EachRef decodes insns linearly from the start, as DecodeRef would, and
// calls fn with the pc of each instruction whose index operand refers to a
// table entry (Kind is not IndexNone). Quickened opcodes (VDEX code) are
// stepped over. It stops at the first instruction DecodeRef rejects and
// returns that error: the rest of the code cannot be decoded.
func EachRef(insns []uint16, fn func(pc int, r Ref)) error {
	for pc := 0; pc < len(insns); {
		u := insns[pc]
		r := refTable[u&0xff]
		w := int(r.width)
		if w > 0 && pc+w <= len(insns) && !(u&0xff == 0 && u>>8 != 0) && !(r.argc && u>>12 > 5) {
			// The fast path of DecodeRef, inline: most instructions
			// have no index and cost one table lookup.
			if r.kind != IndexNone {
				ref := Ref{Op: Opcode(u & 0xff), Kind: r.kind}
				if r.index == refIndex32 {
					ref.Index = uint32(insns[pc+1]) | uint32(insns[pc+2])<<16
				} else {
					ref.Index = uint32(insns[pc+1])
				}
				fn(pc, ref)
			}
			pc += w
			continue
		}
		ref, width, err := DecodeRef(insns, pc)
		if err != nil {
			if q, qw, qerr := DecodeQuickened(insns, pc); qerr == nil && q.Op.Quickened() && qw > 0 {
				pc += qw
				continue
			}
			return err
		}
		if width <= 0 {
			return fmt.Errorf("dex: instruction of width %d at pc %#x: %w", width, pc, extract.ErrCorrupt)
		}
		if ref.Kind != IndexNone {
			fn(pc, ref)
		}
		pc += width
	}
	return nil
}

// refOp is what DecodeRef needs of an opcode, packed so the table stays in
// a few cache lines.
type refOp struct {
	width uint8 // code units; 0 for unused opcodes
	index uint8 // refIndexNone, refIndex16 or refIndex32
	argc  bool  // 35c or 45cc: the argument count is checked
	kind  IndexKind
}

const (
	refIndexNone = iota
	refIndex16
	refIndex32
)

var refTable = func() (t [256]refOp) {
	for i, o := range opTable {
		r := refOp{width: formatWidth[o.format], kind: o.kind, argc: o.format == f35c || o.format == f45cc}
		switch o.format {
		case f21c, f22c, f35c, f3rc, f45cc, f4rcc:
			r.index = refIndex16
		case f31c:
			r.index = refIndex32
		}
		t[i] = r
	}
	return t
}()

func decode(ins *Instruction, insns []uint16, pc int, quick bool) (int, error) {
	// Keep the capacity of Args through instructions without arguments,
	// so a loop decoding into one Instruction allocates it once.
	args := ins.Args[:0]
	*ins = Instruction{PC: pc, Args: args}
	if pc < 0 || pc >= len(insns) {
		return 0, fmt.Errorf("dex: decode at pc %#x outside %d code units: %w", pc, len(insns), extract.ErrCorrupt)
	}
	u := insns[pc]
	op := Opcode(u & 0xff)
	if op == OpNop && u>>8 != 0 && u <= FillArrayDataPayload {
		w, err := payloadWidth(insns, pc)
		if err != nil {
			return 0, err
		}
		ins.Op = OpPayload
		return w, nil
	}
	info := opTable[op]
	if info.format == fNone && quick {
		info = quickTable[op]
	}
	if info.format == fNone {
		return 0, fmt.Errorf("dex: unused opcode %#02x at pc %#x: %w", uint16(op), pc, extract.ErrCorrupt)
	}
	w := int(formatWidth[info.format])
	if pc+w > len(insns) {
		return 0, fmt.Errorf("dex: %s at pc %#x truncated (%d of %d code units): %w", info.name, pc, len(insns)-pc, w, extract.ErrCorrupt)
	}
	ins.Op = op
	c := insns[pc : pc+w]
	aa := uint32(u >> 8)
	a4, b4 := aa&0xf, aa>>4
	u32 := func(i int) uint32 { return uint32(c[i]) | uint32(c[i+1])<<16 }
	switch info.format {
	case f10x:
	case f12x:
		ins.A, ins.B = a4, b4
	case f11n:
		ins.A = a4
		ins.Literal = int64(int8(b4<<4) >> 4)
	case f11x:
		ins.A = aa
	case f10t:
		ins.Target = pc + int(int8(aa))
	case f20t:
		ins.Target = pc + int(int16(c[1]))
	case f22x:
		ins.A, ins.B = aa, uint32(c[1])
	case f21t:
		ins.A = aa
		ins.Target = pc + int(int16(c[1]))
	case f21s:
		ins.A = aa
		ins.Literal = int64(int16(c[1]))
	case f21h:
		ins.A = aa
		if op == OpConstHigh16 {
			ins.Literal = int64(int32(uint32(c[1]) << 16))
		} else {
			ins.Literal = int64(uint64(c[1]) << 48)
		}
	case f21c:
		ins.A, ins.Index = aa, uint32(c[1])
	case f23x:
		ins.A, ins.B, ins.C = aa, uint32(c[1]&0xff), uint32(c[1]>>8)
	case f22b:
		ins.A, ins.B = aa, uint32(c[1]&0xff)
		ins.Literal = int64(int8(c[1] >> 8))
	case f22t:
		ins.A, ins.B = a4, b4
		ins.Target = pc + int(int16(c[1]))
	case f22s:
		ins.A, ins.B = a4, b4
		ins.Literal = int64(int16(c[1]))
	case f22c:
		ins.A, ins.B, ins.Index = a4, b4, uint32(c[1])
	case f32x:
		ins.A, ins.B = uint32(c[1]), uint32(c[2])
	case f30t:
		ins.Target = pc + int(int32(u32(1)))
	case f31t:
		ins.A = aa
		ins.Target = pc + int(int32(u32(1)))
	case f31i:
		ins.A = aa
		ins.Literal = int64(int32(u32(1)))
	case f31c:
		ins.A, ins.Index = aa, u32(1)
	case f35c, f45cc:
		// A|G|op BBBB F|E|D|C [HHHH]
		n := b4
		if n > 5 {
			return 0, fmt.Errorf("dex: %s at pc %#x with %d arguments: %w", info.name, pc, n, extract.ErrCorrupt)
		}
		ins.A, ins.Index = n, uint32(c[1])
		regs := [5]uint32{uint32(c[2] & 0xf), uint32(c[2] >> 4 & 0xf), uint32(c[2] >> 8 & 0xf), uint32(c[2] >> 12), a4}
		args = append(args, regs[:n]...)
		ins.Args = args
		if n > 0 {
			ins.C = regs[0]
		}
		if info.format == f45cc {
			ins.Index2 = uint32(c[3])
		}
	case f3rc, f4rcc:
		// AA|op BBBB CCCC [HHHH]
		ins.A, ins.Index, ins.C = aa, uint32(c[1]), uint32(c[2])
		for r := range aa {
			args = append(args, ins.C+r)
		}
		ins.Args = args
		if info.format == f4rcc {
			ins.Index2 = uint32(c[3])
		}
	case f51l:
		ins.A = aa
		ins.Literal = int64(uint64(c[1]) | uint64(c[2])<<16 | uint64(c[3])<<32 | uint64(c[4])<<48)
	}
	return w, nil
}

// payloadWidth is the width in code units of the payload at pc.
func payloadWidth(insns []uint16, pc int) (int, error) {
	rem := len(insns) - pc
	var w int64
	switch insns[pc] {
	case PackedSwitchPayload:
		if rem < 4 {
			return 0, fmt.Errorf("dex: packed-switch payload at pc %#x truncated: %w", pc, extract.ErrCorrupt)
		}
		w = int64(insns[pc+1])*2 + 4
	case SparseSwitchPayload:
		if rem < 2 {
			return 0, fmt.Errorf("dex: sparse-switch payload at pc %#x truncated: %w", pc, extract.ErrCorrupt)
		}
		w = int64(insns[pc+1])*4 + 2
	case FillArrayDataPayload:
		if rem < 4 {
			return 0, fmt.Errorf("dex: fill-array-data payload at pc %#x truncated: %w", pc, extract.ErrCorrupt)
		}
		elem := int64(insns[pc+1])
		n := int64(insns[pc+2]) | int64(insns[pc+3])<<16
		w = (elem*n+1)/2 + 4
	default:
		return 0, fmt.Errorf("dex: bad payload ident %#04x at pc %#x: %w", insns[pc], pc, extract.ErrCorrupt)
	}
	if w > int64(rem) {
		return 0, fmt.Errorf("dex: payload %#04x at pc %#x of %d code units overruns the code (%d left): %w", insns[pc], pc, w, rem, extract.ErrCorrupt)
	}
	return int(w), nil
}

// payloadWidthBytes is payloadWidth over little-endian code bytes.
func payloadWidthBytes(code []byte, pc int) int {
	rem := len(code)/2 - pc
	at := func(i int) int64 { return int64(code[2*(pc+i)]) | int64(code[2*(pc+i)+1])<<8 }
	var w int64
	switch at(0) {
	case PackedSwitchPayload:
		if rem < 4 {
			return 0
		}
		w = at(1)*2 + 4
	case SparseSwitchPayload:
		if rem < 2 {
			return 0
		}
		w = at(1)*4 + 2
	case FillArrayDataPayload:
		if rem < 4 {
			return 0
		}
		w = (at(1)*(at(2)|at(3)<<16)+1)/2 + 4
	default:
		return 0
	}
	if w > int64(rem) {
		return 0
	}
	return int(w)
}
