package oat

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/elfstr/elftest"
	"github.com/romscan/romscan/internal/testutil"
)

type entry struct {
	loc      string
	checksum uint32
	dex      []byte // embedded when set
	vdexOff  uint32 // dex_file_offset for OATs whose DEX is in the vdex
}

func fakeDex(size int, classDefs uint32) []byte {
	b := make([]byte, size)
	copy(b, "dex\n035\x00")
	binary.LittleEndian.PutUint32(b[32:], uint32(size))
	binary.LittleEndian.PutUint32(b[36:], 0x70)
	binary.LittleEndian.PutUint32(b[96:], classDefs)
	return b
}

// buildOAT lays out oatdata for version v: header, key-value store, the
// OatDexFile entries and, for old versions, the embedded DEX files.
func buildOAT(v int, kv [][2]string, entries ...entry) []byte {
	le := binary.LittleEndian
	var store bytes.Buffer
	for _, p := range kv {
		store.WriteString(p[0] + "\x00" + p[1] + "\x00")
	}
	kvAt := kvSizeOffset(v)
	header := make([]byte, kvAt+4)
	copy(header, fmt.Sprintf("oat\n%03d\x00", v))
	le.PutUint32(header[12:], 3) // thumb2
	le.PutUint32(header[20:], uint32(len(entries)))
	le.PutUint32(header[kvAt:], uint32(store.Len()))
	buf := append(header, store.Bytes()...)
	if v >= vdexOATVersion {
		for len(buf)%4 != 0 {
			buf = append(buf, 0)
		}
		le.PutUint32(buf[24:], uint32(len(buf)))
	}
	// Entries first with placeholder dex offsets, then the DEX files.
	type fix struct{ at, idx int }
	var fixes []fix
	for i, e := range entries {
		buf = le.AppendUint32(buf, uint32(len(e.loc)))
		buf = append(buf, e.loc...)
		buf = le.AppendUint32(buf, e.checksum)
		fixes = append(fixes, fix{len(buf), i})
		buf = le.AppendUint32(buf, e.vdexOff)
		n := trailingWords(v)[0]
		if n < 0 {
			n = int(le.Uint32(e.dex[96:]))
		}
		for range n {
			buf = le.AppendUint32(buf, 0xabcd)
		}
	}
	for _, fx := range fixes {
		e := entries[fx.idx]
		if e.dex == nil {
			continue
		}
		for len(buf)%4 != 0 {
			buf = append(buf, 0)
		}
		le.PutUint32(buf[fx.at:], uint32(len(buf)))
		buf = append(buf, e.dex...)
	}
	return buf
}

// wrapELF puts oatdata into an ELF shared object as real OAT files do.
func wrapELF(oatdata []byte) []byte {
	return elftest.Build(elftest.Spec{
		Machine:  elf.EM_ARM,
		Soname:   "package.odex",
		Sections: []elftest.Section{{Name: ".rodata", Data: oatdata}, {Name: ".text", Flags: elf.SHF_ALLOC | elf.SHF_EXECINSTR, Data: make([]byte, 16)}},
		Symbols: []elftest.Symbol{
			{Name: "oatdata", Section: ".rodata", Size: uint64(len(oatdata)), Type: elf.STT_OBJECT},
			{Name: "oatexec", Section: ".text", Size: 16, Type: elf.STT_OBJECT},
		},
	})
}

type summary struct {
	Version, ISA string
	KV           map[string]string
	DexFiles     []DexFile
	Dex          []string // locations of embedded DEX, checked for magic
}

func summarize(t *testing.T, f *File) summary {
	t.Helper()
	s := summary{Version: f.Version(), ISA: f.InstructionSet(), KV: f.KeyValues(), DexFiles: f.DexFiles()}
	for i, d := range f.Dex() {
		b, err := io.ReadAll(f.DexReader(i))
		if err != nil || int64(len(b)) != d.Size || string(b[:4]) != "dex\n" {
			t.Errorf("embedded dex %d: %v, %d bytes, want %d starting with dex magic", i, err, len(b), d.Size)
		}
		s.Dex = append(s.Dex, d.Location)
	}
	return s
}

