package elfstr

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/elfstr/elftest"
	"github.com/romscan/romscan/internal/testutil"
)

type found struct {
	S       string
	Off     int64
	Section string
}

func allStrings(t testing.TB, l *Lib, minLen int) []found {
	t.Helper()
	var out []found
	err := l.Strings(context.Background(), minLen, func(s string, off int64, sec string) error {
		out = append(out, found{s, off, sec})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sample() []byte {
	rodata := []byte("\x00\x01hi\x00https://tracker.example.com/collect\x00\x02\x03grüße 世界\x00\xff\xfeabc\x00")
	return elftest.Build(elftest.Spec{
		Machine: elf.EM_AARCH64,
		Soname:  "libsample.so",
		Needed:  []string{"liblog.so", "libc.so"},
		Sections: []elftest.Section{
			{Name: ".text", Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Data: []byte("code-not-strings\x00")},
			{Name: ".rodata", Data: rodata},
			{Name: ".data", Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: []byte("\x00\x00api_key=XYZ\x00")},
			{Name: ".bss", Type: elf.SHT_NOBITS, Flags: elf.SHF_ALLOC | elf.SHF_WRITE, Data: make([]byte, 64)},
		},
		Symbols: []elftest.Symbol{
			{Name: "JNI_OnLoad", Section: ".text"},
			{Name: "Java_com_example_Foo_bar", Section: ".text", Value: 4},
			{Name: "helper", Section: ".text", Value: 8},
			{Name: "connect"},
			{Name: "__android_log_print"},
		},
	})
}

func TestOpenSample(t *testing.T) {
	data := sample()
	l, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	type facts struct {
		Machine, Soname            string
		Needed, Imported, Exported []string
		JNI                        []string
	}
	got := facts{l.Machine(), l.Soname(), l.Needed(), l.ImportedSymbols(), l.ExportedSymbols(), l.JNI()}
	want := facts{"aarch64", "libsample.so", []string{"liblog.so", "libc.so"}, []string{"__android_log_print", "connect"},
		[]string{"JNI_OnLoad", "Java_com_example_Foo_bar", "helper"}, []string{"JNI_OnLoad", "Java_com_example_Foo_bar"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts mismatch (-want +got):\n%s", diff)
	}
	var rodata string
	for _, s := range allStrings(t, l, 4) {
		if got := string(data[s.Off : s.Off+int64(len(s.S))]); got != s.S {
			t.Errorf("string %q at %#x: file has %q", s.S, s.Off, got)
		}
		if s.Section == ".rodata" {
			rodata += s.S + "|"
		}
		if s.Section == ".text" || strings.Contains(s.S, "code-not") {
			t.Errorf("string %q from executable section %s", s.S, s.Section)
		}
	}
	if want := "https://tracker.example.com/collect|grüße 世界|"; rodata != want {
		t.Errorf(".rodata strings = %q, want %q", rodata, want)
	}
}

func TestStringsSplitAndStop(t *testing.T) {
	long := bytes.Repeat([]byte("A"), MaxStringLen*2+10)
	data := elftest.Build(elftest.Spec{Sections: []elftest.Section{{Name: ".rodata", Data: long}}})
	l, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var lens []int
	for _, s := range allStrings(t, l, 4) {
		if s.Section == ".rodata" {
			lens = append(lens, len(s.S))
		}
	}
	if diff := cmp.Diff([]int{MaxStringLen, MaxStringLen, 10}, lens); diff != "" {
		t.Errorf("split lengths (-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	if err := l.Strings(context.Background(), 4, func(string, int64, string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("callback error not returned: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Strings(ctx, 4, func(string, int64, string) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestHostile(t *testing.T) {
	good := sample()
	put16 := func(off int, v uint16) []byte {
		c := bytes.Clone(good)
		c[off], c[off+1] = byte(v), byte(v>>8)
		return c
	}
	// Section 2 (.rodata) header: size field.
	shoff := int(uint64(good[40]) | uint64(good[41])<<8 | uint64(good[42])<<16)
	bigSection := bytes.Clone(good)
	copy(bigSection[shoff+2*64+32:], []byte{0, 0, 0, 0x40, 0, 0, 0, 0})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, extract.ErrNotFormat},
		{"not-elf", []byte("MZ\x90\x00 this is not an elf file"), extract.ErrNotFormat},
		{"truncated-header", good[:30], extract.ErrCorrupt},
		{"bad-class", func() []byte { c := bytes.Clone(good); c[4] = 9; return c }(), extract.ErrCorrupt},
		{"section-past-end", bigSection, extract.ErrCorrupt},
		{"shstrndx-out-of-range", put16(62, 999), extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Open: err %v, want %v", err, tt.want)
			}
		})
	}
	for n := 0; n < len(good); n += 5 {
		l, err := Open(bytes.NewReader(good[:n]), int64(n))
		if err == nil {
			_ = l.Strings(context.Background(), 4, func(string, int64, string) error { return nil })
		}
	}
}

// zipLibs returns the .so members of an APK matching prefix.
func zipLibs(t *testing.T, apk, prefix string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(apk)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, prefix) || !strings.HasSuffix(f.Name, ".so") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func TestDroidBenchNative(t *testing.T) {
	dir := testutil.Corpus(t, "droidbench/apk/Native")
	apks, _ := filepath.Glob(filepath.Join(dir, "*.apk"))
	if len(apks) == 0 {
		t.Skip("no Native APKs")
	}
	nlibs := 0
	for _, apk := range apks {
		for name, b := range zipLibs(t, apk, "lib/armeabi/") {
			nlibs++
			l, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Errorf("%s!%s: %v", filepath.Base(apk), name, err)
				continue
			}
			if l.Machine() != "arm" || len(l.JNI()) == 0 || len(l.ImportedSymbols()) == 0 {
				t.Errorf("%s!%s: machine %q, JNI %v, %d imports", filepath.Base(apk), name, l.Machine(), l.JNI(), len(l.ImportedSymbols()))
			}
			t.Logf("%s!%s: soname %q needed %v JNI %v", filepath.Base(apk), name, l.Soname(), l.Needed(), l.JNI())
		}
	}
	if nlibs < 5 {
		t.Errorf("found %d native libraries in %d APKs, want at least 5", nlibs, len(apks))
	}
}

func TestXMPPServiceLibs(t *testing.T) {
	apk := testutil.Corpus(t, "firmware/iris-hp4024/system/priv-app/XMPPService/XMPPService.apk")
	libs := zipLibs(t, apk, "lib/armeabi/")
	b, ok := libs["lib/armeabi/libjingle.so"]
	if !ok {
		t.Fatalf("libjingle.so missing; have %d libs", len(libs))
	}
	l, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if l.Soname() != "libjingle.so" || l.Machine() != "arm" {
		t.Errorf("soname %q machine %q", l.Soname(), l.Machine())
	}
	var hit []found
	n := 0
	for _, s := range allStrings(t, l, 6) {
		n++
		if strings.Contains(s.S, "default.talk.google.com") {
			hit = append(hit, s)
		}
	}
	if diff := cmp.Diff([]found{{"default.talk.google.com", 0x1712bf, ".rodata"}}, hit); diff != "" {
		t.Errorf("default.talk.google.com (-want +got):\n%s", diff)
	}
	t.Logf("libjingle.so: %d strings, %d needed, %d imports, %d exports", n, len(l.Needed()), len(l.ImportedSymbols()), len(l.ExportedSymbols()))
	for name, b := range libs {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestGCC builds a real shared library with a known string and JNI exports.
func TestGCC(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not installed (Debian package gcc): skipping")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "lib.c")
	code := `#include <stdio.h>
const char endpoint[] = "https://collector.example.net/v1/upload?imei=";
int JNI_OnLoad(void *vm, void *reserved) { return 0x10006; }
int Java_com_example_Spy_send(void *env, void *obj) { return puts(endpoint); }
`
	if err := os.WriteFile(src, []byte(code), 0o600); err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "libspy.so")
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-O1", "-Wl,-soname,libspy.so", "-o", so, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	fh, err := os.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	l, err := Open(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if l.Soname() != "libspy.so" || !contains(l.ImportedSymbols(), "puts") || !contains(l.Needed(), "libc.so.6") {
		t.Errorf("soname %q imports %v needed %v", l.Soname(), l.ImportedSymbols(), l.Needed())
	}
	if diff := cmp.Diff([]string{"JNI_OnLoad", "Java_com_example_Spy_send"}, l.JNI()); diff != "" {
		t.Errorf("JNI (-want +got):\n%s", diff)
	}
	var sec string
	for _, s := range allStrings(t, l, 8) {
		if s.S == "https://collector.example.net/v1/upload?imei=" {
			sec = s.Section
		}
	}
	if sec != ".rodata" {
		t.Errorf("endpoint string found in %q, want .rodata", sec)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func seeds() map[string][]byte {
	return map[string][]byte{
		"sample":   sample(),
		"rodata":   elftest.Build(elftest.Spec{Machine: elf.EM_ARM, Sections: []elftest.Section{{Name: ".rodata", Data: []byte("\x00hello world\x00")}}}),
		"symbols":  elftest.Build(elftest.Spec{Soname: "a.so", Needed: []string{"b.so"}, Symbols: []elftest.Symbol{{Name: "f"}}}),
		"truncate": sample()[:200],
	}
}

func FuzzELF(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			// Open recovers panics of debug/elf; one of ours is a bug.
			if !extract.HasSentinel(err) || strings.Contains(err.Error(), "panic in "+extract.OwnPackages) {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		err = l.Strings(context.Background(), 4, func(s string, off int64, _ string) error {
			if off < 0 || off+int64(len(s)) > int64(len(data)) || len(s) > MaxStringLen {
				t.Fatalf("string %q at %d outside %d bytes", s, off, len(data))
			}
			return nil
		})
		if err != nil && !extract.HasSentinel(err) {
			t.Fatalf("Strings: %v wraps no extract sentinel", err)
		}
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzELF seeds")

// TestSeeds writes the fuzz seeds (built in code) when -update-seeds is set.
func TestSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the fuzz seeds")
	}
	for name, data := range seeds() {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzELF", name), data)
	}
}

func BenchmarkStrings(b *testing.B) {
	rodata := bytes.Repeat([]byte("some/printable/path.so\x00\x01\x02\x03"), 1<<15)
	data := elftest.Build(elftest.Spec{Sections: []elftest.Section{{Name: ".rodata", Data: rodata}}})
	l, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(rodata)))
	for b.Loop() {
		_ = l.Strings(context.Background(), 4, func(string, int64, string) error { return nil })
	}
}
