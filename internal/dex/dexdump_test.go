package dex

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/internal/testutil"
)

// corpusDEX is one DEX file of the shared corpus, named by its location.
type corpusDEX struct {
	name string
	data []byte
}

// dexFromZip reads the classes*.dex entries of the archive at rel into memory.
func dexFromZip(t testing.TB, rel string) []corpusDEX {
	t.Helper()
	p := testutil.Corpus(t, rel)
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatalf("open %s: %v", rel, err)
	}
	defer zr.Close()
	var out []corpusDEX
	for _, zf := range zr.File {
		if !strings.HasPrefix(zf.Name, "classes") || !strings.HasSuffix(zf.Name, ".dex") {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatalf("open %s!%s: %v", rel, zf.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			t.Fatalf("read %s!%s: %v", rel, zf.Name, err)
		}
		out = append(out, corpusDEX{rel + "!" + zf.Name, b})
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no classes*.dex", rel)
	}
	return out
}

// cdexFromVDEX cuts the first CompactDex file and its shared data out of a
// VDEX (found by its magic, sized by its header).
func cdexFromVDEX(t *testing.T, rel string) corpusDEX {
	b, err := os.ReadFile(testutil.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("cdex001\x00"))
	if i < 0 || len(b)-i < compactHeaderSize {
		t.Fatalf("%s holds no CompactDex", rel)
	}
	le := binary.LittleEndian
	h := b[i:]
	end := max(int(le.Uint32(h[32:])), int(le.Uint32(h[108:])+le.Uint32(h[104:])))
	if end > len(h) {
		t.Fatalf("%s: CompactDex of %d bytes overruns the file", rel, end)
	}
	return corpusDEX{rel + "!cdex", h[:end]}
}

// crossCheckInputs lists the corpus DEX files compared against dexdump.
func crossCheckInputs(t *testing.T) []corpusDEX {
	dir := testutil.Corpus(t, "apks/androguard/dex")
	paths, err := filepath.Glob(filepath.Join(dir, "*.dex"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no DEX files in %s: %v", dir, err)
	}
	var in []corpusDEX
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, corpusDEX{"apks/androguard/dex/" + filepath.Base(p), b})
	}
	in = append(in, cdexFromVDEX(t, "firmware/iris-hp4024/system/app/SecureElement/oat/arm/SecureElement.vdex"))
	for _, rel := range []string{
		"apks/androguard/app-prod-debug.apk",
		"apks/androguard/a2dp.Vol_137.apk",
		"apks/androguard/OPCommonTelephony.jar",
		"apks/androguard/multidex.apk",
		"apks/androguard/com.teleca.jamendo_35.apk",
		"droidbench/apk/Aliasing/Merge1.apk",
		"droidbench/apk/AndroidSpecific/PrivateDataLeak1.apk",
		"droidbench/apk/ArraysAndLists/ArrayAccess1.apk",
		"droidbench/apk/Callbacks/Button1.apk",
		"droidbench/apk/GeneralJava/Exceptions1.apk",
	} {
		in = append(in, dexFromZip(t, rel)...)
	}
	return in
}

// dump is what the cross-check reads from `dexdump -f -d`.
type dump struct {
	version                                    int
	strings, types, protos, fields, methods, n int
	classes                                    []string
	calls                                      []string // "caller@pc -> target method"
	callIdx                                    []string // "caller@pc -> method@idx"
	strs                                       []string // "caller@pc string@idx = raw bytes"
	members                                    []string // "section class->name type" of every field and method
	insns                                      []string // "caller@pc op [args] [T=target] [L=literal]"
}

var (
	reOpened = regexp.MustCompile(`DEX version '0(\d\d)'`)
	reCount  = regexp.MustCompile(`^(string_ids_size|type_ids_size|proto_ids_size|field_ids_size|method_ids_size|class_defs_size)\s*: (\d+)`)
	reClass  = regexp.MustCompile(`^  Class descriptor  : '(.*)'$`)
	reName   = regexp.MustCompile(`^      name          : '(.*)'$`)
	reType   = regexp.MustCompile(`^      type          : '(.*)'$`)
	reInsn   = regexp.MustCompile(`^[0-9a-f]{6}: [0-9a-f .]+\|([0-9a-f]{4,}): (\S+)(?: (.*))?$`)
	reMethod = regexp.MustCompile(`^\{[^}]*\}, (\S+?),? .*// method@([0-9a-f]+)`)
	reString = regexp.MustCompile(`^v\d+, "(.*)" // string@([0-9a-f]+)$`)
	reArgs   = regexp.MustCompile(`^(\{[^}]*\})`)
	reTarget = regexp.MustCompile(`([0-9a-f]{4,8}) // [+-][0-9a-f]+$`)
	reFloat  = regexp.MustCompile(`#(float|double) .* // #([0-9a-f]+)$`)
	reLit    = regexp.MustCompile(`#(?:int|long) (-?\d+)`)
	reSect   = regexp.MustCompile(`^  (Static fields|Instance fields|Direct methods|Virtual methods)`)
)

