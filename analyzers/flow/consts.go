package flow

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/romscan/romscan/internal/dex"
)

// The constant pass walks a method's instructions once, in code order, and
// folds what strings, integers and byte arrays registers hold: StringBuilder
// and concat chains, String.format, Base64-decoded constants, fill-array-data
// arrays XOR-ed in a loop, and the endpoint an object (URL, socket, request)
// was made for. It is a heuristic (loops run once, branches are ignored):
// what it gives are endpoint strings, each with how it was recovered.

// maxConstLen bounds a folded string, so a loop appending to a builder
// cannot grow it without end.
const maxConstLen = 4096

type ckind uint8

const (
	cNone ckind = iota
	cStr
	cInt
	cArr  // byte or char array with known contents
	cElem // an element read from a known array (for XOR loops)
	cSB   // a StringBuilder with known contents
	cObj  // an object made for an endpoint
	cObjs // an Object[] of known strings (String.format arguments)
	// Reflection: a Class (s: its descriptor), an object of a known class
	// (s), and a Method or Constructor (s: class, name, nargs).
	cClass
	cInst
	cMeth
)

type carr struct {
	data  []byte
	chars bool // a char[]: data is UTF-16LE
	how   string
	done  bool // a whole-array transform was applied
}

type cval struct {
	kind ckind
	s    string
	i    int64
	arr  *carr
	how  string // "" for a plain constant
	ep   string // the endpoint of an object
	// cElem: the array read, and the XOR applied to the element.
	xor    int64
	hasXor bool
	key    *carr
	objs   []string
	// cMeth: the method's name and parameter count (-1 unknown).
	name  string
	nargs int
}

// reflCall is a reflective call whose target the constant pass resolved
// to a class and a method name: Method.invoke, Constructor.newInstance or
// Class.newInstance (name "<init>").
type reflCall struct {
	class, name string
	nargs       int // parameter count, -1 when unknown
}

// recovered is an endpoint folded from code.
type recovered struct {
	value string
	how   string
	pc    int
}

// constInfo is what the constant pass tells the other passes.
type constInfo struct {
	keys      map[int]string   // instruction index → first String argument, when constant
	endpoints map[int][]string // instruction index → endpoints of an invoke's receiver and arguments
	found     []recovered
	// reflect holds the reflective calls resolved to a class and a name,
	// by instruction index.
	reflect map[int]reflCall
}

// constScratch holds the constant pass's buffers from one method to the
// next.
type constScratch struct {
	info     constInfo
	regs     []cval
	args     []cval
	argp     []*cval
	none     cval // what an out-of-range register holds
	argTypes []string
	params   []string // a call's parameter types
}

