package vdex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

// fakeDex returns a size-byte DEX-like blob whose header carries magic,
// file_size and header_size: enough for the vdex reader, which reads no more.
func fakeDex(magic string, size int) []byte {
	b := make([]byte, size)
	copy(b, magic)
	binary.LittleEndian.PutUint32(b[32:], uint32(size))
	hs := dexHeaderSz
	if strings.HasPrefix(magic, "cdex") {
		hs = cdexHeadSz
	}
	binary.LittleEndian.PutUint32(b[36:], uint32(hs))
	binary.LittleEndian.PutUint32(b[40:], 0x12345678)
	return b
}

type builder struct{ bytes.Buffer }

func (b *builder) u32(v ...uint32) {
	for _, x := range v {
		_ = binary.Write(&b.Buffer, binary.LittleEndian, x)
	}
}

func (b *builder) pad4() {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

func sumChecks(n int) []uint32 {
	c := make([]uint32, n)
	for i := range c {
		c[i] = 0xc0de0000 + uint32(i)
	}
	return c
}

// buildV6 makes a vdex 006/010 around dexes.
func buildV6(version string, dexes ...[]byte) []byte {
	var body builder
	for _, d := range dexes {
		body.pad4()
		body.Write(d)
	}
	var b builder
	b.WriteString("vdex" + version + "\x00")
	b.u32(uint32(len(dexes)), uint32(body.Len()), 0, 0)
	b.u32(sumChecks(len(dexes))...)
	b.Write(body.Bytes())
	return b.Bytes()
}

// buildV19 makes a vdex 019/021 around dexes with an optional shared data
// section; no dexes gives dex section version "000".
func buildV19(version string, shared []byte, dexes ...[]byte) []byte {
	var b builder
	b.WriteString("vdex" + version + "\x00")
	if len(dexes) == 0 {
		b.WriteString("000\x00")
	} else {
		b.WriteString("002\x00")
	}
	n := max(len(dexes), 1)
	b.u32(uint32(n), 8)
	if version == "021" {
		b.u32(0, 0)
	}
	b.u32(sumChecks(n)...)
	if len(dexes) > 0 {
		var body builder
		for _, d := range dexes {
			body.pad4()
			body.u32(0) // quickening table offset
			body.Write(d)
		}
		b.u32(uint32(body.Len()), uint32(len(shared)), 0)
		b.Write(body.Bytes())
		b.Write(shared)
	}
	b.Write(make([]byte, 8)) // verifier deps
	return b.Bytes()
}

// buildV27 makes a vdex 027 around dexes (none: an empty dex section).
func buildV27(nChecks int, dexes ...[]byte) []byte {
	var body builder
	for _, d := range dexes {
		body.pad4()
		body.Write(d)
	}
	const hdr = 12 + 4*12
	ckOff := uint32(hdr)
	dexOff := ckOff + uint32(nChecks*4)
	var b builder
	b.WriteString("vdex027\x00")
	b.u32(4)
	b.u32(kindChecksum, ckOff, uint32(nChecks*4))
	b.u32(kindDexFile, dexOff, uint32(body.Len()))
	b.u32(kindVerifier, dexOff+uint32(body.Len()), 0)
	b.u32(kindTypeLookup, dexOff+uint32(body.Len()), 0)
	b.u32(sumChecks(nChecks)...)
	b.Write(body.Bytes())
	return b.Bytes()
}

func TestOpen(t *testing.T) {
	d1 := fakeDex("dex\n035\x00", 0x70)
	d2 := fakeDex("dex\n039\x00", 0x7a) // odd size: the next one is aligned
	c1 := fakeDex("cdex001\x00", 0x90)
	c2 := fakeDex("cdex001\x00", 0x88)
	shared := make([]byte, 64)
	tests := []struct {
		name    string
		data    []byte
		version string
		want    []DexSection
		wantErr error
	}{
		{"v006", buildV6("006", d1, d2), "006", []DexSection{
			{Offset: 32, Size: 0x70, Version: "035", Checksum: 0xc0de0000, DataOffset: 32, DataSize: 0x70},
			{Offset: 144, Size: 0x7a, Version: "039", Checksum: 0xc0de0001, DataOffset: 144, DataSize: 0x7a},
		}, nil},
		{"v010", buildV6("010", d1), "010", []DexSection{
			{Offset: 28, Size: 0x70, Version: "035", Checksum: 0xc0de0000, DataOffset: 28, DataSize: 0x70},
		}, nil},
		{"v019-cdex", buildV19("019", shared, c1, c2), "019", []DexSection{
			{Offset: 44, Size: 0x90, Compact: true, Version: "001", Checksum: 0xc0de0000, DataOffset: 40 + 4 + 0x90 + 4 + 0x88, DataSize: 64},
			{Offset: 44 + 0x90 + 4, Size: 0x88, Compact: true, Version: "001", Checksum: 0xc0de0001, DataOffset: 40 + 4 + 0x90 + 4 + 0x88, DataSize: 64},
		}, nil},
		{"v021-dex", buildV19("021", nil, d1), "021", []DexSection{
			{Offset: 48, Size: 0x70, Version: "035", Checksum: 0xc0de0000, DataOffset: 48, DataSize: 0x70},
		}, nil},
		{"v019-nodex", buildV19("019", nil), "019", nil, ErrNoDex},
		{"v027", buildV27(2, d2, d1), "027", []DexSection{
			{Offset: 68, Size: 0x7a, Version: "039", Checksum: 0xc0de0000, DataOffset: 68, DataSize: 0x7a},
			{Offset: 68 + 0x7c, Size: 0x70, Version: "035", Checksum: 0xc0de0001, DataOffset: 68 + 0x7c, DataSize: 0x70},
		}, nil},
		{"v027-nodex", buildV27(3), "027", nil, ErrNoDex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open: err %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, extract.ErrUnsupported) {
				t.Errorf("Open: err %v does not wrap ErrUnsupported", err)
			}
			if f == nil {
				t.Fatal("Open returned no File")
			}
			if f.Version() != tt.version {
				t.Errorf("Version = %q, want %q", f.Version(), tt.version)
			}
			if diff := cmp.Diff(tt.want, f.Dex()); diff != "" {
				t.Errorf("Dex() mismatch (-want +got):\n%s", diff)
			}
			for i, d := range f.Dex() {
				head := make([]byte, 4)
				if _, err := f.DexReader(i).ReadAt(head, 0); err != nil {
					t.Fatal(err)
				}
				if want := map[bool]string{false: "dex\n", true: "cdex"}[d.Compact]; string(head) != want {
					t.Errorf("dex %d starts %q, want %q", i, head, want)
				}
			}
			if f.DexReader(len(f.Dex())) != nil || f.DexReader(-1) != nil {
				t.Error("DexReader out of range is not nil")
			}
		})
	}
}

