package dex

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/romscan/romscan/extract"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		insns []uint16
		pc    int
		want  Instruction
		width int
	}{
		{"10x-nop", []uint16{0x0000}, 0, Instruction{Op: OpNop}, 1},
		{"10x-return-void", []uint16{0x000e}, 0, Instruction{Op: OpReturnVoid}, 1},
		{"12x-move", []uint16{0x2101}, 0, Instruction{Op: OpMove, A: 1, B: 2}, 1},
		{"11n-const4-neg", []uint16{0xf312}, 0, Instruction{Op: OpConst4, A: 3, Literal: -1}, 1},
		{"11n-const4-pos", []uint16{0x7012}, 0, Instruction{Op: OpConst4, A: 0, Literal: 7}, 1},
		{"11x-move-result", []uint16{0xc80a}, 0, Instruction{Op: OpMoveResult, A: 200}, 1},
		{"10t-goto-back", []uint16{0, 0, 0xfe28}, 2, Instruction{PC: 2, Op: OpGoto, Target: 0}, 1},
		{"20t-goto16", []uint16{0x0029, 0x0100}, 0, Instruction{Op: OpGoto16, Target: 0x100}, 2},
		{"22x-move-from16", []uint16{0x0102, 300}, 0, Instruction{Op: OpMoveFrom16, A: 1, B: 300}, 2},
		{"21t-if-eqz", []uint16{0, 0, 0, 0x0538, 0xfffd}, 3, Instruction{PC: 3, Op: OpIfEqz, A: 5, Target: 0}, 2},
		{"21s-const16", []uint16{0x0113, 0xfffe}, 0, Instruction{Op: OpConst16, A: 1, Literal: -2}, 2},
		{"21s-const-wide16", []uint16{0x0116, 0x8000}, 0, Instruction{Op: OpConstWide16, A: 1, Literal: -32768}, 2},
		{"21h-const-high16", []uint16{0x0015, 0x3f80}, 0, Instruction{Op: OpConstHigh16, Literal: 0x3f800000}, 2},
		{"21h-const-high16-neg", []uint16{0x0015, 0xbf80}, 0, Instruction{Op: OpConstHigh16, Literal: -0x40800000}, 2},
		{"21h-const-wide-high16", []uint16{0x0219, 0x4030}, 0, Instruction{Op: OpConstWideHigh16, A: 2, Literal: 0x4030 << 48}, 2},
		{"21c-const-string", []uint16{0x021a, 0x1234}, 0, Instruction{Op: OpConstString, A: 2, Index: 0x1234}, 2},
		{"21c-sget-object", []uint16{0x0962, 0x0007}, 0, Instruction{Op: OpSgetObject, A: 9, Index: 7}, 2},
		{"21c-const-method-handle", []uint16{0x00fe, 1}, 0, Instruction{Op: OpConstMethodHandle, Index: 1}, 2},
		{"21c-const-method-type", []uint16{0x03ff, 2}, 0, Instruction{Op: OpConstMethodType, A: 3, Index: 2}, 2},
		{"23x-add-int", []uint16{0x0190, 0x0302}, 0, Instruction{Op: OpAddInt, A: 1, B: 2, C: 3}, 2},
		{"23x-aget", []uint16{0xff44, 0xfefd}, 0, Instruction{Op: OpAget, A: 255, B: 253, C: 254}, 2},
		{"22b-lit8", []uint16{0x01d8, 0x8002}, 0, Instruction{Op: OpAddIntLit8, A: 1, B: 2, Literal: -128}, 2},
		{"22t-if-eq", []uint16{0x2132, 0x0004}, 0, Instruction{Op: OpIfEq, A: 1, B: 2, Target: 4}, 2},
		{"22s-lit16", []uint16{0x21d0, 0xffff}, 0, Instruction{Op: OpAddIntLit16, A: 1, B: 2, Literal: -1}, 2},
		{"22s-rsub", []uint16{0x21d1, 0x00ff}, 0, Instruction{Op: OpRsubInt, A: 1, B: 2, Literal: 255}, 2},
		{"22c-iget", []uint16{0x2152, 0x0007}, 0, Instruction{Op: OpIget, A: 1, B: 2, Index: 7}, 2},
		{"22c-instance-of", []uint16{0x3420, 0x0009}, 0, Instruction{Op: OpInstanceOf, A: 4, B: 3, Index: 9}, 2},
		{"32x-move16", []uint16{0x0003, 1000, 2000}, 0, Instruction{Op: OpMove16, A: 1000, B: 2000}, 3},
		{"30t-goto32", []uint16{0, 0, 0x002a, 0xfffe, 0xffff}, 2, Instruction{PC: 2, Op: OpGoto32, Target: 0}, 3},
		{"31t-packed-switch", []uint16{0x012b, 6, 0}, 0, Instruction{Op: OpPackedSwitch, A: 1, Target: 6}, 3},
		{"31t-fill-array-data", []uint16{0x0226, 0x0000, 0x0001}, 0, Instruction{Op: OpFillArrayData, A: 2, Target: 0x10000}, 3},
		{"31i-const", []uint16{0x0114, 0x5678, 0x1234}, 0, Instruction{Op: OpConst, A: 1, Literal: 0x12345678}, 3},
		{"31i-const-wide32-neg", []uint16{0x0117, 0xffff, 0xffff}, 0, Instruction{Op: OpConstWide32, A: 1, Literal: -1}, 3},
		{"31c-const-string-jumbo", []uint16{0x011b, 0x2345, 0x0001}, 0, Instruction{Op: OpConstStringJumbo, A: 1, Index: 0x12345}, 3},
		{"35c-invoke-virtual-5", []uint16{0x556e, 9, 0x4321}, 0,
			Instruction{Op: OpInvokeVirtual, A: 5, C: 1, Index: 9, Args: []uint32{1, 2, 3, 4, 5}}, 3},
		{"35c-invoke-static-0", []uint16{0x0071, 9, 0}, 0, Instruction{Op: OpInvokeStatic, Index: 9}, 3},
		{"35c-filled-new-array", []uint16{0x2024, 0x0bec, 0x0042}, 0,
			Instruction{Op: OpFilledNewArray, A: 2, C: 2, Index: 0xbec, Args: []uint32{2, 4}}, 3},
		{"35c-invoke-custom", []uint16{0x10fc, 2, 0x0007}, 0, Instruction{Op: OpInvokeCustom, A: 1, C: 7, Index: 2, Args: []uint32{7}}, 3},
		{"3rc-invoke-static-range", []uint16{0x0377, 3, 10}, 0,
			Instruction{Op: OpInvokeStaticRange, A: 3, C: 10, Index: 3, Args: []uint32{10, 11, 12}}, 3},
		{"3rc-invoke-custom-range", []uint16{0x01fd, 1, 0xffff}, 0,
			Instruction{Op: OpInvokeCustomRange, A: 1, C: 0xffff, Index: 1, Args: []uint32{0xffff}}, 3},
		{"45cc-invoke-polymorphic", []uint16{0x20fa, 5, 0x0021, 6}, 0,
			Instruction{Op: OpInvokePolymorphic, A: 2, C: 1, Index: 5, Index2: 6, Args: []uint32{1, 2}}, 4},
		{"4rcc-invoke-polymorphic-range", []uint16{0x03fb, 5, 4, 6}, 0,
			Instruction{Op: OpInvokePolymorphicRange, A: 3, C: 4, Index: 5, Index2: 6, Args: []uint32{4, 5, 6}}, 4},
		{"51l-const-wide", []uint16{0x0218, 0xcdef, 0x89ab, 0x4567, 0x0123}, 0,
			Instruction{Op: OpConstWide, A: 2, Literal: 0x0123456789abcdef}, 5},
		{"payload-packed", []uint16{0x0100, 2, 0, 0, 5, 0, 7, 0}, 0, Instruction{Op: OpPayload}, 8},
		{"payload-sparse", []uint16{0x0200, 1, 3, 0, 9, 0}, 0, Instruction{Op: OpPayload}, 6},
		{"payload-array", []uint16{0x0300, 1, 3, 0, 0x0201, 0x0003}, 0, Instruction{Op: OpPayload}, 6},
		{"payload-array-empty", []uint16{0x0300, 4, 0, 0}, 0, Instruction{Op: OpPayload}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, w, err := Decode(tt.insns, tt.pc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if w != tt.width {
				t.Errorf("width = %d, want %d", w, tt.width)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		insns []uint16
		pc    int
	}{
		{"unused-3e", []uint16{0x003e}, 0},
		{"unused-43", []uint16{0x0043}, 0},
		{"unused-73", []uint16{0x0073}, 0},
		{"unused-79", []uint16{0x0079}, 0},
		{"unused-e3", []uint16{0x00e3}, 0},
		{"unused-f9", []uint16{0x00f9}, 0},
		{"pc-negative", []uint16{0}, -1},
		{"pc-past-end", []uint16{0}, 1},
		{"truncated-35c", []uint16{0x106e, 1}, 0},
		{"truncated-51l", []uint16{0x0018, 1, 2, 3}, 0},
		{"35c-six-args", []uint16{0x606e, 1, 0}, 0},
		{"payload-packed-overrun", []uint16{0x0100, 9, 0, 0}, 0},
		{"payload-sparse-overrun", []uint16{0x0200, 0xffff}, 0},
		{"payload-array-overrun", []uint16{0x0300, 0xffff, 0xffff, 0xffff}, 0},
		{"payload-short", []uint16{0x0300, 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Decode(tt.insns, tt.pc); !errors.Is(err, extract.ErrCorrupt) {
				t.Errorf("Decode = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestOpcodeTable checks the table against the counts of the specification:
// 224 opcodes in use, widths matching their formats, helpers consistent.
func TestOpcodeTable(t *testing.T) {
	used, invokes, returns, branches := 0, 0, 0, 0
	names := map[string]bool{}
	for i := range 256 {
		op := Opcode(i)
		insns := []uint16{uint16(i), 0, 0, 0, 0}
		_, w, err := Decode(insns, 0)
		if !op.Valid() {
			if err == nil {
				t.Errorf("unused opcode %#02x decoded", i)
			}
			continue
		}
		used++
		if err != nil {
			t.Errorf("%s: %v", op.Name(), err)
		}
		if names[op.Name()] {
			t.Errorf("duplicate name %s", op.Name())
		}
		names[op.Name()] = true
		if w != int(widthTable[i]) || w == 0 {
			t.Errorf("%s: width %d, table %d", op.Name(), w, widthTable[i])
		}
		if op.IsInvoke() {
			invokes++
		}
		if op.IsReturn() {
			returns++
		}
		if op.IsBranch() {
			branches++
		}
	}
	if used != 224 || invokes != 14 || returns != 4 || branches != 17 {
		t.Errorf("used %d invokes %d returns %d branches %d; want 224 14 4 17", used, invokes, returns, branches)
	}
	for _, tt := range []struct {
		op           Opcode
		name, format string
		kind         IndexKind
	}{
		{OpConstStringJumbo, "const-string/jumbo", "31c", IndexString},
		{OpInvokeVirtual, "invoke-virtual", "35c", IndexMethod},
		{OpInvokeInterfaceRange, "invoke-interface/range", "3rc", IndexMethod},
		{OpInvokePolymorphic, "invoke-polymorphic", "45cc", IndexMethod},
		{OpInvokePolymorphicRange, "invoke-polymorphic/range", "4rcc", IndexMethod},
		{OpInvokeCustom, "invoke-custom", "35c", IndexCallSite},
		{OpConstMethodHandle, "const-method-handle", "21c", IndexMethodHandle},
		{OpConstMethodType, "const-method-type", "21c", IndexProto},
		{OpSputShort, "sput-short", "21c", IndexField},
		{OpNewArray, "new-array", "22c", IndexType},
		{OpUshrIntLit8, "ushr-int/lit8", "22b", IndexNone},
		{OpDoubleToFloat, "double-to-float", "12x", IndexNone},
		{OpRemDouble2addr, "rem-double/2addr", "12x", IndexNone},
		{OpPayload, "payload", "payload", IndexNone},
		{Opcode(0x79), "unused-79", "", IndexNone},
		{Opcode(0x73), "return-void-no-barrier", "10x", IndexNone},
		{Opcode(0xe9), "invoke-virtual-quick", "35c", IndexNone},
	} {
		if tt.op.Name() != tt.name || tt.op.Format() != tt.format || tt.op.IndexKind() != tt.kind {
			t.Errorf("%#x: %q %q %v, want %q %q %v", uint16(tt.op), tt.op.Name(), tt.op.Format(), tt.op.IndexKind(), tt.name, tt.format, tt.kind)
		}
	}
}

func TestDecodeQuickened(t *testing.T) {
	insns := []uint16{0x20e9, 0x0012, 0x0010, 0x21e5, 0x0008, 0x0073}
	var got []string
	for pc := 0; pc < len(insns); {
		ins, w, err := DecodeQuickened(insns, pc)
		if err != nil {
			t.Fatalf("DecodeQuickened at %d: %v", pc, err)
		}
		if !ins.Op.Quickened() || ins.Op.Valid() || ins.Op.IsInvoke() {
			t.Errorf("%s: Quickened %v Valid %v IsInvoke %v", ins.Op, ins.Op.Quickened(), ins.Op.Valid(), ins.Op.IsInvoke())
		}
		if _, _, err := Decode(insns, pc); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("Decode(%s) = %v, want ErrCorrupt", ins.Op, err)
		}
		got = append(got, ins.Op.Name())
		pc += w
	}
	if diff := cmp.Diff([]string{"invoke-virtual-quick", "iget-object-quick", "return-void-no-barrier"}, got); diff != "" {
		t.Errorf("quickened ops:\n%s", diff)
	}
}

func TestPayloads(t *testing.T) {
	code := &Code{Insns: []uint16{
		0x0100, 3, 0xfffe, 0xffff, 10, 0, 20, 0, 0xfffd, 0xffff, // packed: keys -2..0
		0x0200, 2, 5, 0, 0x0000, 0x0001, 30, 0, 40, 0, // sparse: keys 5, 65536
		0x0300, 2, 3, 0, 0x0201, 0x0403, 0x0605, // 3 shorts
		0x0300, 1, 3, 0, 0x0201, 0x0003, // 3 bytes, padded
	}}
	keys, targets, err := code.Switch(0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{-2, -1, 0}, keys); diff != "" {
		t.Errorf("packed keys:\n%s", diff)
	}
	if diff := cmp.Diff([]int{10, 20, -3}, targets); diff != "" {
		t.Errorf("packed targets:\n%s", diff)
	}
	keys, targets, err = code.Switch(10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int32{5, 65536}, keys); diff != "" {
		t.Errorf("sparse keys:\n%s", diff)
	}
	if diff := cmp.Diff([]int{30, 40}, targets); diff != "" {
		t.Errorf("sparse targets:\n%s", diff)
	}
	w, data, err := code.FillArrayData(20)
	if err != nil || w != 2 || string(data) != "\x01\x02\x03\x04\x05\x06" {
		t.Errorf("FillArrayData(20) = %d, %x, %v", w, data, err)
	}
	w, data, err = code.FillArrayData(27)
	if err != nil || w != 1 || string(data) != "\x01\x02\x03" {
		t.Errorf("FillArrayData(27) = %d, %x, %v", w, data, err)
	}
	for _, pc := range []int{-1, 1, 33, 1000} {
		if _, _, err := code.FillArrayData(pc); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("FillArrayData(%d) = %v, want ErrCorrupt", pc, err)
		}
		if _, _, err := code.Switch(pc); !errors.Is(err, extract.ErrCorrupt) {
			t.Errorf("Switch(%d) = %v, want ErrCorrupt", pc, err)
		}
	}
}

// decodeRefAgrees checks that DecodeRef and DecodeInto agree at pc.
func decodeRefAgrees(insns []uint16, pc int) error {
	var ins Instruction
	w, err := DecodeInto(&ins, insns, pc)
	ref, rw, rerr := DecodeRef(insns, pc)
	op, idx := ref.Op, ref.Index
	if (err == nil) != (rerr == nil) || (err != nil && err.Error() != rerr.Error()) {
		return fmt.Errorf("pc %d (%#04x): DecodeRef error %v, DecodeInto %v", pc, insns[pc], rerr, err)
	}
	if err == nil && (op != ins.Op || idx != ins.Index || rw != w || ref.Kind != ins.Op.IndexKind()) {
		return fmt.Errorf("pc %d (%#04x): DecodeRef %v index %d width %d, DecodeInto %v index %d width %d",
			pc, insns[pc], op, idx, rw, ins.Op, ins.Index, w)
	}
	return nil
}

// TestDecodeRefAgrees: every opcode with every argument-count nibble, in
// full and truncated, and random code units (payload idents included).
func TestDecodeRefAgrees(t *testing.T) {
	var streams [][]uint16
	for op := range 256 {
		for hi := range 16 {
			u := uint16(hi<<12 | 0x0300 | op)
			streams = append(streams, []uint16{u, 0xbeef, 0x1234, 0x5678, 0x9abc}, []uint16{u}, []uint16{u, 7})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 64 {
		s := make([]uint16, 512)
		for i := range s {
			switch rng.IntN(8) {
			case 0:
				s[i] = uint16(rng.IntN(4)) << 8 // nop or a payload ident
			case 1:
				s[i] = uint16(rng.IntN(4))
			default:
				s[i] = uint16(rng.Uint32())
			}
		}
		streams = append(streams, s)
	}
	for _, s := range streams {
		if err := eachRefAgrees(s); err != nil {
			t.Error(err)
		}
		for pc := -1; pc <= len(s); pc++ {
			if pc < 0 || pc >= len(s) {
				if _, _, err := DecodeRef(s, pc); err == nil {
					t.Errorf("pc %d of %d units: no error", pc, len(s))
				}
				continue
			}
			if err := decodeRefAgrees(s, pc); err != nil {
				t.Error(err)
			}
		}
	}
}

// eachRefAgrees checks EachRef against a loop of DecodeRef that steps over
// quickened opcodes.
func eachRefAgrees(insns []uint16) error {
	type hit struct {
		pc  int
		ref Ref
	}
	var want []hit
	var wantErr error
	for pc := 0; pc < len(insns); {
		ref, w, err := DecodeRef(insns, pc)
		if err != nil {
			if q, qw, qerr := DecodeQuickened(insns, pc); qerr == nil && q.Op.Quickened() {
				pc += qw
				continue
			}
			wantErr = err
			break
		}
		if ref.Kind != IndexNone {
			want = append(want, hit{pc, ref})
		}
		pc += w
	}
	var got []hit
	err := EachRef(insns, func(pc int, r Ref) { got = append(got, hit{pc, r}) })
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		return fmt.Errorf("EachRef error %v, want %v", err, wantErr)
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("EachRef found %d references, want %d: %v vs %v", len(got), len(want), got, want)
	}
	return nil
}

// TestDecodeIntoReusesArgs: decoding into one Instruction keeps the
// capacity of Args across instructions without arguments, and Args holds
// only the current instruction's registers.
func TestDecodeIntoReusesArgs(t *testing.T) {
	insns := []uint16{
		0x556e, 9, 0x4321, // invoke-virtual {v1, v2, v3, v4, v5}
		0x000e,            // return-void
		0x2071, 9, 0x0076, // invoke-static {v6, v7}
	}
	var ins Instruction
	var wantArgs = [][]uint32{{1, 2, 3, 4, 5}, {}, {6, 7}}
	allocs := testing.AllocsPerRun(10, func() {
		for pc, k := 0, 0; pc < len(insns); k++ {
			w, err := DecodeInto(&ins, insns, pc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ins.Args, wantArgs[k]) {
				t.Fatalf("pc %d: args %v, want %v", pc, ins.Args, wantArgs[k])
			}
			pc += w
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass, want 0", allocs)
	}
}