// constPass folds the constants of one method. The result is valid until
// the next call.
func (e *engine) constPass(insns []dex.Instruction, code *dex.Code, nregs int, dc *dexCache, m *method) *constInfo {
	dx := dc.dx
	sc := &e.cs
	ci := &sc.info
	if ci.keys == nil {
		ci.keys, ci.endpoints = map[int]string{}, map[int][]string{}
	}
	clear(ci.keys)
	clear(ci.endpoints)
	ci.found, ci.reflect = nil, nil
	if cap(sc.regs) < nregs+1 {
		sc.regs = make([]cval, nregs+1)
	}
	regs := sc.regs[:nregs+1]
	clear(regs)
	defer clear(regs) // drop references to this method's values
	res := nregs
	if m != nil && !m.static() && code.Ins > 0 {
		// "this" is an object of the method's class (or a subclass).
		if this := int(code.Registers) - int(code.Ins); this >= 0 && this < nregs {
			regs[this] = cval{kind: cInst, s: m.cls.name}
		}
	}
	// Reflective values stored in fields of this method's objects, in code
	// order (the class or Method a field holds is usually set just before
	// it is used).
	var local map[string]cval
	get := func(r uint32) cval {
		if int(r) < nregs {
			return regs[r]
		}
		return cval{}
	}
	// at points to a register's value (to a zero value, never written,
	// for one out of range).
	at := func(r uint32) *cval {
		if int(r) < nregs {
			return &regs[r]
		}
		sc.none = cval{}
		return &sc.none
	}
	put := func(r uint32, v cval) {
		if int(r) < nregs {
			regs[r] = v
		}
	}
	found := func(s, how string, pc int) {
		if how == "" || len(ci.found) >= 64 {
			return
		}
		ci.found = append(ci.found, recovered{value: s, how: how, pc: pc})
	}
	for idx := range insns {
		ins := &insns[idx]
		op := ins.Op
		switch {
		case op >= dex.OpMove && op <= dex.OpMoveObject16:
			put(ins.A, get(ins.B))
		case op >= dex.OpMoveResult && op <= dex.OpMoveResultObject:
			put(ins.A, regs[res])
			regs[res] = cval{}
		case op >= dex.OpConst4 && op <= dex.OpConstWideHigh16:
			put(ins.A, cval{kind: cInt, i: ins.Literal})
		case op == dex.OpConstString || op == dex.OpConstStringJumbo:
			s, err := dx.String(ins.Index)
			if err != nil {
				put(ins.A, cval{})
				break
			}
			put(ins.A, cval{kind: cStr, s: s})
		case op == dex.OpNewArray:
			put(ins.A, cval{})
		case op == dex.OpConstClass:
			if t, err := dx.Type(ins.Index); err == nil {
				put(ins.A, cval{kind: cClass, s: t})
			} else {
				put(ins.A, cval{})
			}
		case op == dex.OpFillArrayData:
			width, data, err := code.FillArrayData(ins.Target)
			if err != nil || (width != 1 && width != 2) || len(data) > maxConstLen*2 {
				break
			}
			put(ins.A, cval{kind: cArr, arr: &carr{data: append([]byte(nil), data...), chars: width == 2, how: "fill-array-data"}})
		case op >= dex.OpAget && op <= dex.OpAgetShort:
			if a := get(ins.B); a.kind == cArr {
				put(ins.A, cval{kind: cElem, arr: a.arr})
			} else {
				put(ins.A, cval{})
			}
		case op >= dex.OpAput && op <= dex.OpAputShort:
			v, a := get(ins.A), get(ins.B)
			switch {
			case a.kind == cArr && v.kind == cElem && v.arr == a.arr && !a.arr.done && (v.hasXor || v.key != nil):
				xorArray(a.arr, v)
			case a.kind == cObjs && op == dex.OpAputObject:
				if i, ok := get(ins.C).i, get(ins.C).kind == cInt; ok && i >= 0 && i < int64(len(a.objs)) {
					a.objs[i] = v.text()
				}
			}
		case op == dex.OpXorIntLit8 || op == dex.OpXorIntLit16:
			v := get(ins.B)
			if v.kind == cElem {
				v.xor, v.hasXor = ins.Literal, true
				put(ins.A, v)
			} else {
				put(ins.A, cval{})
			}
		case op == dex.OpXorInt || op == dex.OpXorInt2addr:
			b, c := get(ins.B), get(ins.C)
			if op == dex.OpXorInt2addr {
				b, c = get(ins.A), get(ins.B)
			}
			switch {
			case b.kind == cElem && c.kind == cInt:
				b.xor, b.hasXor = c.i, true
				put(ins.A, b)
			case b.kind == cElem && c.kind == cElem && c.arr != b.arr:
				b.key = c.arr
				put(ins.A, b)
			case c.kind == cElem && b.kind == cElem && c.arr != b.arr:
				c.key = b.arr
				put(ins.A, c)
			default:
				put(ins.A, cval{})
			}
		case op >= dex.OpIntToLong && op <= dex.OpIntToShort:
			v := get(ins.B)
			if v.kind != cElem && v.kind != cInt {
				v = cval{}
			}
			put(ins.A, v)
		case op == dex.OpSgetObject || op == dex.OpIgetObject:
			fi := e.field(dc, ins.Index)
			if fi == nil {
				put(ins.A, cval{})
				break
			}
			k := fi.key
			if v, ok := local[k]; ok {
				put(ins.A, v)
			} else if s, ok := e.fieldStr[k]; ok {
				put(ins.A, cval{kind: cStr, s: s})
			} else if v, ok := e.fieldRefl[k]; ok {
				put(ins.A, v)
			} else {
				put(ins.A, cval{})
			}
		case op == dex.OpSputObject || op == dex.OpIputObject:
			fi := e.field(dc, ins.Index)
			if fi == nil {
				break
			}
			k := fi.key
			v := get(ins.A)
			switch v.kind {
			case cStr, cClass, cInst, cMeth:
				if local == nil {
					local = map[string]cval{}
				}
				if len(local) < 1024 {
					local[k] = v
				}
			default:
				delete(local, k)
			}
			switch v.kind {
			case cStr:
				if _, dup := e.fieldStr[k]; !dup && len(e.fieldStr) < 1<<16 {
					e.fieldStr[k] = v.s
				}
			case cClass, cMeth:
				if _, dup := e.fieldRefl[k]; !dup && len(e.fieldRefl) < 1<<16 {
					e.fieldRefl[k] = v
				}
			}
		case op.IsInvoke() && op.IndexKind() == dex.IndexMethod:
			mr := dc.methodRef(ins.Index)
			if mr == nil {
				break
			}
			ref := mr.ref
			// Read from the descriptor here rather than kept with every
			// call's information (a large app holds ten thousand).
			params := splitParams(sc.params[:0], ref.Descriptor)
			sc.params = params
			static := op == dex.OpInvokeStatic || op == dex.OpInvokeStaticRange
			// The arguments are read in place (a value is large); copies
			// are made only for the calls the folders may know.
			argp, argTypes := sc.argp[:0], sc.argTypes[:0]
			ai := 0
			if !static {
				if ai < len(ins.Args) {
					argp = append(argp, at(ins.Args[ai]))
					argTypes = append(argTypes, ref.Class)
				}
				ai++
			}
			for _, p := range params {
				if ai < len(ins.Args) {
					argp = append(argp, at(ins.Args[ai]))
					argTypes = append(argTypes, p)
				}
				ai++
				if wide(p) {
					ai++
				}
			}
			sc.argp, sc.argTypes = argp, argTypes
			first := 0
			if !static {
				first = 1
			}
			if first < len(argp) && argp[first].kind == cStr {
				ci.keys[idx] = argp[first].s
			}
			var eps []string
			for _, a := range argp {
				switch {
				case a.ep != "":
					eps = append(eps, a.ep)
				case a.kind == cStr && len(a.s) < 512 && e.looksEndpoint(a.s):
					eps = append(eps, a.s)
				}
			}
			if len(eps) > 0 {
				ci.endpoints[idx] = eps
			}
			var args []cval
			if mr.reflective || mr.foldable {
				args = sc.args[:0]
				for _, a := range argp {
					args = append(args, *a)
				}
				sc.args = args
			}
			if mr.reflective {
				if rc, v, ok := reflection(ref, static, args); ok {
					if rc.class != "" {
						if ci.reflect == nil {
							ci.reflect = map[int]reflCall{}
						}
						ci.reflect[idx] = rc
					}
					regs[res] = v
					break
				}
			}
			var out cval
			var recv *cval
			ok := false
			if mr.foldable {
				out, recv, ok = foldCall(ref, static, args, argTypes)
			}
			if ok {
				if recv != nil && !static && len(ins.Args) > 0 {
					put(ins.Args[0], *recv)
					if recv.kind == cStr && recv.how != "" && e.looksEndpoint(recv.s) {
						found(recv.s, recv.how, ins.PC)
					}
				}
				regs[res] = out
				if out.kind == cStr && out.how != "" && e.looksEndpoint(out.s) {
					found(out.s, out.how, ins.PC)
				}
				if out.kind == cObj && strings.HasPrefix(out.how, "host and port") {
					found(out.ep, out.how, ins.PC)
				}
				if recv != nil && recv.kind == cObj && strings.HasPrefix(recv.how, "host and port") {
					found(recv.ep, recv.how, ins.PC)
				}
				break
			}
			// Default: an object made from an endpoint keeps it; a call on it
			// or with it passes it on (openConnection, getOutputStream, newCall).
			var ep string
			if !static && len(argp) > 0 && argp[0].ep != "" {
				ep = argp[0].ep
			}
			for _, a := range argp {
				if ep == "" && a.ep != "" {
					ep = a.ep
				}
			}
			regs[res] = cval{}
			if ep != "" {
				regs[res] = cval{kind: cObj, ep: ep}
				if !static && len(ins.Args) > 0 && argp[0].ep == "" && (argp[0].kind == cNone || argp[0].kind == cInst) {
					put(ins.Args[0], cval{kind: cObj, ep: ep})
				}
			}
		case op == dex.OpFilledNewArray || op == dex.OpFilledNewArrayRange:
			var objs []string
			for _, a := range ins.Args {
				objs = append(objs, get(a).text())
			}
			regs[res] = cval{kind: cObjs, objs: objs}
		case op == dex.OpNewInstance, op == dex.OpCheckCast, op.IsBranch(), op.IsReturn(), op == dex.OpNop, op == dex.OpGoto, op == dex.OpGoto16, op == dex.OpGoto32, op == dex.OpThrow, op == dex.OpMonitorEnter, op == dex.OpMonitorExit:
			if op == dex.OpNewInstance {
				v := cval{}
				if t, err := dx.Type(ins.Index); err == nil {
					v = cval{kind: cInst, s: t}
				}
				put(ins.A, v)
			}
		default:
			// Anything else writes vA (when it writes at all) with an
			// unknown value.
			if f := op.Format(); f != "" && f != "10x" && !strings.HasPrefix(f, "3") {
				put(ins.A, cval{})
			}
		}
		if op == dex.OpNewArray {
			if n := get(ins.B); n.kind == cInt && n.i >= 0 && n.i <= 64 {
				// A small Object[] may be String.format's arguments, a
				// Class[] the parameter types of a reflective lookup.
				put(ins.A, cval{kind: cObjs, objs: make([]string, n.i)})
			}
		}
	}
	return ci
}

