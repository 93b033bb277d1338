package payload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os/exec"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"google.golang.org/protobuf/proto"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload/metadata"
)

func xzOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := xz.WriterConfig{CheckSum: xz.CRC32}.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// withDictByte rewrites the LZMA2 dictionary property of an xz stream's
// first block (as ulikunitz/xz writes it: no optional sizes) and fixes the
// block header CRC32.
func withDictByte(t testing.TB, s []byte, d byte) []byte {
	t.Helper()
	s = bytes.Clone(s)
	hsize := (int(s[12]) + 1) * 4
	h := s[12 : 12+hsize]
	if h[1] != 0 || h[2] != 0x21 || h[3] != 1 {
		t.Fatalf("unexpected block header % x", h)
	}
	h[4] = d
	binary.LittleEndian.PutUint32(h[hsize-4:], crc32.ChecksumIEEE(h[:hsize-4]))
	return s
}

// xzHugeDict is a stream header and a block header declaring a 4 GiB
// dictionary, followed by garbage.
func xzHugeDict() []byte {
	b := append([]byte{}, xzMagic...)
	b = append(b, 0, 1)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte{0, 1}))
	h := []byte{2, 0, 0x21, 1, 40, 0, 0, 0}
	h = binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
	b = append(b, h...)
	return append(b, bytes.Repeat([]byte{0x55}, 40)...)
}

func zstdOf(t testing.TB, b []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeAll(b, nil)
}

