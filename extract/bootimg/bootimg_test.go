package bootimg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

type cpioEntry struct {
	name string
	mode uint32
	data string
}

// cpioNewc builds a newc cpio archive.
func cpioNewc(entries ...cpioEntry) []byte {
	var b bytes.Buffer
	pad := func() {
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	write := func(e cpioEntry) {
		fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
			1, e.mode, 0, 0, 1, 1700000000, len(e.data), 0, 0, 0, 0, len(e.name)+1, 0)
		b.WriteString(e.name + "\x00")
		pad()
		b.WriteString(e.data)
		pad()
	}
	for _, e := range entries {
		write(e)
	}
	write(cpioEntry{name: "TRAILER!!!"})
	return b.Bytes()
}

var sampleTree = []cpioEntry{
	{".", 0o40755, ""},
	{"init", 0o100750, "\x7fELF..."},
	{"init.rc", 0o100644, "import /init.environ.rc\non early-init\n"},
	{"system", 0o40755, ""},
	{"system/etc", 0o40755, ""},
	{"system/etc/init", 0o40755, ""},
	{"system/etc/init/hw.rc", 0o100644, "service spy /system/bin/spy\n"},
	{"sbin", 0o120777, "system/etc"},
	{"etc", 0o120777, "/system/etc"},
	{"../../escape", 0o100644, "cleaned, not escaped"},
	{"dev/console", 0o20600, ""},
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func lz4c(b []byte, legacy bool) []byte {
	var out bytes.Buffer
	w := lz4.NewWriter(&out)
	if legacy {
		if err := w.Apply(lz4.LegacyOption(true)); err != nil {
			panic(err)
		}
	}
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func pageAlign(b []byte, page int) []byte {
	for len(b)%page != 0 {
		b = append(b, 0)
	}
	return b
}

// osv encodes os_version 11.0.0, patch level 2021-03.
const osv = (11<<14|0<<7|0)<<11 | (21 << 4) | 3

// buildBoot makes a boot image of header version v with the given parts.
func buildBoot(v int, kernel, ramdisk, dtb []byte) []byte {
	le := binary.LittleEndian
	if v >= 3 {
		h := make([]byte, 4096)
		copy(h, BootMagic)
		le.PutUint32(h[8:], uint32(len(kernel)))
		le.PutUint32(h[12:], uint32(len(ramdisk)))
		le.PutUint32(h[16:], osv)
		le.PutUint32(h[20:], 1580)
		le.PutUint32(h[40:], uint32(v))
		copy(h[44:], "console=ttyS0 androidboot.hardware=test")
		out := append(h, pageAlign(bytes.Clone(kernel), 4096)...)
		out = append(out, pageAlign(bytes.Clone(ramdisk), 4096)...)
		if v == 4 {
			sig := []byte("signature-bytes")
			le.PutUint32(out[44+1536:], uint32(len(sig)))
			out = append(out, pageAlign(sig, 4096)...)
		}
		return out
	}
	const page = 2048
	h := make([]byte, page)
	copy(h, BootMagic)
	le.PutUint32(h[8:], uint32(len(kernel)))
	le.PutUint32(h[16:], uint32(len(ramdisk)))
	le.PutUint32(h[36:], page)
	le.PutUint32(h[40:], uint32(v))
	le.PutUint32(h[44:], osv)
	copy(h[48:], "board0")
	copy(h[64:], "console=ttyMSM0")
	copy(h[608:], " extra=1")
	if v == 2 {
		le.PutUint32(h[1644:], 1660)
		le.PutUint32(h[1648:], uint32(len(dtb)))
	}
	out := append(h, pageAlign(bytes.Clone(kernel), page)...)
	out = append(out, pageAlign(bytes.Clone(ramdisk), page)...)
	if v == 2 {
		out = append(out, pageAlign(bytes.Clone(dtb), page)...)
	}
	return out
}

// buildVendor makes a vendor_boot image; v4 splits the ramdisk in fragments.
func buildVendor(v int, dtb []byte, fragments ...[]byte) []byte {
	le := binary.LittleEndian
	const page = 4096
	h := make([]byte, page)
	copy(h, VendorMagic)
	le.PutUint32(h[8:], uint32(v))
	le.PutUint32(h[12:], page)
	copy(h[28:], "androidboot.console=ttyMSM0")
	copy(h[2080:], "vendorboard")
	var rd []byte
	var table []byte
	for i, f := range fragments {
		e := make([]byte, ramdiskEntrySz)
		le.PutUint32(e[0:], uint32(len(f)))
		le.PutUint32(e[4:], uint32(len(rd)))
		le.PutUint32(e[8:], 1)
		copy(e[12:], fmt.Sprintf("frag%d", i))
		table = append(table, e...)
		rd = append(rd, f...)
	}
	le.PutUint32(h[24:], uint32(len(rd)))
	le.PutUint32(h[2100:], uint32(len(dtb)))
	if v == 3 {
		le.PutUint32(h[2096:], vendorV3Size)
	} else {
		le.PutUint32(h[2096:], vendorV4Size)
		le.PutUint32(h[2112:], uint32(len(table)))
		le.PutUint32(h[2116:], uint32(len(fragments)))
		le.PutUint32(h[2120:], ramdiskEntrySz)
		le.PutUint32(h[2124:], 12)
	}
	out := append(h, pageAlign(rd, page)...)
	out = append(out, pageAlign(bytes.Clone(dtb), page)...)
	if v == 4 {
		out = append(out, pageAlign(table, page)...)
		out = append(out, pageAlign([]byte("a=1\nb=2\n#BCONFIG"), page)...)
	}
	return out
}

func listing(t testing.TB, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpen(t *testing.T) {
	tree := cpioNewc(sampleTree...)
	kernel := []byte("KERNEL-IMAGE")
	dtb := []byte("\xd0\x0d\xfe\xed-dtb")
	wantFiles := []string{"ramdisk", "ramdisk/dev", "ramdisk/dev/console", "ramdisk/escape", "ramdisk/etc", "ramdisk/init", "ramdisk/init.rc",
		"ramdisk/sbin", "ramdisk/system", "ramdisk/system/etc", "ramdisk/system/etc/init", "ramdisk/system/etc/init/hw.rc", "ramdisk.cpio"}
	tests := []struct {
		name  string
		data  []byte
		info  Info
		parts []string
	}{
		{"v0-gzip", buildBoot(0, kernel, gz(tree), nil), Info{PageSize: 2048, KernelSize: 12, OSVersion: "11.0.0", PatchLevel: "2021-03", Name: "board0", Cmdline: "console=ttyMSM0 extra=1"}, []string{"kernel"}},
		{"v2-lz4", buildBoot(2, kernel, lz4c(tree, false), dtb), Info{HeaderVersion: 2, HeaderSize: 1660, PageSize: 2048, KernelSize: 12, DTBSize: 8, OSVersion: "11.0.0", PatchLevel: "2021-03", Name: "board0", Cmdline: "console=ttyMSM0 extra=1"}, []string{"dtb", "kernel"}},
		{"v3-lz4-legacy", buildBoot(3, kernel, lz4c(tree, true), nil), Info{HeaderVersion: 3, HeaderSize: 1580, PageSize: 4096, KernelSize: 12, OSVersion: "11.0.0", PatchLevel: "2021-03", Cmdline: "console=ttyS0 androidboot.hardware=test"}, []string{"kernel"}},
		{"v4-raw-init-boot", buildBoot(4, nil, tree, nil), Info{HeaderVersion: 4, HeaderSize: 1580, PageSize: 4096, SignatureSize: 15, OSVersion: "11.0.0", PatchLevel: "2021-03", Cmdline: "console=ttyS0 androidboot.hardware=test"}, []string{"boot_signature"}},
		{"vendor-v3", buildVendor(3, dtb, gz(tree)), Info{Vendor: true, HeaderVersion: 3, HeaderSize: vendorV3Size, PageSize: 4096, DTBSize: 8, Name: "vendorboard", Cmdline: "androidboot.console=ttyMSM0"}, []string{"dtb"}},
		{"vendor-v4-fragments", buildVendor(4, dtb, gz(cpioNewc(sampleTree[:5]...)), lz4c(cpioNewc(sampleTree[5:]...), false)), Info{Vendor: true, HeaderVersion: 4, HeaderSize: vendorV4Size, PageSize: 4096, DTBSize: 8, Bootconfig: 12, Name: "vendorboard", Cmdline: "androidboot.console=ttyMSM0"}, []string{"bootconfig", "dtb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), extract.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			info := im.Info()
			if info.Vendor {
				info.RamdiskSize = 0
			}
			info.RamdiskSize = 0
			vr := info.VendorRamdisks
			info.VendorRamdisks = nil
			if diff := cmp.Diff(tt.info, info); diff != "" {
				t.Errorf("Info mismatch (-want +got):\n%s", diff)
			}
			if tt.name == "vendor-v4-fragments" && (len(vr) != 2 || vr[1].Name != "frag1") {
				t.Errorf("vendor ramdisks %+v", vr)
			}
			want := append(append([]string{"."}, tt.parts...), wantFiles...)
			sort.Strings(want)
			got := listing(t, im)
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("listing mismatch (-want +got):\n%s", diff)
			}
			for name, content := range map[string]string{
				"ramdisk/init.rc":           "import /init.environ.rc\non early-init\n",
				"ramdisk/etc/init/hw.rc":    "service spy /system/bin/spy\n",
				"ramdisk/escape":            "cleaned, not escaped",
				"ramdisk/system/etc/../etc": "",
			} {
				b, err := fs.ReadFile(im, name)
				if name == "ramdisk/system/etc/../etc" {
					if err == nil {
						t.Errorf("invalid path %q opened", name)
					}
					continue
				}
				if err != nil || string(b) != content {
					t.Errorf("ReadFile(%q) = %q, %v; want %q", name, b, err, content)
				}
			}
			if target, err := im.ReadLink("ramdisk/etc"); err != nil || target != "/system/etc" {
				t.Errorf("ReadLink(ramdisk/etc) = %q, %v", target, err)
			}
			f, err := im.Open(tt.parts[len(tt.parts)-1])
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.(extract.ReaderAtFile); !ok {
				t.Errorf("%T is not an extract.ReaderAtFile", f)
			}
			rf, _ := im.Open("ramdisk/init.rc")
			buf := make([]byte, 7)
			if _, err := rf.(extract.ReaderAtFile).ReadAt(buf, 7); err != nil || string(buf) != "/init.e" {
				t.Errorf("ReadAt = %q, %v", buf, err)
			}
			if err := fstest.TestFS(im, "ramdisk/init.rc", "ramdisk/system/etc/init/hw.rc"); err != nil {
				t.Errorf("fstest: %v", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	tree := cpioNewc(sampleTree...)
	good := buildBoot(0, []byte("K"), gz(tree), nil)
	put := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	bomb := gz(make([]byte, 8<<20))
	tests := []struct {
		name    string
		data    []byte
		lim     extract.Limits
		openErr error
		readErr error
	}{
		{"empty", nil, extract.Limits{}, extract.ErrNotFormat, nil},
		{"truncated-header", good[:100], extract.Limits{}, extract.ErrCorrupt, nil},
		{"kernel-past-end", put(good, 8, 1<<30), extract.Limits{}, extract.ErrCorrupt, nil},
		{"ramdisk-past-end", put(good, 16, 0xffffffff), extract.Limits{}, extract.ErrCorrupt, nil},
		{"bad-page-size", put(good, 36, 12345), extract.Limits{}, extract.ErrCorrupt, nil},
		{"header-version-9", put(put(good, 40, 9), 36, 0), extract.Limits{}, extract.ErrUnsupported, nil},
		{"vendor-version-9", put(buildVendor(3, nil, tree), 8, 9), extract.Limits{}, extract.ErrUnsupported, nil},
		{"vendor-table-absurd", put(buildVendor(4, nil, tree), 2116, 1<<30), extract.Limits{}, extract.ErrCorrupt, nil},
		{"unknown-compression", buildBoot(0, nil, []byte("BZh91AY&SY"), nil), extract.Limits{}, nil, extract.ErrUnsupported},
		{"corrupt-gzip", buildBoot(0, nil, gz(tree)[:40], nil), extract.Limits{}, nil, extract.ErrCorrupt},
		// Found by fuzzing: a gzip magic with a bad header came back without a sentinel.
		{"bad-gzip-header", buildBoot(0, nil, append([]byte{0x1f, 0x8b, 9}, make([]byte, 20)...), nil), extract.Limits{}, nil, extract.ErrCorrupt},
		{"bad-xz-header", buildBoot(0, nil, append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, make([]byte, 20)...), nil), extract.Limits{}, nil, extract.ErrCorrupt},
		{"bomb-ratio", buildBoot(0, nil, bomb, nil), extract.Limits{MaxRatio: 10}, nil, extract.ErrLimit},
		{"bomb-size", buildBoot(0, nil, bomb, nil), extract.Limits{MaxFileSize: extract.MiB}, nil, extract.ErrLimit},
		{"cpio-size-past-end", buildBoot(0, nil, []byte("070701"+strings.Repeat("0", 36)+"ffffffff"+strings.Repeat("0", 64)), nil), extract.Limits{}, nil, extract.ErrCorrupt},
		{"cpio-bad-hex", buildBoot(0, nil, []byte("070701"+strings.Repeat("z", 104)), nil), extract.Limits{}, nil, extract.ErrCorrupt},
		{"cpio-too-many", buildBoot(0, nil, tree, nil), extract.Limits{MaxEntries: 3}, nil, extract.ErrLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), tt.lim)
			if !errors.Is(err, tt.openErr) {
				t.Fatalf("Open: err %v, want %v", err, tt.openErr)
			}
			if err != nil {
				return
			}
			_, err = fs.ReadFile(im, "ramdisk/init.rc")
			if !errors.Is(err, tt.readErr) {
				t.Errorf("ReadFile: err %v, want %v", err, tt.readErr)
			}
		})
	}
}

func TestSymlinkLoop(t *testing.T) {
	tree := cpioNewc(cpioEntry{"a", 0o120777, "b"}, cpioEntry{"b", 0o120777, "a"}, cpioEntry{"c", 0o120777, "/../../etc/passwd"})
	data := buildBoot(0, nil, tree, nil)
	im, err := Open(bytes.NewReader(data), int64(len(data)), extract.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ramdisk/a", "ramdisk/c"} {
		if _, err := fs.ReadFile(im, name); err == nil {
			t.Errorf("ReadFile(%q): no error", name)
		}
	}
}

func xzFile(t testing.TB, rel string) []byte {
	t.Helper()
	p := testutil.Corpus(t, rel)
	fh, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := xz.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 128<<20))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorpus opens the real boot images of the corpus (MANIFEST facts:
// issue_54 boot v0 64 MiB, issue_83 init_boot v4, issue_122 "ramdisk.img"
// that is a v0 image, issue_125 vendor_boot v3).
func TestCorpus(t *testing.T) {
	// None of these ramdisks holds init.rc: issue_54 is a system-as-root
	// (Magisk-patched) boot ramdisk, issue_83 a GKI init_boot, issue_122 an
	// Android 10 first-stage ramdisk; checked against a Python cpio reader.
	tests := []struct {
		rel      string
		size     int
		vendor   bool
		version  uint32
		os, lvl  string
		entries  int // cpio entries, "." and TRAILER!!! excluded
		parts    []string
		contains map[string]string // file → expected substring
	}{
		{"firmware/boot-images/issue_54/boot.img.xz", 64 << 20, false, 0, "8.1.0", "2018-05", 68, []string{"kernel"},
			map[string]string{"ramdisk/res/images/charging_green.png": "PNG", "ramdisk/.backup/.magisk": ""}},
		{"firmware/boot-images/issue_83/init_boot.img.xz", 8 << 20, false, 4, "12.0.0", "2022-03", 22, nil,
			map[string]string{"ramdisk/system/etc/ramdisk/build.prop": "ro."}},
		{"firmware/boot-images/issue_122/ramdisk.img.xz", 2 << 20, false, 0, "10.0.0", "2020-11", 11, nil,
			map[string]string{"ramdisk/init": "\x7fELF"}},
		{"firmware/boot-images/issue_125/vendor_boot.img.xz", 24 << 20, true, 3, "", "", 0, []string{"dtb"},
			map[string]string{"ramdisk/first_stage_ramdisk/fstab.amlogic": "/"}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(filepath.Dir(tt.rel)), func(t *testing.T) {
			data := xzFile(t, tt.rel)
			if len(data) != tt.size {
				t.Fatalf("decompressed %d bytes, want %d", len(data), tt.size)
			}
			im, err := Open(bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			in := im.Info()
			if in.Vendor != tt.vendor || in.HeaderVersion != tt.version || in.OSVersion != tt.os || in.PatchLevel != tt.lvl {
				t.Errorf("vendor %v version %d os %q %q, want %v %d %q %q", in.Vendor, in.HeaderVersion, in.OSVersion, in.PatchLevel, tt.vendor, tt.version, tt.os, tt.lvl)
			}
			root, err := im.ReadDir(".")
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range root {
				if e.Name() != RamdiskDir && e.Name() != RamdiskCpio {
					names = append(names, e.Name())
				}
			}
			if diff := cmp.Diff(tt.parts, names); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
			var files []string
			for _, p := range listing(t, im) {
				if strings.HasPrefix(p, RamdiskDir+"/") {
					files = append(files, p)
				}
			}
			if tt.entries > 0 && len(files) != tt.entries {
				t.Errorf("%d ramdisk entries, want %d", len(files), tt.entries)
			}
			for name, want := range tt.contains {
				b, err := fs.ReadFile(im, name)
				if err != nil || !bytes.Contains(b, []byte(want)) {
					t.Errorf("%s: %v, %d bytes, want %q inside", name, err, len(b), want)
				}
			}
			t.Logf("%d ramdisk entries; cmdline %.60q", len(files), in.Cmdline)
		})
	}
}

func seeds() map[string][]byte {
	tree := cpioNewc(sampleTree[:4]...)
	return map[string][]byte{
		"v0-gzip":   buildBoot(0, []byte("K"), gz(tree), nil),
		"v2-lz4":    buildBoot(2, nil, lz4c(tree, false), []byte("dtb")),
		"v4-raw":    buildBoot(4, nil, tree, nil),
		"vendor-v4": buildVendor(4, []byte("dtb"), tree, lz4c(tree, true)),
	}
}

func FuzzBootImage(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := Open(bytes.NewReader(data), int64(len(data)), extract.Limits{MaxFileSize: 16 * extract.MiB, MaxRatio: 100, MaxEntries: 10000})
		if err != nil {
			if !extract.HasSentinel(err) {
				t.Fatalf("Open: %v wraps no extract sentinel", err)
			}
			return
		}
		_ = im.Info()
		// Every member is listed and read; any error must say why.
		_ = fs.WalkDir(im, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, err = fs.ReadFile(im, p)
			}
			if err != nil && !extract.HasSentinel(err) {
				t.Fatalf("%s: %v wraps no extract sentinel", p, err)
			}
			return nil
		})
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzBootImage seeds")

// TestSeeds writes the fuzz seeds (built in code) when -update-seeds is set.
func TestSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the fuzz seeds")
	}
	for name, data := range seeds() {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzBootImage", name), data)
	}
}

func BenchmarkRamdisk(b *testing.B) {
	var entries []cpioEntry
	for i := range 2000 {
		entries = append(entries, cpioEntry{fmt.Sprintf("system/etc/f%04d.rc", i), 0o100644, strings.Repeat("on boot\n", 200)})
	}
	data := buildBoot(3, nil, gz(cpioNewc(entries...)), nil)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		im, err := Open(bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fs.ReadFile(im, "ramdisk/system/etc/f0001.rc"); err != nil {
			b.Fatal(err)
		}
	}
}