// text renders a folded value as Java's string conversion would.
func (v cval) text() string {
	switch v.kind {
	case cStr, cSB:
		return v.s
	case cInt:
		return strconv.FormatInt(v.i, 10)
	}
	return "{?}"
}

// reflection folds Class.forName, getClass, getMethod and friends, and
// resolves Method.invoke, Constructor.newInstance and Class.newInstance on
// folded values to the class and method they run. ok is false for calls
// that are not reflection; rc.class is "" when the call runs nothing known.
func reflection(ref dex.MethodRef, static bool, args []cval) (rc reflCall, out cval, ok bool) {
	arg := func(i int) cval {
		if i < len(args) {
			return args[i]
		}
		return cval{}
	}
	c, n := ref.Class, ref.Name
	switch {
	case c == "Ljava/lang/Class;" && n == "forName" && static,
		c == "Ljava/lang/ClassLoader;" && n == "loadClass" && !static:
		a := arg(0)
		if !static {
			a = arg(1)
		}
		if a.kind == cStr && a.s != "" && !strings.ContainsAny(a.s, "{}/;[") && len(a.s) < 512 {
			return rc, cval{kind: cClass, s: "L" + strings.ReplaceAll(a.s, ".", "/") + ";"}, true
		}
		return rc, cval{}, true
	case n == "getClass" && ref.Descriptor == "()Ljava/lang/Class;" && !static:
		if a := arg(0); a.kind == cInst {
			return rc, cval{kind: cClass, s: a.s}, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/Class;" && (n == "getMethod" || n == "getDeclaredMethod"):
		cls, name, types := arg(0), arg(1), arg(2)
		if cls.kind == cClass && name.kind == cStr {
			v := cval{kind: cMeth, s: cls.s, name: name.s, nargs: -1}
			if types.kind == cObjs {
				v.nargs = len(types.objs)
			}
			return rc, v, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/Class;" && (n == "getConstructor" || n == "getDeclaredConstructor"):
		cls, types := arg(0), arg(1)
		if cls.kind == cClass {
			v := cval{kind: cMeth, s: cls.s, name: "<init>", nargs: -1}
			if types.kind == cObjs {
				v.nargs = len(types.objs)
			}
			return rc, v, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/Class;" && n == "newInstance":
		if cls := arg(0); cls.kind == cClass {
			return reflCall{class: cls.s, name: "<init>", nargs: 0}, cval{kind: cInst, s: cls.s}, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/reflect/Constructor;" && n == "newInstance":
		if m := arg(0); m.kind == cMeth {
			return reflCall{class: m.s, name: m.name, nargs: m.nargs}, cval{kind: cInst, s: m.s}, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/reflect/Method;" && n == "getName":
		if m := arg(0); m.kind == cMeth {
			return rc, cval{kind: cStr, s: m.name}, true
		}
		return rc, cval{}, true
	case c == "Ljava/lang/reflect/Method;" && n == "invoke":
		if m := arg(0); m.kind == cMeth {
			return reflCall{class: m.s, name: m.name, nargs: m.nargs}, cval{}, true
		}
		return rc, cval{}, true
	}
	return rc, cval{}, false
}

func xorArray(a *carr, v cval) {
	a.done = true
	for i := range a.data {
		var k byte
		if v.hasXor {
			k = byte(v.xor)
		}
		if v.key != nil && len(v.key.data) > 0 {
			k ^= v.key.data[i%len(v.key.data)]
		}
		a.data[i] ^= k
	}
	if v.key != nil {
		a.how = "fill-array-data bytes XOR-ed with a key array"
	} else {
		a.how = fmt.Sprintf("fill-array-data bytes XOR-ed with 0x%x", byte(v.xor))
	}
}

func arrString(a *carr) string {
	if !a.chars {
		return string(a.data)
	}
	u := make([]uint16, len(a.data)/2)
	for i := range u {
		u[i] = uint16(a.data[2*i]) | uint16(a.data[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

func clip(s string) string {
	if len(s) > maxConstLen {
		return s[:maxConstLen]
	}
	return s
}

// foldableClass says whether foldCall may know a call on class c: it
// knows none on other classes.
func foldableClass(c string) bool {
	switch c {
	case "Ljava/lang/StringBuilder;", "Ljava/lang/StringBuffer;", "Ljava/lang/String;", "Landroid/util/Base64;", "Ljava/util/Base64$Decoder;",
		"Ljava/net/URL;", "Ljava/net/Socket;", "Ljava/net/InetSocketAddress;", "Ljavax/net/ssl/SSLSocket;", "Ljavax/net/SocketFactory;",
		"Ljavax/net/ssl/SSLSocketFactory;", "Ljava/net/InetAddress;", "Landroid/net/Uri;":
		return true
	}
	return strings.HasPrefix(c, "Lorg/apache/http/client/methods/Http") || strings.HasSuffix(c, "Request$Builder;")
}

// reflectiveCall says whether reflection may know a call of class c and
// name n: it knows none other.
func reflectiveCall(c, n string) bool {
	switch c {
	case "Ljava/lang/Class;", "Ljava/lang/ClassLoader;", "Ljava/lang/reflect/Constructor;", "Ljava/lang/reflect/Method;":
		return true
	}
	return n == "getClass"
}

// foldCall folds the string, encoding and endpoint APIs. It returns the
// result value and, when the call changes its receiver, the receiver's new
// value; ok is false for calls it does not know.
func foldCall(ref dex.MethodRef, static bool, args []cval, types []string) (out cval, recv *cval, ok bool) {
	arg := func(i int) cval {
		if i < len(args) {
			return args[i]
		}
		return cval{}
	}
	var self cval
	if !static {
		self = arg(0)
		args = args[1:]
		types = types[1:]
	}
	strArg := func(i int) (string, bool) {
		a := arg(i)
		if !static {
			a = cval{}
			if i < len(args) {
				a = args[i]
			}
		}
		switch a.kind {
		case cStr:
			return a.s, true
		case cInt:
			if i < len(types) && types[i] == "C" {
				return string(rune(a.i)), true
			}
			return strconv.FormatInt(a.i, 10), true
		}
		return "", false
	}
	nth := func(i int) cval {
		if static {
			return arg(i)
		}
		if i < len(args) {
			return args[i]
		}
		return cval{}
	}
	c, n := ref.Class, ref.Name
	switch {
	case (c == "Ljava/lang/StringBuilder;" || c == "Ljava/lang/StringBuffer;") && n == "<init>":
		s, _ := strArg(0)
		if len(args) > 0 && types[0] == "I" {
			s = ""
		} else if len(args) > 0 && nth(0).kind != cStr {
			s = "{?}"
		}
		return cval{}, &cval{kind: cSB, s: s, how: "StringBuilder"}, true
	case (c == "Ljava/lang/StringBuilder;" || c == "Ljava/lang/StringBuffer;") && n == "append":
		if self.kind != cSB {
			return cval{}, nil, true
		}
		s, known := strArg(0)
		if !known {
			s = "{?}"
		}
		v := cval{kind: cSB, s: clip(self.s + s), how: self.how}
		return v, &v, true
	case (c == "Ljava/lang/StringBuilder;" || c == "Ljava/lang/StringBuffer;") && n == "reverse":
		if self.kind != cSB {
			return cval{}, nil, true
		}
		r := []rune(self.s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		v := cval{kind: cSB, s: string(r), how: "reversed string"}
		return v, &v, true
	case (c == "Ljava/lang/StringBuilder;" || c == "Ljava/lang/StringBuffer;") && n == "toString":
		if self.kind != cSB {
			return cval{}, nil, true
		}
		return cval{kind: cStr, s: self.s, how: self.how}, nil, true
	case c == "Ljava/lang/String;" && n == "concat":
		a, ok1 := strArg(0)
		if self.kind == cStr && ok1 {
			return cval{kind: cStr, s: clip(self.s + a), how: "String.concat"}, nil, true
		}
		return cval{}, nil, true
	case c == "Ljava/lang/String;" && (n == "valueOf" || n == "toString" || n == "trim" || n == "intern"):
		if s, ok1 := strArg(0); static && ok1 {
			return cval{kind: cStr, s: s, how: nth(0).how}, nil, true
		}
		if self.kind == cStr {
			return self, nil, true
		}
		return cval{}, nil, true
	case c == "Ljava/lang/String;" && n == "substring" && self.kind == cStr:
		b, okb := nth(0), true
		end := cval{kind: cInt, i: -1}
		if len(args) > 1 {
			end = nth(1)
		}
		okb = b.kind == cInt && end.kind == cInt
		u := utf16.Encode([]rune(self.s))
		if end.i == -1 && len(args) == 1 {
			end.i = int64(len(u))
		}
		if !okb || b.i < 0 || end.i < b.i || end.i > int64(len(u)) {
			return cval{}, nil, true
		}
		return cval{kind: cStr, s: string(utf16.Decode(u[b.i:end.i])), how: "substring of a constant"}, nil, true
	case c == "Ljava/lang/String;" && (n == "toLowerCase" || n == "toUpperCase") && self.kind == cStr:
		if n == "toLowerCase" {
			return cval{kind: cStr, s: strings.ToLower(self.s), how: self.how}, nil, true
		}
		return cval{kind: cStr, s: strings.ToUpper(self.s), how: self.how}, nil, true
	case c == "Ljava/lang/String;" && n == "replace" && self.kind == cStr:
		o, ok1 := strArg(0)
		w, ok2 := strArg(1)
		if !ok1 || !ok2 || o == "" {
			return cval{}, nil, true
		}
		return cval{kind: cStr, s: clip(strings.ReplaceAll(self.s, o, w)), how: "String.replace"}, nil, true
	case c == "Ljava/lang/String;" && n == "format":
		f, a := nth(0), nth(1)
		if f.kind == cStr && a.kind == cObjs && len(types) == 2 {
			return cval{kind: cStr, s: clip(format(f.s, a.objs)), how: "String.format"}, nil, true
		}
		return cval{}, nil, true
	case c == "Ljava/lang/String;" && n == "<init>":
		if a := nth(0); a.kind == cArr {
			return cval{}, &cval{kind: cStr, s: clip(arrString(a.arr)), how: a.arr.how}, true
		}
		if s, ok1 := strArg(0); ok1 {
			return cval{}, &cval{kind: cStr, s: s}, true
		}
		return cval{}, &cval{}, true
	case c == "Ljava/lang/String;" && n == "getBytes":
		if self.kind == cStr {
			return cval{kind: cArr, arr: &carr{data: []byte(self.s), how: self.how}}, nil, true
		}
		return cval{}, nil, true
	case (c == "Landroid/util/Base64;" || c == "Ljava/util/Base64$Decoder;") && n == "decode":
		a := nth(0)
		var in string
		switch a.kind {
		case cStr:
			in = a.s
		case cArr:
			in = string(a.arr.data)
		default:
			return cval{}, nil, true
		}
		b, err := decodeBase64(in)
		if err != nil {
			return cval{}, nil, true
		}
		return cval{kind: cArr, arr: &carr{data: b, how: "Base64-decoded constant"}}, nil, true
	case c == "Ljava/net/URL;" && n == "<init>":
		switch len(args) {
		case 1:
			if s, ok1 := strArg(0); ok1 {
				return cval{}, &cval{kind: cObj, ep: s, how: nth(0).how}, true
			}
		case 3, 4:
			proto, ok1 := strArg(0)
			host, ok2 := strArg(1)
			file, ok3 := strArg(len(args) - 1)
			if ok1 && ok2 && ok3 {
				u := proto + "://" + host
				if len(args) == 4 {
					if p := nth(2); p.kind == cInt && p.i > 0 {
						u += ":" + strconv.FormatInt(p.i, 10)
					}
				}
				return cval{}, &cval{kind: cObj, ep: u + file, how: "URL(protocol, host, file)"}, true
			}
		}
		if len(args) > 0 && nth(0).ep != "" {
			return cval{}, &cval{kind: cObj, ep: nth(0).ep}, true
		}
		return cval{}, &cval{}, true
	case (c == "Ljava/net/Socket;" || c == "Ljava/net/InetSocketAddress;" || c == "Ljavax/net/ssl/SSLSocket;") && n == "<init>" && len(args) >= 2,
		c == "Ljava/net/InetSocketAddress;" && n == "createUnresolved",
		c == "Ljavax/net/SocketFactory;" && n == "createSocket" && len(args) >= 2,
		c == "Ljavax/net/ssl/SSLSocketFactory;" && n == "createSocket" && len(args) >= 2:
		host, ok1 := strArg(0)
		if !ok1 && nth(0).ep != "" {
			host, ok1 = nth(0).ep, true
		}
		port := nth(1)
		if !ok1 {
			return cval{}, nil, false
		}
		v := cval{kind: cObj, ep: host}
		if port.kind == cInt && port.i > 0 && port.i < 65536 {
			v.ep = host + ":" + strconv.FormatInt(port.i, 10)
			v.how = "host and port passed separately to " + shortMethod(c, n)
		}
		if static || n == "createSocket" {
			return v, nil, true
		}
		return cval{}, &v, true
	case c == "Ljava/net/InetAddress;" && (n == "getByName" || n == "getAllByName"):
		if s, ok1 := strArg(0); ok1 {
			return cval{kind: cObj, ep: s}, nil, true
		}
		return cval{}, nil, true
	case strings.HasPrefix(c, "Lorg/apache/http/client/methods/Http") && n == "<init>",
		c == "Landroid/net/Uri;" && n == "parse":
		if s, ok1 := strArg(0); ok1 {
			v := cval{kind: cObj, ep: s, how: nth(0).how}
			if static {
				return v, nil, true
			}
			return cval{}, &v, true
		}
		return cval{}, nil, false
	case strings.HasSuffix(c, "Request$Builder;") && n == "url":
		if s, ok1 := strArg(0); ok1 {
			v := cval{kind: cObj, ep: s, how: nth(0).how}
			return v, &v, true
		}
		return cval{}, nil, false
	}
	return cval{}, nil, false
}

// format substitutes %s and %d directives, enough for URL templates.
func format(f string, args []string) string {
	var b strings.Builder
	ai := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 >= len(f) {
			b.WriteByte(f[i])
			continue
		}
		switch f[i+1] {
		case 's', 'd', 'x':
			if ai < len(args) {
				b.WriteString(args[ai])
			}
			ai++
			i++
		case '%':
			b.WriteByte('%')
			i++
		default:
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) < 8 || len(s) > maxConstLen {
		return nil, fmt.Errorf("flow: base64 constant of %d bytes: not decoded", len(s))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("flow: constant is not base64")
}