func TestHostile(t *testing.T) {
	good := buildV19("019", make([]byte, 16), fakeDex("cdex001\x00", 0x90))
	put := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, extract.ErrNotFormat},
		{"not-vdex", []byte("dex\n035\x00hello world"), extract.ErrNotFormat},
		{"unknown-version", []byte("vdex099\x00\x00\x00\x00\x00"), extract.ErrUnsupported},
		{"truncated-header", good[:14], extract.ErrCorrupt},
		{"truncated-dex", good[:60], extract.ErrCorrupt},
		{"absurd-count", put(good, 12, 0xffffffff), extract.ErrLimit},
		{"count-past-end", put(good, 12, 5000), extract.ErrCorrupt},
		{"dex-size-past-end", put(good, 24, 0x7fffffff), extract.ErrCorrupt},
		{"file-size-past-end", put(good, 40+32, 0x7ffffff0), extract.ErrCorrupt},
		{"header-size-huge", put(good, 40+36, 0x7ffffff0), extract.ErrCorrupt},
		{"bad-dex-magic", put(good, 40, 0x41414141), extract.ErrCorrupt},
		{"bad-section-version", append([]byte("vdex019\x00003\x00"), make([]byte, 16)...), extract.ErrUnsupported},
		{"v027-sections", put(buildV27(1, fakeDex("dex\n035\x00", 0x70)), 8, 1<<20), extract.ErrLimit},
		{"v027-section-past-end", put(buildV27(1, fakeDex("dex\n035\x00", 0x70)), 12+12+8, 0x10000), extract.ErrCorrupt},
		{"v027-odd-checksums", put(buildV27(1, fakeDex("dex\n035\x00", 0x70)), 12+8, 3), extract.ErrCorrupt},
		{"v006-dex-size-past-end", put(buildV6("006", fakeDex("dex\n035\x00", 0x70)), 12, 1<<30), extract.ErrCorrupt},
		// Found by fuzzing: zero checksums right at the end of the file were
		// read as a bare io.EOF; now the bad section header is reported.
		{"v019-no-checksums-at-eof", []byte("vdex019\x000000\x00\x00\x00\x000000"), extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.want) {
				t.Errorf("Open: err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		head string
		want bool
	}{
		{"vdex019\x00", true}, {"vdex027\x00xx", true}, {"vdex", false}, {"vdexabc\x00", false}, {"dex\n035\x00", false},
	} {
		if got := Sniff([]byte(tt.head)); got != tt.want {
			t.Errorf("Sniff(%q) = %v, want %v", tt.head, got, tt.want)
		}
	}
}

