package flow

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/romscan/romscan/internal/dex"
)

func TestReflectionFolds(t *testing.T) {
	str := func(s string) cval { return cval{kind: cStr, s: s} }
	class := func(s string) cval { return cval{kind: cClass, s: s} }
	meth := cval{kind: cMeth, s: "Landroid/telephony/TelephonyManager;", name: "getDeviceId", nargs: 0}
	tests := []struct {
		name   string
		ref    dex.MethodRef
		static bool
		args   []cval
		want   cval
		call   reflCall
	}{
		{"forName", dex.MethodRef{Class: "Ljava/lang/Class;", Name: "forName", Descriptor: "(Ljava/lang/String;)Ljava/lang/Class;"}, true,
			[]cval{str("android.telephony.TelephonyManager")}, class("Landroid/telephony/TelephonyManager;"), reflCall{}},
		{"forName of an unknown string", dex.MethodRef{Class: "Ljava/lang/Class;", Name: "forName"}, true,
			[]cval{{}}, cval{}, reflCall{}},
		{"getClass of a known object", dex.MethodRef{Class: "Lcom/a/B;", Name: "getClass", Descriptor: "()Ljava/lang/Class;"}, false,
			[]cval{{kind: cInst, s: "Lcom/a/B;"}}, class("Lcom/a/B;"), reflCall{}},
		{"getMethod with its parameter count", dex.MethodRef{Class: "Ljava/lang/Class;", Name: "getMethod"}, false,
			[]cval{class("Lcom/a/B;"), str("foo"), {kind: cObjs, objs: []string{"{?}"}}}, cval{kind: cMeth, s: "Lcom/a/B;", name: "foo", nargs: 1}, reflCall{}},
		{"getDeclaredMethod, parameter count unknown", dex.MethodRef{Class: "Ljava/lang/Class;", Name: "getDeclaredMethod"}, false,
			[]cval{class("Lcom/a/B;"), str("foo"), {}}, cval{kind: cMeth, s: "Lcom/a/B;", name: "foo", nargs: -1}, reflCall{}},
		{"Method.getName", dex.MethodRef{Class: "Ljava/lang/reflect/Method;", Name: "getName"}, false,
			[]cval{meth}, str("getDeviceId"), reflCall{}},
		{"Method.invoke resolved", dex.MethodRef{Class: "Ljava/lang/reflect/Method;", Name: "invoke"}, false,
			[]cval{meth, {}, {}}, cval{}, reflCall{class: "Landroid/telephony/TelephonyManager;", name: "getDeviceId", nargs: 0}},
		{"Method.invoke unresolved", dex.MethodRef{Class: "Ljava/lang/reflect/Method;", Name: "invoke"}, false,
			[]cval{{}, {}, {}}, cval{}, reflCall{}},
		{"newInstance", dex.MethodRef{Class: "Ljava/lang/Class;", Name: "newInstance"}, false,
			[]cval{class("Lcom/a/B;")}, cval{kind: cInst, s: "Lcom/a/B;"}, reflCall{class: "Lcom/a/B;", name: "<init>", nargs: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, v, ok := reflection(tt.ref, tt.static, tt.args)
			if !ok {
				t.Fatal("not recognised as reflection")
			}
			if v.kind != tt.want.kind || v.s != tt.want.s || v.name != tt.want.name || (v.kind == cMeth && v.nargs != tt.want.nargs) {
				t.Errorf("value %+v, want %+v", v, tt.want)
			}
			if rc != tt.call {
				t.Errorf("call %+v, want %+v", rc, tt.call)
			}
		})
	}
	if _, _, ok := reflection(dex.MethodRef{Class: "Ljava/lang/String;", Name: "length"}, false, nil); ok {
		t.Error("String.length taken for reflection")
	}
}

func TestStringFolds(t *testing.T) {
	str := func(s string) cval { return cval{kind: cStr, s: s} }
	num := func(i int64) cval { return cval{kind: cInt, i: i} }
	S := "Ljava/lang/String;"
	tests := []struct {
		name  string
		ref   dex.MethodRef
		args  []cval
		types []string
		want  string
	}{
		{"substring(b, e)", dex.MethodRef{Class: S, Name: "substring"}, []cval{str("pregetDeviceIdpost"), num(3), num(14)}, []string{S, "I", "I"}, "getDeviceId"},
		{"substring(b)", dex.MethodRef{Class: S, Name: "substring"}, []cval{str("xxgetLine1Number"), num(2)}, []string{S, "I"}, "getLine1Number"},
		{"substring out of range", dex.MethodRef{Class: S, Name: "substring"}, []cval{str("abc"), num(2), num(9)}, []string{S, "I", "I"}, ""},
		{"replace", dex.MethodRef{Class: S, Name: "replace"}, []cval{str("get#Device#Id"), str("#"), str("")}, []string{S, "Ljava/lang/CharSequence;", "Ljava/lang/CharSequence;"}, "getDeviceId"},
		{"toLowerCase", dex.MethodRef{Class: S, Name: "toLowerCase"}, []cval{str("HTTP://A.CN")}, []string{S}, "http://a.cn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, ok := foldCall(tt.ref, false, tt.args, tt.types)
			if !ok {
				t.Fatal("not folded")
			}
			got := ""
			if out.kind == cStr {
				got = out.s
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPostDominators(t *testing.T) {
	// 0 branches to 1 and 2, which join at 3 (the exit); 4 loops on itself.
	bl := []block{{succ: []int{1, 2}}, {succ: []int{3}}, {succ: []int{3}}, {}, {succ: []int{4}}}
	pd := postDominators(bl, newBudget(1_000_000, time.Minute))
	set := func(b int) []int {
		var out []int
		for i := range bl {
			if pd[b][i/64]&(1<<(i%64)) != 0 {
				out = append(out, i)
			}
		}
		return out
	}
	tests := []struct {
		block int
		want  []int
	}{
		{0, []int{0, 3}},
		{1, []int{1, 3}},
		{2, []int{2, 3}},
		{3, []int{3}},
		{4, []int{0, 1, 2, 3, 4}}, // reaches no exit: everything, so it controls nothing
	}
	for _, tt := range tests {
		if got := set(tt.block); fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("post-dominators of block %d: %v, want %v", tt.block, got, tt.want)
		}
	}
}

// TestCPUBudget: a budget on the thread's CPU time stops a busy loop that
// no step limit would stop. On a loaded machine the wall-time backstop (four
// times the limit) may stop it first; a stop before both is a failure.
func TestCPUBudget(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const limit = 20 * time.Millisecond
	start := time.Now()
	b := newCPUBudget(1<<62, limit)
	for i := 0; b.spend(1, "busy loop"); i++ {
		if i > 1<<34 {
			t.Fatal("budget never ran out")
		}
	}
	wall := time.Since(start)
	if !b.exceeded || b.what != "busy loop" {
		t.Errorf("exceeded %v, what %q", b.exceeded, b.what)
	}
	if _, ok := threadCPU(); !ok {
		if wall < limit {
			t.Errorf("stopped after %s of wall time, before its %s", wall, limit)
		}
		return
	}
	switch cpu := b.cpu(); {
	case cpu >= limit:
	case b.wallStop && wall >= 4*limit:
		t.Logf("stopped by the wall-time backstop after %s (%s of CPU time): the machine is loaded", wall, cpu)
	default:
		t.Errorf("stopped after %s of CPU time and %s of wall time, before its %s (wall backstop %v)", cpu, wall, limit, b.wallStop)
	}
}