func brotliOf(b []byte) []byte {
	var out bytes.Buffer
	w := brotli.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func tool(t testing.TB, name string, stdin []byte, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (Debian package %s): skipping", name, name)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

// offtout encodes bsdiff's sign-and-magnitude int64.
func offtout(b []byte, x int64) []byte {
	v := uint64(x)
	if x < 0 {
		v = uint64(-x) | 1<<63
	}
	return binary.LittleEndian.AppendUint64(b, v)
}

// bsdf2 builds a BSDF2 patch from control triples and the diff and extra
// streams, each compressed with comp (0 none, 2 brotli).
func bsdf2(comp byte, newSize int64, ctrl [][3]int64, diff, extra []byte) []byte {
	var c []byte
	for _, e := range ctrl {
		c = offtout(offtout(offtout(c, e[0]), e[1]), e[2])
	}
	enc := func(b []byte) []byte {
		if comp == compBrotli {
			return brotliOf(b)
		}
		return b
	}
	c, d, x := enc(c), enc(diff), enc(extra)
	p := []byte("BSDF2")
	p = append(p, comp, comp, comp)
	p = offtout(p, int64(len(c)))
	p = offtout(p, int64(len(d)))
	p = offtout(p, newSize)
	p = append(p, c...)
	p = append(p, d...)
	return append(p, x...)
}

// TestOperations assembles one-partition payloads with each supported
// operation and compares the result byte for byte.
func TestOperations(t *testing.T) {
	data := semiCompressible(3*4096, 9)
	old := semiCompressible(4*4096, 10)
	// New = old blocks 1..2 with every byte +1, then "EXTRA" padded.
	newBsdiff := make([]byte, 3*4096)
	for i := range 2 * 4096 {
		newBsdiff[i] = old[4096+i] + 1
	}
	copy(newBsdiff[2*4096:], "EXTRA")
	ones := bytes.Repeat([]byte{1}, 2*4096)
	ctrl := [][3]int64{{2 * 4096, 5, 0}}
	srcOp := func(typ InstallOperation_Type, n uint64, src []*metadata.Extent, dst ...*metadata.Extent) *metadata.InstallOperation {
		o := op(typ, 0, n, dst...)
		o.SrcExtents = src
		return o
	}
	type tcase struct {
		name  string
		op    *metadata.InstallOperation
		blob  []byte
		base  []byte
		want  []byte
		wantE error
	}
	cases := []tcase{
		{name: "replace", op: op(OpReplace, 0, uint64(len(data)), ext(0, 3)), blob: data, want: data},
		{name: "replace-short", op: op(OpReplace, 0, 5, ext(0, 3)), blob: data[:5], want: append(bytes.Clone(data[:5]), make([]byte, 3*4096-5)...)},
		{name: "xz", op: op(OpReplaceXZ, 0, 0, ext(0, 3)), blob: xzOf(t, data), want: data},
		{name: "xz-declared-4GiB-dict", op: op(OpReplaceXZ, 0, 0, ext(0, 3)), blob: withDictByte(t, xzOf(t, data), 40), want: data},
		{name: "zstd", op: op(OpReplaceZstd, 0, 0, ext(0, 3)), blob: zstdOf(t, data), want: data},
		{name: "zstd-bomb", op: op(OpReplaceZstd, 0, 0, ext(0, 1)), blob: zstdOf(t, make([]byte, 1<<20)), wantE: extract.ErrCorrupt},
		{name: "zero", op: op(OpZero, 0, 0, ext(0, 3)), want: make([]byte, 3*4096)},
		{name: "discard", op: op(OpDiscard, 0, 0, ext(0, 3)), want: make([]byte, 3*4096)},
		{name: "source-copy", op: srcOp(OpSourceCopy, 0, []*metadata.Extent{ext(3, 1), ext(0, 2)}, ext(0, 3)), base: old,
			want: append(bytes.Clone(old[3*4096:]), old[:2*4096]...)},
		{name: "source-copy-short-base", op: srcOp(OpSourceCopy, 0, []*metadata.Extent{ext(3, 3)}, ext(0, 3)), base: old, wantE: extract.ErrCorrupt},
		{name: "brotli-bsdiff", op: srcOp(OpBrotliBsdiff, 0, []*metadata.Extent{ext(0, 4)}, ext(0, 3)), base: old,
			blob: bsdf2(compBrotli, 2*4096+5, [][3]int64{{2 * 4096, 5, 0}}, ones, []byte("EXTRA")), want: nil /* see below */},
		{name: "source-bsdiff-raw-streams", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 3)), base: old,
			blob: bsdf2(compNone, 2*4096+5, ctrl, ones, []byte("EXTRA")), want: newBsdiff},
		{name: "bsdiff-overrun", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 3)), base: old,
			blob: bsdf2(compNone, 2*4096+5, [][3]int64{{3 * 4096, 5, 0}}, ones, []byte("EXTRA")), wantE: extract.ErrCorrupt},
		{name: "bsdiff-new-size", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 1)), base: old,
			blob: bsdf2(compNone, 2*4096+5, ctrl, ones, []byte("EXTRA")), wantE: extract.ErrCorrupt},
		{name: "bsdiff-idle-controls", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 1)), base: old,
			blob: bsdf2(compNone, 10, make([][3]int64, maxIdleControls+2), nil, nil), wantE: extract.ErrCorrupt},
		{name: "bsdiff-bad-compressor", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 1)), base: old,
			blob: append([]byte("BSDF2\x07\x07\x07"), make([]byte, 24)...), wantE: extract.ErrUnsupported},
		{name: "bsdiff-truncated", op: srcOp(OpSourceBsdiff, 0, []*metadata.Extent{ext(1, 2)}, ext(0, 1)), base: old,
			blob: []byte("BSDIFF40"), wantE: extract.ErrCorrupt},
	}
	// The brotli case patches old blocks 0..1 (it starts at old offset 0).
	bro := make([]byte, 3*4096)
	for i := range 2 * 4096 {
		bro[i] = old[i] + 1
	}
	copy(bro[2*4096:], "EXTRA")
	cases[10].want = bro
	if _, err := exec.LookPath("bzip2"); err == nil {
		cases = append(cases, tcase{name: "bz2", op: op(OpReplaceBZ, 0, 0, ext(0, 3)), blob: tool(t, "bzip2", data, "-c"), want: data})
	}
	if _, err := exec.LookPath("xz"); err == nil {
		cases = append(cases,
			tcase{name: "xz-cli-crc64", op: op(OpReplaceXZ, 0, 0, ext(0, 3)), blob: tool(t, "xz", data, "-c", "-9"), want: data},
			tcase{name: "xz-cli-sha256-blocks", op: op(OpReplaceXZ, 0, 0, ext(0, 3)),
				blob: tool(t, "xz", data, "-c", "-T2", "--block-size=5000", "--check=sha256"), want: data},
			tcase{name: "xz-cli-delta-filter", op: op(OpReplaceXZ, 0, 0, ext(0, 3)),
				blob: tool(t, "xz", data, "-c", "--delta=dist=4", "--lzma2"), wantE: extract.ErrUnsupported})
		if withLiblzma {
			// liblzma applies the delta filter.
			cases[len(cases)-1].wantE, cases[len(cases)-1].want = nil, data
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.op.DataLength = proto.Uint64(uint64(len(tc.blob)))
			b := rawPayload(t, manifest(3*4096, tc.op), tc.blob)
			p, err := Open(bytes.NewReader(b), int64(len(b)), extract.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			opts := OpenOptions{Verify: true}
			if tc.base != nil {
				opts.Base = bytes.NewReader(tc.base)
			}
			var got []byte
			r, err := p.Open("system", opts)
			if err == nil {
				got, err = io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
			}
			if tc.wantE != nil {
				if !errors.Is(err, tc.wantE) {
					t.Fatalf("got %v, want %v", err, tc.wantE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("output differs: got %q..., want %q...", got[:min(16, len(got))], tc.want[:min(16, len(tc.want))])
			}
		})
	}
}

func TestBsdiff40(t *testing.T) {
	// Classic BSDIFF40: three bzip2 streams.
	old := []byte("hello old world, this is the old file")
	newData := []byte("hello new world! appended")
	diff := make([]byte, 11)
	for i := range diff {
		diff[i] = newData[i] - old[i]
	}
	c := offtout(offtout(offtout(nil, 11), int64(len(newData)-11)), 3)
	bz := func(b []byte) []byte { return tool(t, "bzip2", b, "-c") }
	cb, db, eb := bz(c), bz(diff), bz(newData[11:])
	p := []byte(bsdiffMagic)
	p = offtout(p, int64(len(cb)))
	p = offtout(p, int64(len(db)))
	p = offtout(p, int64(len(newData)))
	p = append(append(append(p, cb...), db...), eb...)
	out := make([]byte, 32)
	if err := bspatch(old, p, out); err != nil {
		t.Fatal(err)
	}
	want := append(bytes.Clone(newData), make([]byte, 32-len(newData))...)
	if !bytes.Equal(out, want) {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestPartitionErrors(t *testing.T) {
	var buf bytes.Buffer
	data := semiCompressible(8192, 3)
	if err := Write(&buf, []PartitionSpec{{Name: "a", Data: bytes.NewReader(data), Size: 8192}}, WriteOptions{ChunkSize: 4096}); err != nil {
		t.Fatal(err)
	}
	p, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), extract.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Open("missing", OpenOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	r, err := p.Open("a", OpenOptions{Workers: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("ReadAt(-1) succeeded")
	}
	if n, err := r.ReadAt(make([]byte, 1), 8192); n != 0 || err != io.EOF {
		t.Errorf("ReadAt at the end = %d, %v; want 0, EOF", n, err)
	}
	b := make([]byte, 100)
	if n, err := r.ReadAt(b, 8150); n != 42 || err != io.EOF || !bytes.Equal(b[:42], data[8150:]) {
		t.Errorf("ReadAt across the end = %d, %v", n, err)
	}
	if err := Write(io.Discard, []PartitionSpec{{Name: "a"}, {Name: "a"}}, WriteOptions{}); err == nil {
		t.Error("Write with a repeated name succeeded")
	}
	if err := Write(io.Discard, []PartitionSpec{{Name: "a", Data: bytes.NewReader(nil), Size: 10}}, WriteOptions{}); err == nil {
		t.Error("Write with short data succeeded")
	}
	if err := Write(io.Discard, nil, WriteOptions{ChunkSize: 100}); err == nil {
		t.Error("Write with chunk size 100 succeeded")
	}
}

// TestConcurrentReads reads one partition from several goroutines at once,
// with a cache smaller than the partition so entries are evicted.
func TestConcurrentReads(t *testing.T) {
	data := semiCompressible(1<<20, 4)
	var buf bytes.Buffer
	if err := Write(&buf, []PartitionSpec{{Name: "a", Data: bytes.NewReader(data), Size: int64(len(data))}},
		WriteOptions{ChunkSize: 64 << 10, XZ: true}); err != nil {
		t.Fatal(err)
	}
	p, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), extract.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Open("a", OpenOptions{CacheBytes: 200 << 10, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			b := make([]byte, 10000)
			for i := range 200 {
				off := int64((i*7919 + g*104729) % (len(data) - len(b)))
				if _, err := r.ReadAt(b, off); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(b, data[off:off+int64(len(b))]) {
					errs <- errors.New("concurrent read differs")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadAhead checks a read at offset 0 makes workers decode the next
// operations in the background, and that Workers < 0 turns that off.
func TestReadAhead(t *testing.T) {
	data := semiCompressible(8*4096, 8)
	var buf bytes.Buffer
	if err := Write(&buf, []PartitionSpec{{Name: "a", Data: bytes.NewReader(data), Size: int64(len(data))}},
		WriteOptions{ChunkSize: 4096, XZ: true}); err != nil {
		t.Fatal(err)
	}
	p, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), extract.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cached := func(r *PartitionReader, op int) bool {
		r.cache.mu.Lock()
		e, ok := r.cache.entries[op]
		r.cache.mu.Unlock()
		if !ok {
			return false
		}
		<-e.done // wait for an in-flight decode
		return e.err == nil
	}
	for _, tc := range []struct {
		name    string
		workers int
		want    bool
	}{{"on", 2, true}, {"off", -1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.Open("a", OpenOptions{Workers: tc.workers})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.ReadAt(make([]byte, 100), 0); err != nil {
				t.Fatal(err)
			}
			if !cached(r, 0) {
				t.Fatal("operation 0 not cached after reading it")
			}
			for op := 1; op <= 2; op++ {
				if got := cached(r, op); got != tc.want {
					t.Errorf("operation %d decoded ahead = %v, want %v", op, got, tc.want)
				}
			}
		})
	}
}

func TestUndeclaredSize(t *testing.T) {
	m := manifest(0, op(OpZero, 0, 0, ext(0, 2)), op(OpReplace, 0, 3, ext(3, 1)))
	m.Partitions[0].NewPartitionInfo = nil
	b := rawPayload(t, m, []byte("abc"))
	p, err := Open(bytes.NewReader(b), int64(len(b)), extract.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Partitions()[0].Size; got != 4*4096 {
		t.Errorf("Partitions()[0].Size = %d, want %d", got, 4*4096)
	}
	r, err := p.Open("system", OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4*4096)
	copy(want[3*4096:], "abc")
	if !bytes.Equal(got, want) {
		t.Error("partition without a declared size reads wrong")
	}
}
