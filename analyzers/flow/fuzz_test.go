package flow

import (
	"encoding/binary"
	"testing"

	"github.com/romscan/romscan/internal/dex"
)

// nopHooks drives the register analysis without an app: every invoke
// result carries one label, every return is an output.
type nopHooks struct{ outs int }

func (h *nopHooks) prepare(idx int, ins *dex.Instruction, label func(int32) int) {
	if ins.Op.IsInvoke() {
		label(int32(idx % 200))
	}
}

func (h *nopHooks) step(idx int, ins *dex.Instruction, s *stepCtx) {
	if ins.Op.IsInvoke() {
		res := s.r.result(s.s)
		for _, a := range ins.Args {
			or(res, s.r.taint(s.s, a))
		}
		if l, ok := s.r.byNode.get(int32(idx % 200)); ok {
			res[l/64] |= 1 << (l % 64)
		}
	}
	if ins.Op.IsReturn() && !empty(s.r.taint(s.s, ins.A)) {
		h.outs++
	}
}

// runCode analyses raw code units as a method with regs registers.
func runCode(units []uint16, regs uint16, tries []dex.Try) (*run, bool) {
	code := &dex.Code{Registers: regs, Ins: min(regs, 2), Insns: units, Tries: tries}
	r := newRun(code, &nopHooks{}, newBudget(200_000, 0))
	r.b.deadline = r.b.deadline.Add(1 << 40)
	ok := r.analyze(func(r *run) {
		first := int(regs) - int(code.Ins)
		for i := 0; i < int(code.Ins); i++ {
			r.params = append(r.params, first+i)
			r.paramLabel = append(r.paramLabel, r.label(int32(1000+i)))
		}
	})
	return r, ok
}

// FuzzFlow runs the register analysis on random method bodies: it must end
// within its budget without panicking, whatever the code.
func FuzzFlow(f *testing.F) {
	// move-result after invoke-static, a loop, a return; and garbage.
	f.Add([]byte{0x71, 0x10, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x28, 0xfd, 0x11, 0x00}, uint16(4))
	f.Add([]byte{0x12, 0x10, 0x38, 0x00, 0x03, 0x00, 0x0e, 0x00, 0x11, 0x01}, uint16(2))
	f.Add([]byte{0x2b, 0x00, 0x04, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}, uint16(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint16(65535))
	f.Fuzz(func(t *testing.T, b []byte, regs uint16) {
		if len(b) > 1<<16 {
			return
		}
		units := make([]uint16, len(b)/2)
		for i := range units {
			units[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		var tries []dex.Try
		if len(units) > 4 {
			tries = []dex.Try{{StartPC: uint32(units[0] % 64), Count: uint32(units[1] % 64), Handlers: []dex.Handler{{PC: uint32(units[2] % 128)}}, CatchAllPC: int32(units[3] % 128)}}
		}
		runCode(units, regs, tries)
	})
}

// TestHostileMethods: invalid code, a huge method, an endless loop and
// out-of-range registers end within the budget.
func TestHostileMethods(t *testing.T) {
	huge := make([]uint16, 0, 120000)
	for len(huge) < 119990 {
		huge = append(huge, 0x0071, 0x0000) // invoke-static {} method@0
		huge = append(huge, 0x000c)         // move-result-object v0
		huge = append(huge, 0x0038, 0x0002) // if-eqz v0, +2
	}
	huge = append(huge, 0x0011) // return-object v0
	tests := []struct {
		name  string
		units []uint16
		regs  uint16
	}{
		{"invalid-opcode", []uint16{0x003e, 0x0000}, 4},
		{"truncated-invoke", []uint16{0x1071}, 4},
		{"endless-loop", []uint16{0x0028}, 1},                    // goto +0
		{"registers-out-of-range", []uint16{0xff01, 0x0011}, 2},  // move vF, vF; return vF
		{"branch-outside", []uint16{0x0028 | 0x7f00, 0x000e}, 1}, // goto +127
		{"huge-method", huge, 16},
		{"wide-past-end", []uint16{0x0004 | 0x1000, 0x0010}, 2}, // move-wide v0, v1; return-wide
		// Found by FuzzFlow: a unary op on a known constant into a register
		// past the frame indexed the constant table out of range.
		{"unary-dest-out-of-range", []uint16{0x2612, 0x6b84}, 10}, // const/4 v6, #2; long-to-int v11, v6
		{"neg-dest-out-of-range", []uint16{0x2612, 0x6b7b}, 10},   // const/4 v6, #2; neg-int v11, v6
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := runCode(tt.units, tt.regs, nil)
			if r.b.steps > r.b.maxSteps+int64(len(tt.units))+1 {
				t.Errorf("ran %d steps, budget %d", r.b.steps, r.b.maxSteps)
			}
		})
	}
}

func TestSplitDesc(t *testing.T) {
	tests := []struct {
		desc   string
		params []string
		ret    string
	}{
		{"()V", nil, "V"},
		{"(JLjava/lang/String;[[IZ)Ljava/lang/Object;", []string{"J", "Ljava/lang/String;", "[[I", "Z"}, "Ljava/lang/Object;"},
		{"(Lbroken", nil, ""},
		{"(L;[)V", []string{"L;"}, "V"},
	}
	for _, tt := range tests {
		p, r := splitDesc(tt.desc)
		if len(p) != len(tt.params) || r != tt.ret {
			t.Errorf("splitDesc(%q) = %q, %q; want %q, %q", tt.desc, p, r, tt.params, tt.ret)
			continue
		}
		for i := range p {
			if p[i] != tt.params[i] {
				t.Errorf("splitDesc(%q) = %q; want %q", tt.desc, p, tt.params)
			}
		}
	}
}
