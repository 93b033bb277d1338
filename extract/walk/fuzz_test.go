package walk

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/brotli/go/cbrotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/romscan/romscan/extract"
)

// fuzzZip builds a zip of name/content pairs, deflated or stored.
func fuzzZip(method uint16, files ...[2]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: method})
		if err != nil {
			panic(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// fuzzTar builds a tar of name/content pairs, with a symlink and a folder.
func fuzzTar(files ...[2]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "d/link", Typeflag: tar.TypeSymlink, Linkname: "../../etc/passwd"})
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: f[0], Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f[1]))})
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	return buf.Bytes()
}

// compress runs b through a writer made by mk.
func compress(b []byte, mk func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	w := mk(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func fuzzWalkSeeds() [][2][]byte {
	text := "hello, world\n"
	inner := fuzzZip(zip.Deflate, [2]string{"a.txt", text}, [2]string{"b/../../c.txt", text})
	tarball := fuzzTar([2]string{"system/build.prop", "ro.build.fingerprint=x\n"}, [2]string{"inner.zip", string(inner)})
	return [][2][]byte{
		{inner, []byte("x.zip")},
		{fuzzZip(zip.Store, [2]string{"nested.zip", string(inner)}, [2]string{"a.txt", "one"}, [2]string{"a.txt", "two"}), []byte("x.zip")},
		{fuzzZip(zip.Deflate, [2]string{"AndroidManifest.xml", "\x03\x00\x08\x00"}, [2]string{"classes.dex", "dex\n035\x00"}, [2]string{"assets/x.jar", string(inner)}), []byte("x.apk")},
		{fuzzZip(zip.Deflate, [2]string{"system.transfer.list", "4\n1\n0\n0\nnew 2,0,1\n"}, [2]string{"system.new.dat", string(make([]byte, 4096))}), []byte("ota.zip")},
		{tarball, []byte("x.tar")},
		{compress(tarball, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }), []byte("x.tar.gz")},
		{compress(tarball, func(w io.Writer) io.WriteCloser {
			xw, err := xz.NewWriter(w)
			if err != nil {
				panic(err)
			}
			return xw
		}), []byte("x.tar.xz")},
		{compress(tarball, func(w io.Writer) io.WriteCloser {
			zw, err := zstd.NewWriter(w)
			if err != nil {
				panic(err)
			}
			return zw
		}), []byte("x.zst")},
		{compress(tarball, func(w io.Writer) io.WriteCloser { return lz4.NewWriter(w) }), []byte("x.lz4")},
		{compress(tarball, func(w io.Writer) io.WriteCloser { return cbrotli.NewWriter(w, cbrotli.WriterOptions{Quality: 1}) }), []byte("x.br")},
		{compress(bytes.Repeat([]byte{0}, 1<<20), func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }), []byte("bomb.gz")},
	}
}

// FuzzWalk hands arbitrary bytes under an arbitrary name to the walker with
// small limits, as the scan does: every container (zip, tar, the compressed
// streams, and every image format) is opened, every member listed and
// opened, every leaf read in full. Nothing may panic, and every per-file
// error must wrap an extract sentinel so the report can say why.
func FuzzWalk(f *testing.F) {
	for _, s := range fuzzWalkSeeds() {
		f.Add(s[0], string(s[1]))
	}
	lim := extract.Limits{MaxDepth: 6, MaxEntries: 200, MaxFileSize: 4 * extract.MiB, MaxTotalBytes: 64 * extract.MiB, MaxRatio: 200, MaxSpillBytes: 8 * extract.MiB}
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		if name == "" {
			name = "fuzz"
		}
		spill := &Spiller{Max: lim.MaxSpillBytes}
		defer spill.Close()
		w := New(lim, spill)
		w.Visit = func(l *Leaf) {
			defer l.Done()
			if _, err := io.Copy(io.Discard, io.NewSectionReader(l.R, 0, l.Size)); err != nil {
				t.Fatalf("%s: read leaf: %v", l.Loc, err)
			}
		}
		w.OnError = func(loc extract.Location, err error) {
			if !extract.HasSentinel(err) {
				t.Fatalf("%s: %v wraps no extract sentinel", loc, err)
			}
		}
		r := newRefs(nil, nil)
		err := w.visitFile(context.Background(), bytes.NewReader(data), int64(len(data)), extract.Location{name}, 0, r)
		r.dec()
		if err != nil {
			t.Fatalf("visitFile returned %v; only cancellation may end a walk", err)
		}
	})
}

// walkBytes walks data as a file called name and returns the per-file errors.
func walkBytes(t *testing.T, name string, data []byte) []error {
	t.Helper()
	spill := &Spiller{Max: extract.GiB}
	defer spill.Close()
	w := New(extract.DefaultLimits(), spill)
	var errs []error
	w.Visit = func(l *Leaf) { l.Done() }
	w.OnError = func(loc extract.Location, err error) { errs = append(errs, err) }
	r := newRefs(nil, nil)
	defer r.dec()
	if err := w.visitFile(context.Background(), bytes.NewReader(data), int64(len(data)), extract.Location{name}, 0, r); err != nil {
		t.Fatal(err)
	}
	return errs
}

