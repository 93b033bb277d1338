package dex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
)

func openBoth(t *testing.T, b []byte) map[string]*File {
	t.Helper()
	mem, err := OpenBytes(b)
	if err != nil {
		t.Fatalf("OpenBytes: %v", err)
	}
	ra, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return map[string]*File{"bytes": mem, "readerat": ra}
}

func TestSampleDEX(t *testing.T) {
	for name, f := range openBoth(t, sampleDEX()) {
		t.Run(name, func(t *testing.T) {
			if f.Version() != 35 {
				t.Errorf("Version = %d, want 35", f.Version())
			}
			s, err := f.String(5)
			if err != nil || s != "hi \x00" {
				t.Errorf("String(5) = %q, %v; want %q", s, err, "hi \x00")
			}
			off, err := f.StringOffset(5)
			if err != nil || !bytes.HasPrefix(sampleDEX()[off:], []byte("hi \xc0\x80\x00")) {
				t.Errorf("StringOffset(5) = %#x, %v", off, err)
			}
			p, err := f.Proto(1)
			if err != nil || p.Descriptor() != "(Ljava/lang/String;)V" {
				t.Errorf("Proto(1) = %+v, %v", p, err)
			}
			fr, err := f.Field(0)
			if err != nil || fr.String() != "LFoo;->x:Ljava/lang/String;" {
				t.Errorf("Field(0) = %v, %v", fr, err)
			}
			m, err := f.Method(1)
			if err != nil || m.String() != "LBar;->go(Ljava/lang/String;)V" {
				t.Errorf("Method(1) = %v, %v", m, err)
			}
			c, err := f.Class(0)
			if err != nil {
				t.Fatalf("Class(0): %v", err)
			}
			run := MethodRef{Class: "LFoo;", Name: "run", Descriptor: "()V"}
			want := &Class{Name: "LFoo;", Super: "Ljava/lang/Object;", Access: AccPublic, ClassDataOff: c.ClassDataOff,
				InstanceFields: []EncodedField{{Field: FieldRef{"LFoo;", "x", "Ljava/lang/String;"}, Index: 0, Access: AccPublic}},
				Methods:        []EncodedMethod{{Ref: run, Index: 0, Access: AccPublic, Direct: true, CodeOff: c.Methods[0].CodeOff}},
			}
			if diff := cmp.Diff(want, c); diff != "" {
				t.Errorf("Class(0) (-want +got):\n%s", diff)
			}
			code, err := f.Code(&c.Methods[0])
			if err != nil {
				t.Fatalf("Code: %v", err)
			}
			if code.Registers != 4 || len(code.Insns) != 8 || code.Insns[0] != 0x001a || int64(code.Insns[0]) != int64(sampleDEX()[code.InsnsOff]) {
				t.Errorf("Code = %+v", code)
			}
			var calls []CallSite
			var strs []StringUse
			var fields []FieldUse
			err = f.Walk(context.Background(), Visitor{
				Call:   func(cs CallSite) error { calls = append(calls, cs); return nil },
				String: func(su StringUse) error { strs = append(strs, su); return nil },
				Field:  func(fu FieldUse) error { fields = append(fields, fu); return nil },
			})
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			wantCalls := []CallSite{{Caller: run, Target: m, TargetIndex: 1, Op: OpInvokeVirtual, PC: 4, Offset: code.InsnsOff + 8}}
			if diff := cmp.Diff(wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			wantStrs := []StringUse{{Caller: run, String: "hi \x00", StringIndex: 5, PC: 0, Offset: code.InsnsOff}}
			if diff := cmp.Diff(wantStrs, strs); diff != "" {
				t.Errorf("strings (-want +got):\n%s", diff)
			}
			wantFields := []FieldUse{{Caller: run, Field: fr, Op: OpIgetObject, PC: 2, Offset: code.InsnsOff + 4}}
			if diff := cmp.Diff(wantFields, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalkCanceled(t *testing.T) {
	f, err := OpenBytes(sampleDEX())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.CallSites(ctx, func(CallSite) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("CallSites on a canceled context = %v, want context.Canceled", err)
	}
	stop := errors.New("stop")
	if err := f.StringUses(context.Background(), func(StringUse) error { return stop }); err != stop {
		t.Errorf("StringUses with a failing callback = %v, want it returned", err)
	}
}

func TestOpenHostile(t *testing.T) {
	le := binary.LittleEndian
	mut := func(fn func(b []byte) []byte) []byte { return fn(sampleDEX()) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, extract.ErrNotFormat},
		{"short-header", sampleDEX()[:0x40], extract.ErrCorrupt},
		{"bad-magic", mut(func(b []byte) []byte { b[0] = 'x'; return b }), extract.ErrNotFormat},
		{"version-034", mut(func(b []byte) []byte { copy(b[4:], "034"); return b }), extract.ErrUnsupported},
		{"version-042", mut(func(b []byte) []byte { copy(b[4:], "042"); return b }), extract.ErrUnsupported},
		{"cdex-header-size", mut(func(b []byte) []byte { copy(b, "cdex001\x00"); return b }), extract.ErrCorrupt},
		{"cdex-002", mut(func(b []byte) []byte { copy(b, "cdex002\x00"); return b }), extract.ErrUnsupported},
		{"big-endian", mut(func(b []byte) []byte { le.PutUint32(b[40:], revEndianTag); return b }), extract.ErrUnsupported},
		{"bad-endian", mut(func(b []byte) []byte { le.PutUint32(b[40:], 1); return b }), extract.ErrCorrupt},
		{"truncated", mut(func(b []byte) []byte { return b[:len(b)-1] }), extract.ErrCorrupt},
		{"header-size", mut(func(b []byte) []byte { le.PutUint32(b[36:], 0x80); return b }), extract.ErrCorrupt},
		{"strings-beyond-end", mut(func(b []byte) []byte { le.PutUint32(b[56:], 0x7fffffff); return b }), extract.ErrCorrupt},
		{"types-over-65535", mut(func(b []byte) []byte { le.PutUint32(b[64:], 0x10000); return b }), extract.ErrCorrupt},
		{"methods-misaligned", mut(func(b []byte) []byte { le.PutUint32(b[92:], le.Uint32(b[92:])+1); return b }), extract.ErrCorrupt},
		{"no-map", mut(func(b []byte) []byte { le.PutUint32(b[52:], 0); return b }), extract.ErrCorrupt},
		{"map-beyond-end", mut(func(b []byte) []byte { le.PutUint32(b[52:], uint32(len(b))); return b }), extract.ErrCorrupt},
		{"map-huge-count", mut(func(b []byte) []byte { le.PutUint32(b[le.Uint32(b[52:]):], 1<<30); return b }), extract.ErrCorrupt},
		{"map-disagrees", mut(func(b []byte) []byte {
			m := le.Uint32(b[52:])
			le.PutUint32(b[m+4+12+4:], 99) // count of the string_ids item
			return b
		}), extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenBytes(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("OpenBytes = %v, want %v", err, tt.want)
			}
			_, err = Open(bytes.NewReader(tt.in), int64(len(tt.in)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestHostileTables corrupts indices and offsets behind a valid header: every
// accessor must fail with ErrCorrupt, never panic.
func TestHostileTables(t *testing.T) {
	le := binary.LittleEndian
	base := sampleDEX()
	f0, _ := OpenBytes(base)
	c0, _ := f0.Class(0)
	tests := []struct {
		name string
		mut  func(b []byte)
		call func(f *File) error
	}{
		{"string-index", nil, func(f *File) error { _, err := f.String(99); return err }},
		{"type-index", nil, func(f *File) error { _, err := f.Type(99); return err }},
		{"proto-index", nil, func(f *File) error { _, err := f.Proto(99); return err }},
		{"field-index", nil, func(f *File) error { _, err := f.Field(99); return err }},
		{"method-index", nil, func(f *File) error { _, err := f.Method(99); return err }},
		{"class-index", nil, func(f *File) error { _, err := f.Class(-1); return err }},
		{"string-data-offset", func(b []byte) { le.PutUint32(b[0x70:], 0xfffffff0) }, func(f *File) error { _, err := f.String(0); return err }},
		{"string-unterminated", func(b []byte) {
			b[le.Uint32(b[0x70+4*5:])] = 0 // claims 0 units, holds 5 bytes
		}, func(f *File) error { _, err := f.String(5); return err }},
		{"type-to-bad-string", func(b []byte) { le.PutUint32(b[le.Uint32(b[68:]):], 1000) }, func(f *File) error { _, err := f.Type(0); return err }},
		{"method-class-index", nil, func(f *File) error { _, err := f.MethodClassType(99); return err }},
		{"field-class-index", nil, func(f *File) error { _, err := f.FieldClassType(99); return err }},
		{"method-bad-proto", func(b []byte) { le.PutUint16(b[le.Uint32(b[92:])+2:], 77) }, func(f *File) error { _, err := f.Method(0); return err }},
		{"class-data-offset", func(b []byte) { le.PutUint32(b[le.Uint32(b[100:])+24:], 0x7ffffff0) }, func(f *File) error { _, err := f.Class(0); return err }},
		{"class-data-huge-count", func(b []byte) {
			cd := le.Uint32(b[le.Uint32(b[100:])+24:])
			copy(b[cd:], []byte{0xff, 0xff, 0xff, 0xff, 0x0f})
		}, func(f *File) error { _, err := f.Class(0); return err }},
		{"code-insns-size", func(b []byte) { le.PutUint32(b[c0.Methods[0].CodeOff+12:], 0x7fffffff) }, func(f *File) error {
			c, err := f.Class(0)
			if err != nil {
				return err
			}
			_, err = f.Code(&c.Methods[0])
			return err
		}},
		{"walk-bad-code", func(b []byte) { le.PutUint16(b[c0.Methods[0].CodeOff+16:], 0x00f5) }, func(f *File) error {
			return f.CallSites(context.Background(), func(CallSite) error { return nil })
		}},
		{"walk-bad-method-index", func(b []byte) { le.PutUint16(b[c0.Methods[0].CodeOff+16+10:], 0x7777) }, func(f *File) error {
			return f.CallSites(context.Background(), func(CallSite) error { return nil })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(base)
			if tt.mut != nil {
				tt.mut(b)
			}
			for name, f := range openBoth(t, b) {
				if err := tt.call(f); !errors.Is(err, extract.ErrCorrupt) {
					t.Errorf("%s: got %v, want ErrCorrupt", name, err)
				}
			}
		})
	}
}

// TestPrefixes opens every prefix of a valid file and uses what opens: no
// panic, and every error wraps a sentinel.
func TestPrefixes(t *testing.T) {
	b := sampleDEX()
	for n := range len(b) {
		f, err := OpenBytes(b[:n])
		if err == nil {
			exercise(f)
			continue
		}
		if !errors.Is(err, extract.ErrCorrupt) && !errors.Is(err, extract.ErrNotFormat) {
			t.Errorf("prefix %d: %v wraps no sentinel", n, err)
		}
	}
}

func TestMUTF8(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ascii", "hello", "hello"},
		{"empty", "", ""},
		{"nul", "a\xc0\x80b", "a\x00b"},
		{"two-byte", "\xc3\xa9", "é"},
		{"three-byte", "\xe2\x9c\x93", "✓"},
		{"cjk", "\xe4\xbd\xbf\xe7\x94\xa8", "使用"},
		{"surrogate-pair", "\xed\xa0\xbd\xed\xb8\x80", "😀"},
		{"lone-high", "x\xed\xa0\xbdy", "x\ufffdy"},
		{"lone-low", "\xed\xb8\x80", "\ufffd"},
		{"high-high", "\xed\xa0\xbd\xed\xa0\xbd", "\ufffd\ufffd"},
		{"truncated-2", "a\xc3", "a\ufffd"},
		{"truncated-3", "\xe2\x9c", "\ufffd\ufffd"},
		{"bad-continuation", "\xc3A", "\ufffdA"},
		{"four-byte-utf8", "\xf0\x9f\x98\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"stray-continuation", "\x80", "\ufffd"},
		{"overlong-2-nonzero", "\xc1\x81", "A"},
		{"uffff", "\xef\xbf\xbf", "\uffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeMUTF8([]byte(tt.in)); got != tt.want {
				t.Errorf("DecodeMUTF8(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// exercise calls every accessor of f over all its entries, as the fuzzer does.
func exercise(f *File) {
	ctx := context.Background()
	for i := range min(f.NumStrings(), 1000) {
		f.AppendStringBytes(nil, uint32(i))
		f.String(uint32(i))
		f.StringOffset(uint32(i))
	}
	for i := range min(f.NumTypes(), 1000) {
		f.Type(uint32(i))
	}
	for i := range min(f.NumProtos(), 1000) {
		f.Proto(uint32(i))
	}
	for i := range min(f.NumFields(), 1000) {
		f.FieldClassType(uint32(i))
		f.Field(uint32(i))
	}
	for i := range min(f.NumMethods(), 1000) {
		f.MethodClassType(uint32(i))
		f.Method(uint32(i))
	}
	for i := range min(f.NumClasses(), 200) {
		c, err := f.Class(i)
		if err != nil {
			continue
		}
		for k := range c.Methods {
			code, err := f.Code(&c.Methods[k])
			if err != nil || code == nil {
				continue
			}
			var ins Instruction
			for pc := 0; pc < len(code.Insns); {
				w, err := DecodeInto(&ins, code.Insns, pc)
				if err != nil {
					break
				}
				switch {
				case ins.Op == OpFillArrayData:
					code.FillArrayData(ins.Target)
				case ins.Op.IsSwitch():
					code.Switch(ins.Target)
				}
				pc += w
			}
		}
	}
	f.Walk(ctx, Visitor{
		Call:   func(CallSite) error { return nil },
		String: func(StringUse) error { return nil },
		Field:  func(FieldUse) error { return nil },
	})
}

// TestRefClassTypes: MethodClassType and FieldClassType give the type of
// the class Method and Field name, and fail only where those fail.
func TestRefClassTypes(t *testing.T) {
	inputs := map[string][]byte{"sample": sampleDEX()}
	for i, d := range dexFromZip(t, "apks/androguard/TestActivity.apk") {
		inputs[fmt.Sprintf("TestActivity-%d", i)] = d.data
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			f, err := OpenBytes(data)
			if err != nil {
				t.Fatal(err)
			}
			for i := range uint32(f.NumMethods()) {
				ti, err := f.MethodClassType(i)
				class, terr := f.Type(ti)
				if ref, rerr := f.Method(i); rerr == nil && (err != nil || terr != nil || class != ref.Class) {
					t.Errorf("method %d: class type %d (%q, %v), %v; Method class %q", i, ti, class, terr, err, ref.Class)
				}
			}
			for i := range uint32(f.NumFields()) {
				ti, err := f.FieldClassType(i)
				class, terr := f.Type(ti)
				if ref, rerr := f.Field(i); rerr == nil && (err != nil || terr != nil || class != ref.Class) {
					t.Errorf("field %d: class type %d (%q, %v), %v; Field class %q", i, ti, class, terr, err, ref.Class)
				}
			}
			if _, err := f.MethodClassType(uint32(f.NumMethods())); !errors.Is(err, extract.ErrCorrupt) {
				t.Errorf("method index past the table: %v, want ErrCorrupt", err)
			}
			if _, err := f.FieldClassType(uint32(f.NumFields())); !errors.Is(err, extract.ErrCorrupt) {
				t.Errorf("field index past the table: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestAppendStringBytes: the bytes String decodes, appended to what dst
// holds, in memory and through a reader; an error where String fails.
func TestAppendStringBytes(t *testing.T) {
	b := sampleDEX()
	// A string whose data offset points past the end fails in both.
	le := binary.LittleEndian
	bad := bytes.Clone(b)
	le.PutUint32(bad[le.Uint32(bad[60:])+4:], 0xfffffff0)
	for _, in := range []struct {
		name string
		data []byte
	}{{"sample", b}, {"bad-offset", bad}} {
		for mode, f := range openBoth(t, in.data) {
			t.Run(in.name+"-"+mode, func(t *testing.T) {
				for i := range uint32(f.NumStrings()) + 1 {
					s, serr := f.String(i)
					got, err := f.AppendStringBytes([]byte("x"), i)
					if (err == nil) != (serr == nil) {
						t.Fatalf("string %d: AppendStringBytes error %v, String %v", i, err, serr)
					}
					if err != nil {
						if string(got) != "x" {
							t.Errorf("string %d: dst %q changed on error", i, got)
						}
						continue
					}
					if DecodeMUTF8(got[1:]) != s || string(got[:1]) != "x" {
						t.Errorf("string %d: got %q, String %q", i, got, s)
					}
				}
			})
		}
	}
}

// TestIsASCII covers the word-at-a-time path (zero and high bytes in every
// position of a word) and the tail.
func TestIsASCII(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"Ljava/lang/String;", true},
		{"a\x00b", false},
		{"caf\xc3\xa9", false},
		{"\xc0\x80", false},
		{"\x7f", true},
		{"0123456789abcdef", true},
		{"0123456789abcde\x80", false},
		{"01234567\x0089abcdef", false},
		{"0123456\xff89abcdef", false},
		{"\x01\x01\x01\x01\x01\x01\x01\x01\x7f", true},
		{"\x00\x01\x01\x01\x01\x01\x01\x01", false},
		{"\x01\x01\x01\x01\x01\x01\x01\x00", false},
	}
	for pos := range 16 {
		for _, c := range []byte{0, 0x80, 0xc0, 0xff} {
			b := []byte("abcdefghijklmnop")
			b[pos] = c
			tests = append(tests, struct {
				in   string
				want bool
			}{string(b), false})
		}
	}
	for _, tt := range tests {
		if got := IsASCII([]byte(tt.in)); got != tt.want {
			t.Errorf("IsASCII(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if tt.want && DecodeMUTF8([]byte(tt.in)) != tt.in {
			t.Errorf("DecodeMUTF8(%q) is not itself", tt.in)
		}
	}
}

// insnsAgrees checks that Insns returns what Code returns, and fails where
// Code fails, for the methods of the first classes of f.
func insnsAgrees(f *File) error {
	for i := range min(f.NumClasses(), 200) {
		c, err := f.Class(i)
		if err != nil {
			continue
		}
		for k := range c.Methods {
			m := &c.Methods[k]
			code, cerr := f.Code(m)
			insns, off, err := f.Insns(m)
			if (err == nil) != (cerr == nil) || (err != nil && err.Error() != cerr.Error()) {
				return fmt.Errorf("%s: Insns error %v, Code %v", m.Ref, err, cerr)
			}
			if err != nil {
				continue
			}
			if (code == nil) != (insns == nil) {
				return fmt.Errorf("%s: Insns nil %v, Code nil %v", m.Ref, insns == nil, code == nil)
			}
			if code != nil && (!slices.Equal(insns, code.Insns) || off != code.InsnsOff) {
				return fmt.Errorf("%s: Insns %d units at %#x, Code %d at %#x", m.Ref, len(insns), off, len(code.Insns), code.InsnsOff)
			}
		}
	}
	return nil
}

// TestInsns: Insns agrees with Code on corpus code (with try blocks) and
// on hostile code items.
func TestInsns(t *testing.T) {
	le := binary.LittleEndian
	base := sampleDEX()
	f0, _ := OpenBytes(base)
	c0, _ := f0.Class(0)
	inputs := map[string][]byte{"sample": base}
	for i, d := range dexFromZip(t, "apks/androguard/TestActivity.apk") {
		inputs[fmt.Sprintf("TestActivity-%d", i)] = d.data
	}
	bad := bytes.Clone(base)
	le.PutUint32(bad[c0.Methods[0].CodeOff+12:], 0x7fffffff)
	inputs["insns-size"] = bad
	tries := bytes.Clone(base)
	le.PutUint16(tries[c0.Methods[0].CodeOff+6:], 3) // try items past the end of the code
	inputs["tries"] = tries
	for name, data := range inputs {
		for mode, f := range openBoth(t, data) {
			if err := insnsAgrees(f); err != nil {
				t.Errorf("%s %s: %v", name, mode, err)
			}
		}
	}
	if _, _, err := f0.Insns(&EncodedMethod{CodeOff: 0x7ffffff0}); !errors.Is(err, extract.ErrCorrupt) {
		t.Errorf("code offset past the end: %v, want ErrCorrupt", err)
	}
}