// TestCorpus reads the real Android 9 vdex files of the Iris HP4024 ROM.
func TestCorpus(t *testing.T) {
	root := testutil.Corpus(t, "firmware/iris-hp4024/system")
	type result struct {
		Version   string
		Checksums []uint32
		Dex       []DexSection
		NoDex     bool
	}
	want := map[string]result{
		"app/SecureElement/oat/arm/SecureElement.vdex": {Version: "019", Checksums: []uint32{0xff768f74}, Dex: []DexSection{
			{Offset: 0x28, Size: 0x6248, Compact: true, Version: "001", Checksum: 0xff768f74, DataOffset: 0x6270, DataSize: 0x1a7e8},
		}},
		"priv-app/XMPPService/oat/arm/XMPPService.vdex": {Version: "019", Checksums: []uint32{0xeb80d1cd}, NoDex: true},
	}
	got := map[string]result{}
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".vdex") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fh, err := os.Open(p)
		if err != nil {
			return err
		}
		defer fh.Close()
		st, _ := fh.Stat()
		f, err := Open(fh, st.Size())
		if err != nil && !errors.Is(err, ErrNoDex) {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		got[rel] = result{f.Version(), f.Checksums(), f.Dex(), err != nil}
		for i, d := range f.Dex() {
			checkCompactDex(t, rel, f, i, d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("corpus vdex mismatch (-want +got):\n%s", diff)
	}
}

// checkCompactDex checks a cdex header is plausible and that its data offsets
// resolve into the shared data section: the first string must be MUTF-8.
func checkCompactDex(t *testing.T, name string, f *File, i int, d DexSection) {
	t.Helper()
	h := make([]byte, cdexHeadSz)
	if _, err := f.DexReader(i).ReadAt(h, 0); err != nil {
		t.Fatalf("%s: dex %d header: %v", name, i, err)
	}
	u := func(off int) uint32 { return binary.LittleEndian.Uint32(h[off:]) }
	if string(h[:8]) != "cdex001\x00" || u(40) != 0x12345678 || u(36) != cdexHeadSz {
		t.Fatalf("%s: dex %d: header %q endian %#x header_size %d", name, i, h[:8], u(40), u(36))
	}
	if int64(u(108))+d.Offset != d.DataOffset || int64(u(104)) != d.DataSize {
		t.Errorf("%s: dex %d: data_off %#x data_size %#x do not point at the shared section %#x+%#x", name, i, u(108), u(104), d.DataOffset, d.DataSize)
	}
	nStrings, stringIDs := u(56), int64(u(60))
	if nStrings == 0 || stringIDs+int64(nStrings)*4 > d.Size {
		t.Fatalf("%s: dex %d: %d string ids at %#x outside %d bytes", name, i, nStrings, stringIDs, d.Size)
	}
	var first []string
	for k := int64(0); k < min(int64(nStrings), 4); k++ {
		var w [4]byte
		if _, err := f.DexReader(i).ReadAt(w[:], stringIDs+4*k); err != nil {
			t.Fatal(err)
		}
		sdo := int64(binary.LittleEndian.Uint32(w[:]))
		buf := make([]byte, 64)
		n, _ := f.DataReader(i).ReadAt(buf, sdo)
		buf = buf[:n]
		if len(buf) < 2 || int(buf[0]) >= 0x40 || int(buf[0])+1 >= len(buf) || buf[1+int(buf[0])] != 0 {
			t.Fatalf("%s: dex %d: string %d at data+%#x is not a short MUTF-8 string: %q", name, i, k, sdo, buf)
		}
		first = append(first, string(buf[1:1+int(buf[0])]))
	}
	t.Logf("%s: dex %d: %d strings, first %q", name, i, nStrings, first)
}

// TestDexdump wraps real DEX files into vdex files of every version, extracts
// them again and checks dexdump parses what comes out.
func TestDexdump(t *testing.T) {
	dexdump, err := exec.LookPath("dexdump")
	if err != nil {
		t.Skip("dexdump not installed (Debian package dexdump): skipping")
	}
	dir := testutil.Corpus(t, "apks/androguard/dex")
	var dexes [][]byte
	for _, name := range []string{"AnalysisTest.dex", "StringTests.dex", "Test.dex"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		dexes = append(dexes, b)
	}
	for _, v := range []struct {
		name string
		data []byte
	}{
		{"006", buildV6("006", dexes...)},
		{"010", buildV6("010", dexes...)},
		{"019", buildV19("019", nil, dexes...)},
		{"021", buildV19("021", nil, dexes...)},
		{"027", buildV27(len(dexes), dexes...)},
	} {
		t.Run(v.name, func(t *testing.T) {
			f, err := Open(bytes.NewReader(v.data), int64(len(v.data)))
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Dex()) != len(dexes) {
				t.Fatalf("%d dex, want %d", len(f.Dex()), len(dexes))
			}
			tmp := t.TempDir()
			for i := range f.Dex() {
				got, err := io.ReadAll(f.DexReader(i))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, dexes[i]) {
					t.Fatalf("dex %d differs from the input", i)
				}
				p := filepath.Join(tmp, "classes.dex")
				if err := os.WriteFile(p, got, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(dexdump, "-f", p).CombinedOutput()
				if err != nil || !bytes.Contains(out, []byte("class_defs_size")) {
					t.Fatalf("dexdump on dex %d: %v\n%s", i, err, out)
				}
			}
		})
	}
}