// TestMemberErrorsSayWhy: a member that cannot be decoded is an error with
// a sentinel. FuzzWalk found the bad local header; the decoder errors came
// with it (they were bare "flate: corrupt input", "zip: checksum error",
// "unexpected EOF").
func TestMemberErrorsSayWhy(t *testing.T) {
	text := strings.Repeat("hello, world\n", 100)
	good := fuzzZip(zip.Deflate, [2]string{"a.txt", text})
	// The second member's local header signature is broken; the first keeps
	// the archive recognisable.
	badHeader := fuzzZip(zip.Deflate, [2]string{"a.txt", text}, [2]string{"b.txt", text})
	second := bytes.LastIndex(badHeader, []byte("PK\x03\x04"))
	badHeader[second] = 'X'
	badMethod := append([]byte{}, good...)
	for i := 0; i+4 <= len(badMethod); i++ { // method 99 in both headers
		switch binary.LittleEndian.Uint32(badMethod[i:]) {
		case 0x04034b50:
			binary.LittleEndian.PutUint16(badMethod[i+8:], 99)
		case 0x02014b50:
			binary.LittleEndian.PutUint16(badMethod[i+10:], 99)
		}
	}
	badData := append([]byte{}, good...)
	copy(badData[30+len("a.txt"):], "\xff\xff\xff\xff")
	badCRC := append([]byte{}, good...)
	for i := 0; i+4 <= len(badCRC); i++ {
		switch binary.LittleEndian.Uint32(badCRC[i:]) {
		case 0x04034b50:
			badCRC[i+14] ^= 1
		case 0x02014b50:
			badCRC[i+16] ^= 1
		}
	}
	gz := compress([]byte(text), func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	tests := []struct {
		name string
		file string
		data []byte
		want error
	}{
		{"bad-local-header", "x.zip", badHeader, extract.ErrCorrupt},
		{"unknown-method", "x.zip", badMethod, extract.ErrUnsupported},
		{"corrupt-deflate", "x.zip", badData, extract.ErrCorrupt},
		{"bad-crc", "x.zip", badCRC, extract.ErrCorrupt},
		{"truncated-gzip", "x.gz", gz[:len(gz)/2], extract.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := walkBytes(t, tt.file, tt.data)
			if len(errs) != 1 || !errors.Is(errs[0], tt.want) {
				t.Errorf("errors %v, want one wrapping %v", errs, tt.want)
			}
		})
	}
}

// TestDecodeLimitInMemory: the per-file limit holds for a member decoded in
// memory (under the spill threshold), whatever size it declared.
func TestDecodeLimitInMemory(t *testing.T) {
	s := &Spiller{Max: extract.GiB}
	defer s.Close()
	for _, hint := range []int64{-1, 10} {
		_, _, err := s.Decode(context.Background(), bytes.NewReader(make([]byte, 2*extract.MiB)), hint, extract.MiB, "m")
		if !errors.Is(err, extract.ErrLimit) {
			t.Errorf("hint %d: Decode of 2 MiB with a 1 MiB limit = %v, want ErrLimit", hint, err)
		}
	}
	ra, release, err := s.Decode(context.Background(), bytes.NewReader(make([]byte, extract.MiB)), -1, extract.MiB, "m")
	if err != nil || ra.Size() != extract.MiB {
		t.Fatalf("Decode of exactly the limit = %v", err)
	}
	release()
}

// TestSparseBadCRC: a sparse image whose CRC32 chunk does not match is
// reported (ErrCorrupt), and its expanded image is still walked. It was read
// without a word.
func TestSparseBadCRC(t *testing.T) {
	le := binary.LittleEndian
	img := make([]byte, 28)
	le.PutUint32(img[0:], 0xed26ff3a) // magic
	le.PutUint16(img[4:], 1)          // major version
	le.PutUint16(img[8:], 28)         // file header size
	le.PutUint16(img[10:], 12)        // chunk header size
	le.PutUint32(img[12:], 4096)      // block size
	le.PutUint32(img[16:], 1)         // blocks
	le.PutUint32(img[20:], 2)         // chunks
	chunk := func(typ uint16, blocks uint32, data []byte) {
		h := make([]byte, 12)
		le.PutUint16(h[0:], typ)
		le.PutUint32(h[4:], blocks)
		le.PutUint32(h[8:], uint32(12+len(data)))
		img = append(append(img, h...), data...)
	}
	chunk(0xcac1, 1, []byte(strings.Repeat("ro.x=1\n", 585)+"\n")) // raw, 4096 bytes
	chunk(0xcac4, 0, []byte{1, 2, 3, 4})                           // CRC32, wrong
	var leaves int
	spill := &Spiller{Max: extract.GiB}
	defer spill.Close()
	w := New(extract.DefaultLimits(), spill)
	var errs []error
	w.Visit = func(l *Leaf) { leaves++; l.Done() }
	w.OnError = func(loc extract.Location, err error) { errs = append(errs, err) }
	r := newRefs(nil, nil)
	defer r.dec()
	if err := w.visitFile(context.Background(), bytes.NewReader(img), int64(len(img)), extract.Location{"bad-crc.simg"}, 0, r); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], extract.ErrCorrupt) || !strings.Contains(errs[0].Error(), "CRC32") {
		t.Errorf("errors %v, want one CRC32 mismatch wrapping ErrCorrupt", errs)
	}
	if leaves != 1 {
		t.Errorf("%d leaves, want the expanded image", leaves)
	}
}