// insnLine formats one instruction the way the cross-check compares them.
func insnLine(caller string, pc int, op string, args string, target string, lit string) string {
	s := fmt.Sprintf("%s@%x %s", caller, pc, op)
	if args != "" {
		s += " " + args
	}
	if target != "" {
		s += " T=" + target
	}
	if lit != "" {
		s += " L=" + lit
	}
	return s
}

// smaliMethod turns dexdump's "Lcls;.name:(desc)ret" into "Lcls;->name(desc)ret".
func smaliMethod(s string) string {
	i := 0
	for i < len(s) && s[i] == '[' {
		i++
	}
	if i < len(s) && s[i] == 'L' {
		j := strings.IndexByte(s[i:], ';')
		if j < 0 {
			return s
		}
		i += j + 1
	} else {
		i++
	}
	if i >= len(s) || s[i] != '.' {
		return s
	}
	rest := s[i+1:]
	c := strings.IndexByte(rest, ':')
	if c < 0 {
		return s
	}
	return s[:i] + "->" + rest[:c] + rest[c+1:]
}

func runDexdump(t *testing.T, bin string, d corpusDEX) (*dump, error) {
	p := filepath.Join(t.TempDir(), "in.dex")
	if err := os.WriteFile(p, d.data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-d", p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	res := &dump{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var class, name, typ, sect string
	for sc.Scan() {
		line := sc.Text()
		if m := reOpened.FindStringSubmatch(line); m != nil {
			res.version, _ = strconv.Atoi(m[1])
		} else if m := reCount.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[2])
			switch m[1] {
			case "string_ids_size":
				res.strings = n
			case "type_ids_size":
				res.types = n
			case "proto_ids_size":
				res.protos = n
			case "field_ids_size":
				res.fields = n
			case "method_ids_size":
				res.methods = n
			case "class_defs_size":
				res.n = n
			}
		} else if m := reClass.FindStringSubmatch(line); m != nil {
			class = m[1]
			res.classes = append(res.classes, class)
		} else if m := reName.FindStringSubmatch(line); m != nil {
			name = m[1]
		} else if m := reSect.FindStringSubmatch(line); m != nil {
			sect = m[1]
		} else if m := reType.FindStringSubmatch(line); m != nil {
			typ = m[1]
			res.members = append(res.members, sect+" "+class+"->"+name+" "+typ)
		} else if m := reInsn.FindStringSubmatch(line); m != nil {
			caller := class + "->" + name + typ
			pc, _ := strconv.ParseUint(m[1], 16, 32)
			op, rest := m[2], m[3]
			var args, target, lit string
			if mm := reArgs.FindStringSubmatch(rest); mm != nil && (strings.HasPrefix(op, "invoke-") || strings.HasPrefix(op, "filled-new-array")) {
				args = mm[1]
			}
			if mm := reTarget.FindStringSubmatch(rest); mm != nil && !strings.HasSuffix(op, "switch-data") && op != "array-data" {
				v, _ := strconv.ParseUint(mm[1], 16, 32)
				target = strconv.FormatUint(v, 16)
			}
			if mm := reLit.FindStringSubmatch(rest); mm != nil {
				lit = mm[1]
			} else if mm := reFloat.FindStringSubmatch(rest); mm != nil {
				// Floating-point constants print as values; compare their bits.
				h, _ := strconv.ParseUint(mm[2], 16, 64)
				switch {
				case op == "const/high16":
					lit = strconv.FormatInt(int64(int32(uint32(h)<<16)), 10)
				case op == "const-wide/high16":
					lit = strconv.FormatInt(int64(h<<48), 10)
				case mm[1] == "float":
					lit = strconv.FormatInt(int64(int32(uint32(h))), 10)
				default:
					lit = strconv.FormatInt(int64(h), 10)
				}
			}
			if op != "nop" { // spacers before payloads
				res.insns = append(res.insns, insnLine(caller, int(pc), op, args, target, lit))
			}
			switch {
			case strings.HasPrefix(op, "invoke-") && !strings.HasPrefix(op, "invoke-custom"):
				if mm := reMethod.FindStringSubmatch(rest); mm != nil {
					idx, _ := strconv.ParseUint(mm[2], 16, 32)
					res.calls = append(res.calls, fmt.Sprintf("%s@%x -> %s", caller, pc, smaliMethod(mm[1])))
					res.callIdx = append(res.callIdx, fmt.Sprintf("%s@%x -> method@%d", caller, pc, idx))
				}
			case op == "const-string" || op == "const-string/jumbo":
				// Strings holding a newline span lines; those are left out.
				if mm := reString.FindStringSubmatch(rest); mm != nil {
					idx, _ := strconv.ParseUint(mm[2], 16, 32)
					res.strs = append(res.strs, fmt.Sprintf("%s@%x string@%d = %q", caller, pc, idx, mm[1]))
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("dexdump %s: %v: %s", d.name, err, stderr.String())
	}
	return res, nil
}

// TestDexdumpCrossCheck compares the reader with Debian's dexdump on real DEX
// files: table sizes, class names, every invoke call site (caller, pc, target
// method, by index and by name) and every single-line const-string (raw bytes).
func TestDexdumpCrossCheck(t *testing.T) {
	bin, err := exec.LookPath("dexdump")
	if err != nil {
		t.Skip("dexdump not installed (Debian package dexdump): skipping the cross-check")
	}
	inputs := crossCheckInputs(t)
	for _, d := range inputs {
		t.Run(strings.NewReplacer("/", "_", "!", "_").Replace(d.name), func(t *testing.T) {
			want, err := runDexdump(t, bin, d)
			if err != nil {
				t.Fatal(err)
			}
			f, err := OpenBytes(d.data)
			if err != nil {
				t.Fatalf("OpenBytes: %v", err)
			}
			got := &dump{version: f.Version(), strings: f.NumStrings(), types: f.NumTypes(), protos: f.NumProtos(),
				fields: f.NumFields(), methods: f.NumMethods(), n: f.NumClasses()}
			for i := range f.NumClasses() {
				c, err := f.Class(i)
				if err != nil {
					t.Fatalf("Class(%d): %v", i, err)
				}
				got.classes = append(got.classes, c.Name)
				got.members = append(got.members, classMembers(c)...)
				for k := range c.Methods {
					m := &c.Methods[k]
					code, err := f.Code(m)
					if err != nil {
						t.Fatalf("Code(%s): %v", m.Ref, err)
					}
					if code != nil {
						got.insns = append(got.insns, decodeLines(t, m.Ref.String(), code)...)
					}
				}
			}
			err = f.Walk(context.Background(), Visitor{
				Call: func(cs CallSite) error {
					if cs.Op == OpInvokeCustom || cs.Op == OpInvokeCustomRange {
						return nil
					}
					caller := cs.Caller.String()
					got.calls = append(got.calls, fmt.Sprintf("%s@%x -> %s", caller, cs.PC, cs.Target))
					got.callIdx = append(got.callIdx, fmt.Sprintf("%s@%x -> method@%d", caller, cs.PC, cs.TargetIndex))
					return nil
				},
				String: func(su StringUse) error {
					raw, err := f.StringBytes(su.StringIndex)
					if err != nil {
						return err
					}
					if !bytes.ContainsAny(raw, "\n") {
						got.strs = append(got.strs, fmt.Sprintf("%s@%x string@%d = %q", su.Caller, su.PC, su.StringIndex, raw))
					}
					return nil
				},
			})
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			for _, l := range [][]string{got.insns, want.insns, got.calls, got.callIdx, got.strs, want.calls, want.callIdx, want.strs} {
				slices.Sort(l)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(dump{})); diff != "" {
				t.Errorf("dexdump (-) vs reader (+):\n%s", diff)
			}
			t.Logf("%s: %d classes, %d call sites, %d string uses agree", d.name, len(got.classes), len(got.calls), len(got.strs))
		})
	}
}

// classMembers lists c's fields and methods as runDexdump does.
func classMembers(c *Class) []string {
	var out []string
	for _, fl := range c.StaticFields {
		out = append(out, "Static fields "+c.Name+"->"+fl.Field.Name+" "+fl.Field.Type)
	}
	for _, fl := range c.InstanceFields {
		out = append(out, "Instance fields "+c.Name+"->"+fl.Field.Name+" "+fl.Field.Type)
	}
	for _, m := range c.Methods {
		sect := "Virtual methods"
		if m.Direct {
			sect = "Direct methods"
		}
		out = append(out, sect+" "+c.Name+"->"+m.Ref.Name+" "+m.Ref.Descriptor)
	}
	return out
}

// decodeLines decodes code linearly with Decode, formatted as runDexdump does.
func decodeLines(t *testing.T, caller string, code *Code) []string {
	var out []string
	for pc := 0; pc < len(code.Insns); {
		ins, w, err := DecodeQuickened(code.Insns, pc)
		if err != nil {
			t.Fatalf("%s: %v", caller, err)
		}
		var args, target, lit string
		op := ins.Op.Name()
		switch {
		case ins.Op == OpPayload:
			op = map[uint16]string{PackedSwitchPayload: "packed-switch-data", SparseSwitchPayload: "sparse-switch-data",
				FillArrayDataPayload: "array-data"}[code.Insns[pc]]
		case ins.Op == OpNop:
			op = ""
		}
		if ins.Op.IsInvoke() || ins.Op == OpFilledNewArray || ins.Op == OpFilledNewArrayRange || (ins.Op.Quickened() && strings.HasPrefix(op, "invoke")) {
			regs := make([]string, len(ins.Args))
			for i, r := range ins.Args {
				regs[i] = fmt.Sprintf("v%d", r)
			}
			args = "{" + strings.Join(regs, ", ") + "}"
		}
		if ins.Op.IsBranch() || ins.Op == OpFillArrayData {
			target = strconv.FormatUint(uint64(uint32(ins.Target)), 16)
		}
		switch ins.Op.Format() {
		case "11n", "21s", "21h", "31i", "22b", "22s", "51l":
			lit = strconv.FormatInt(ins.Literal, 10)
		}
		if op != "" {
			out = append(out, insnLine(caller, pc, op, args, target, lit))
		}
		pc += w
	}
	return out
}