func FuzzVDEX(f *testing.F) {
	f.Add(buildV6("006", fakeDex("dex\n035\x00", 0x70)))
	f.Add(buildV19("019", make([]byte, 16), fakeDex("cdex001\x00", 0x90), fakeDex("cdex001\x00", 0x88)))
	f.Add(buildV19("021", nil, fakeDex("dex\n035\x00", 0x70)))
	f.Add(buildV27(1, fakeDex("dex\n035\x00", 0x70)))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil && !extract.HasSentinel(err) {
			t.Fatalf("Open: %v wraps no extract sentinel", err)
		}
		if v == nil {
			if err == nil {
				t.Fatal("nil File and nil error")
			}
			return
		}
		for i, d := range v.Dex() {
			if d.Offset < 0 || d.Offset+d.Size > int64(len(data)) || d.DataOffset+d.DataSize > int64(len(data)) {
				t.Fatalf("dex %d %+v outside %d bytes", i, d, len(data))
			}
			if _, err := io.Copy(io.Discard, v.DexReader(i)); err != nil && !extract.HasSentinel(err) {
				t.Fatalf("read dex %d: %v wraps no extract sentinel", i, err)
			}
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	data := buildV19("019", make([]byte, 1024), fakeDex("cdex001\x00", 0x1000), fakeDex("cdex001\x00", 0x800))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzVDEX seeds")

// TestSeeds writes the fuzz seeds (built in code) when -update-seeds is set.
func TestSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the fuzz seeds")
	}
	seeds := map[string][]byte{
		"v006":       buildV6("006", fakeDex("dex\n035\x00", 0x70), fakeDex("dex\n035\x00", 0x72)),
		"v019-cdex":  buildV19("019", make([]byte, 16), fakeDex("cdex001\x00", 0x90), fakeDex("cdex001\x00", 0x88)),
		"v019-nodex": buildV19("019", nil),
		"v021":       buildV19("021", nil, fakeDex("dex\n039\x00", 0x70)),
		"v027":       buildV27(2, fakeDex("dex\n035\x00", 0x70), fakeDex("dex\n035\x00", 0x74)),
	}
	for name, data := range seeds {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzVDEX", name), data)
	}
}