func TestOpen(t *testing.T) {
	kv := [][2]string{{"classpath", "&"}, {"dex2oat-cmdline", "--dex-file=a.apk --oat-file=a.odex"}}
	kvMap := map[string]string{"classpath": "&", "dex2oat-cmdline": "--dex-file=a.apk --oat-file=a.odex"}
	e1 := entry{loc: "/system/framework/core.jar", checksum: 0x11, dex: fakeDex(0x90, 3)}
	e2 := entry{loc: "/system/framework/core.jar!classes2.dex", checksum: 0x22, dex: fakeDex(0x80, 5)}
	tests := []struct {
		name string
		v    int
		ents []entry
		want summary
	}{
		{"android5-inline-class-offsets", 45, []entry{e1, e2}, summary{"045", "thumb2", kvMap, []DexFile{
			{e1.loc, 0x11, 0, true}, {e2.loc, 0x22, 0, true}}, []string{e1.loc, e2.loc}}},
		{"android6", 64, []entry{e1, e2}, summary{"064", "thumb2", kvMap, []DexFile{
			{e1.loc, 0x11, 0, true}, {e2.loc, 0x22, 0, true}}, []string{e1.loc, e2.loc}}},
		{"android7", 88, []entry{e1, e2}, summary{"088", "thumb2", kvMap, []DexFile{
			{e1.loc, 0x11, 0, true}, {e2.loc, 0x22, 0, true}}, []string{e1.loc, e2.loc}}},
		{"android9-vdex", 138, []entry{{loc: "/system/app/A/A.apk", checksum: 1, vdexOff: 0x28}, {loc: "/system/app/A/A.apk!classes2.dex", checksum: 2, vdexOff: 0x9000}},
			summary{"138", "thumb2", kvMap, []DexFile{{"/system/app/A/A.apk", 1, 0x28, false}, {"/system/app/A/A.apk!classes2.dex", 2, 0x9000, false}}, nil}},
		{"android12", 195, []entry{{loc: "/a.apk", checksum: 1}, {loc: "/a.apk!classes2.dex", checksum: 2}},
			summary{"195", "thumb2", kvMap, []DexFile{{"/a.apk", 1, 0, false}, {"/a.apk!classes2.dex", 2, 0, false}}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := wrapELF(buildOAT(tt.v, kv, tt.ents...))
			f, err := Open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			got := summarize(t, f)
			// Embedded DEX offsets depend on the layout; Dex() checks them.
			ignore := cmp.Options{}
			if tt.v < vdexOATVersion {
				ignore = cmp.Options{cmpopts.IgnoreFields(DexFile{}, "DexOffset")}
			}
			if diff := cmp.Diff(tt.want, got, ignore); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.ents[0].loc, tt.ents[1].loc}, f.DexLocations()); diff != "" {
				t.Errorf("DexLocations mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	kv := [][2]string{{"classpath", "&"}}
	good := buildOAT(64, kv, entry{loc: "/a.jar", checksum: 1, dex: fakeDex(0x90, 2)})
	put := func(off int, v uint32) []byte {
		c := bytes.Clone(good)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	kvEnd := 72 + len("classpath\x00&\x00")
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"not-elf", []byte("oat\n138\x00 not an elf file at all"), extract.ErrNotFormat},
		{"elf-without-oatdata", elftest.Build(elftest.Spec{Sections: []elftest.Section{{Name: ".rodata", Data: good}}}), extract.ErrNotFormat},
		{"bad-magic", wrapELF(append([]byte("elf\n"), good[4:]...)), extract.ErrNotFormat},
		{"truncated-oatdata", wrapELF(good[:20]), extract.ErrCorrupt},
		{"no-key-value", wrapELF(put(68, 0xffffff)), extract.ErrCorrupt},
		{"absurd-dex-count", wrapELF(put(20, 1<<30)), extract.ErrLimit},
		{"count-past-entries", wrapELF(put(20, 3)), extract.ErrCorrupt},
		{"location-size-huge", wrapELF(put(kvEnd, 1<<30)), extract.ErrCorrupt},
		{"dex-offset-past-end", wrapELF(put(kvEnd+4+len("/a.jar")+4, 1<<30)), extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Open: err %v, want %v", err, tt.want)
			}
		})
	}
	// Truncating the ELF anywhere must give an error, never a panic.
	data := wrapELF(good)
	for n := 0; n < len(data); n += 7 {
		if _, err := Open(bytes.NewReader(data[:n]), int64(n)); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

// TestCorpus reads the real Android 9 ODEX files of the Iris HP4024 ROM.
func TestCorpus(t *testing.T) {
	root := testutil.Corpus(t, "firmware/iris-hp4024/system")
	tests := []struct {
		path     string
		dex      []DexFile
		location string
	}{
		{"app/SecureElement/oat/arm/SecureElement.odex", []DexFile{{"/system/app/SecureElement/SecureElement.apk", 0xff768f74, 0x28, false}}, "--dex-location=/system/app/SecureElement/SecureElement.apk"},
		{"priv-app/XMPPService/oat/arm/XMPPService.odex", []DexFile{{"/system/priv-app/XMPPService/XMPPService.apk", 0xeb80d1cd, 0, false}}, "--dex-location=/system/priv-app/XMPPService/XMPPService.apk"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			fh, err := os.Open(filepath.Join(root, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			st, _ := fh.Stat()
			f, err := Open(fh, st.Size())
			if err != nil {
				t.Fatal(err)
			}
			if f.Version() != "138" || f.InstructionSet() != "thumb2" {
				t.Errorf("version %q isa %q, want 138 thumb2", f.Version(), f.InstructionSet())
			}
			if diff := cmp.Diff(tt.dex, f.DexFiles()); diff != "" {
				t.Errorf("DexFiles mismatch (-want +got):\n%s", diff)
			}
			if len(f.Dex()) != 0 {
				t.Errorf("Dex() = %v, want none (DEX is in the vdex/APK)", f.Dex())
			}
			kv := f.KeyValues()
			if kv["classpath"] != "&" || kv["compiler-filter"] != "quicken" || !strings.Contains(kv["dex2oat-cmdline"], tt.location) {
				t.Errorf("key-values: classpath %q compiler-filter %q cmdline %q", kv["classpath"], kv["compiler-filter"], kv["dex2oat-cmdline"])
			}
			t.Logf("keys: %v", f.Keys())
		})
	}
}

func seeds() map[string][]byte {
	kv := [][2]string{{"classpath", "&"}}
	return map[string][]byte{
		"v045": wrapELF(buildOAT(45, kv, entry{loc: "/a.jar", checksum: 1, dex: fakeDex(0x78, 2)}, entry{loc: "/a.jar!classes2.dex", dex: fakeDex(0x70, 1)})),
		"v088": wrapELF(buildOAT(88, kv, entry{loc: "/a.jar", checksum: 1, dex: fakeDex(0x78, 2)}, entry{loc: "/b.jar", dex: fakeDex(0x70, 1)})),
		"v138": wrapELF(buildOAT(138, kv, entry{loc: "/a.apk", checksum: 1, vdexOff: 0x28}, entry{loc: "/a.apk!classes2.dex", checksum: 2, vdexOff: 0x1000})),
	}
}

func FuzzOAT(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			// Open recovers panics of debug/elf; one of ours is a bug.
			if !extract.HasSentinel(err) || strings.Contains(err.Error(), "panic in "+extract.OwnPackages) {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		for i, d := range o.Dex() {
			if d.Offset < 0 || d.Offset+d.Size > int64(len(data)) {
				t.Fatalf("dex %d %+v outside %d bytes", i, d, len(data))
			}
		}
		_ = o.DexLocations()
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzOAT seeds")

// TestSeeds writes the fuzz seeds (built in code) when -update-seeds is set.
func TestSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the fuzz seeds")
	}
	for name, data := range seeds() {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzOAT", name), data)
	}
}

func BenchmarkOpen(b *testing.B) {
	data := seeds()["v088"]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
