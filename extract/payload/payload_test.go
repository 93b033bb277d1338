package payload

import (
	"archive/tar"
	"bytes"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload/metadata"
	"github.com/romscan/romscan/internal/testutil"
)

const corpusDir = "firmware/aosp-update_engine"

// SHA-256s of the sample images, from the corpus MANIFEST.md.
const (
	sumKernelNew = "c51d9edeaf1043efe41257caebc1336ac21e411abb6ed4183324be6e841c448c"
	sumRootNew   = "5610597d03d3e29f01d722bd743296ef68d076f623c1dca2eb135347c6b8efba"
	sumKernelOld = "42a879e9d112c81619d2ee9a108d99d09b85144c18297f3c148747758da56d03"
	sumRootOld   = "2cedf8ef8f438566bc835419b0e7a51a3d2679e6485de628aab080d33a712a1f"
)

// sampleImages untars sample_images.tar.bz2 from the corpus into memory.
func sampleImages(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open(testutil.Corpus(t, filepath.Join(corpusDir, "sample_images.tar.bz2")))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	imgs := map[string][]byte{}
	tr := tar.NewReader(bzip2.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.FileInfo().Mode().IsRegular() {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			t.Fatal(err)
		}
		imgs[filepath.Base(h.Name)] = b
	}
	return imgs
}

func openCorpus(t *testing.T, name string) *Payload {
	t.Helper()
	f, err := os.Open(testutil.Corpus(t, filepath.Join(corpusDir, name)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(f, st.Size(), extract.DefaultLimits())
	if err != nil {
		t.Fatalf("Open(%s): %v", name, err)
	}
	return p
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readAll reads a partition through an io.SectionReader, as callers do.
func readAll(t *testing.T, r *PartitionReader) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.NewSectionReader(r, 0, r.Size())); err != nil {
		t.Fatalf("read partition %s: %v", r.Name(), err)
	}
	return buf.Bytes()
}

func TestFullPayloadCorpus(t *testing.T) {
	p := openCorpus(t, "full_payload.bin")
	imgs := sampleImages(t)
	if diff := cmp.Diff(sumKernelNew, sha(imgs["disk_ext2_4k.img"])); diff != "" {
		t.Fatalf("sample image differs from the corpus manifest (-want +got):\n%s", diff)
	}
	got := p.Partitions()
	want := []PartitionInfo{
		{Name: "kernel", Size: 4194304, NumOps: 2, HashSHA256: mustHex(sumKernelNew)},
		{Name: "root", Size: 12288, NumOps: 1, HashSHA256: mustHex(sumRootNew)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Partitions() (-want +got):\n%s", diff)
	}
	if p.MinorVersion() != 0 || p.BlockSize() != 4096 {
		t.Errorf("minor %d block %d, want 0 and 4096", p.MinorVersion(), p.BlockSize())
	}
	if off, n := p.MetadataSignature(); off != 24+257 || n != 0 {
		t.Errorf("MetadataSignature() = %d, %d; want 281, 0", off, n)
	}
	for _, tc := range []struct{ part, img string }{
		{"kernel", "disk_ext2_4k.img"},
		{"root", "disk_sqfs_default.img"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			r, err := p.Open(tc.part, OpenOptions{Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			data := readAll(t, r)
			if !bytes.Equal(data, imgs[tc.img]) {
				t.Fatalf("partition %s differs from %s (sha256 %s, want %s)", tc.part, tc.img, sha(data), sha(imgs[tc.img]))
			}
			if !r.HashVerified() {
				t.Errorf("HashVerified() = false after a full ordered read")
			}
			// Random reads across operation boundaries.
			for _, off := range []int64{0, 4095, 4096, 2<<20 - 7, r.Size() - 10} {
				if off < 0 || off >= r.Size() {
					continue
				}
				b := make([]byte, 20)
				n, err := r.ReadAt(b, off)
				wantN := int(min(20, r.Size()-off))
				if n != wantN || (n < 20) != (err == io.EOF) {
					t.Errorf("ReadAt(20, %d) = %d, %v", off, n, err)
				}
				if !bytes.Equal(b[:n], imgs[tc.img][off:off+int64(n)]) {
					t.Errorf("ReadAt at %d differs", off)
				}
			}
		})
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestDeltaPayloadCorpus(t *testing.T) {
	p := openCorpus(t, "delta_payload.bin")
	imgs := sampleImages(t)
	if p.MinorVersion() != 6 {
		t.Errorf("minor version %d, want 6", p.MinorVersion())
	}
	for _, tc := range []struct{ part, oldImg, oldSum, newImg string }{
		{"kernel", "disk_ext2_4k_empty.img", sumKernelOld, "disk_ext2_4k.img"},
		{"root", "disk_sqfs_empty.img", sumRootOld, "disk_sqfs_default.img"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			if got := sha(imgs[tc.oldImg]); got != tc.oldSum {
				t.Fatalf("%s sha256 %s, corpus manifest says %s", tc.oldImg, got, tc.oldSum)
			}
			r, err := p.Open(tc.part, OpenOptions{Base: bytes.NewReader(imgs[tc.oldImg]), Verify: true})
			if err != nil {
				t.Fatal(err)
			}
			if data := readAll(t, r); !bytes.Equal(data, imgs[tc.newImg]) {
				t.Fatalf("partition %s differs from %s", tc.part, tc.newImg)
			}
			if !r.HashVerified() {
				t.Errorf("HashVerified() = false")
			}
		})
	}
	t.Run("needs-base", func(t *testing.T) {
		info := p.Partitions()[0]
		if !info.Incremental {
			t.Errorf("kernel Incremental = false")
		}
		_, err := p.Open("kernel", OpenOptions{})
		if !errors.Is(err, extract.ErrNeedsBase) {
			t.Fatalf("Open without base: %v, want ErrNeedsBase", err)
		}
		if !bytes.Contains([]byte(err.Error()), []byte(`"kernel"`)) {
			t.Errorf("error %q does not name the partition", err)
		}
	})
	t.Run("wrong-base", func(t *testing.T) {
		// The new kernel as base: SOURCE_COPY/BROTLI_BSDIFF source hashes differ.
		r, err := p.Open("kernel", OpenOptions{Base: bytes.NewReader(imgs["disk_ext2_1k.img"]), Verify: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(io.Discard, io.NewSectionReader(r, 0, r.Size()))
		if !errors.Is(err, extract.ErrCorrupt) {
			t.Fatalf("read with a wrong base: %v, want ErrCorrupt", err)
		}
	})
}

// semiCompressible returns n deterministic bytes that xz shrinks to about a
// third: words from a small vocabulary mixed with noise.
func semiCompressible(n int, seed uint64) []byte {
	words := []string{"android", "permission", "system", "vendor", "service", "intent", "activity", "\x00\x00\x00\x00", "com.", "lib", ".so", "0x7f"}
	b := make([]byte, 0, n+16)
	x := seed | 1
	for len(b) < n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		if x%4 == 0 {
			b = binary.LittleEndian.AppendUint32(b, uint32(x>>32))
		} else {
			b = append(b, words[x>>40%uint64(len(words))]...)
		}
	}
	return b[:n]
}

func TestWriteRoundTrip(t *testing.T) {
	small := semiCompressible(3*4096+100, 1) // not block-aligned
	big := semiCompressible(600<<10, 2)
	zeros := make([]byte, 64<<10)
	noise := make([]byte, 40<<10)
	x := uint32(7)
	for i := range noise {
		x = x*1664525 + 1013904223
		noise[i] = byte(x >> 24)
	}
	parts := []PartitionSpec{
		{Name: "system", Data: bytes.NewReader(big), Size: int64(len(big))},
		{Name: "odd", Data: bytes.NewReader(small), Size: int64(len(small))},
		{Name: "zeros", Data: bytes.NewReader(zeros), Size: int64(len(zeros))},
		{Name: "noise", Data: bytes.NewReader(noise), Size: int64(len(noise))},
		{Name: "empty", Size: 0},
	}
	want := map[string][]byte{"system": big, "odd": small, "zeros": zeros, "noise": noise, "empty": {}}
	for _, xzOn := range []bool{false, true} {
		t.Run(map[bool]string{false: "replace", true: "xz"}[xzOn], func(t *testing.T) {
			var out bytes.Buffer
			if err := Write(&out, parts, WriteOptions{ChunkSize: 64 << 10, XZ: xzOn}); err != nil {
				t.Fatal(err)
			}
			p, err := Open(bytes.NewReader(out.Bytes()), int64(out.Len()), extract.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			types := map[InstallOperation_Type]int{}
			for _, pu := range p.Manifest().GetPartitions() {
				for _, op := range pu.GetOperations() {
					types[op.GetType()]++
				}
			}
			if xzOn && (types[OpReplaceXZ] == 0 || types[OpReplace] == 0) {
				t.Errorf("operation types %v: want both REPLACE (noise) and REPLACE_XZ", types)
			}
			if !xzOn && len(types) != 1 {
				t.Errorf("operation types %v: want REPLACE only", types)
			}
			for _, info := range p.Partitions() {
				r, err := p.Open(info.Name, OpenOptions{Verify: true, CacheBytes: 256 << 10})
				if err != nil {
					t.Fatal(err)
				}
				got := readAll(t, r)
				if !bytes.Equal(got, want[info.Name]) {
					t.Errorf("partition %s: round trip differs (%d bytes, want %d)", info.Name, len(got), len(want[info.Name]))
				}
				if len(got) > 0 && !r.HashVerified() {
					t.Errorf("partition %s: hash not verified", info.Name)
				}
			}
		})
	}
}

// rawPayload assembles a payload from a manifest and its data blobs.
func rawPayload(t testing.TB, m *metadata.DeltaArchiveManifest, data []byte) []byte {
	t.Helper()
	raw, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return rawPayloadBytes(raw, 0, data)
}

func rawPayloadBytes(manifest []byte, sigSize uint32, data []byte) []byte {
	var hdr [headerSize]byte
	copy(hdr[:], Magic)
	binary.BigEndian.PutUint64(hdr[4:], 2)
	binary.BigEndian.PutUint64(hdr[12:], uint64(len(manifest)))
	binary.BigEndian.PutUint32(hdr[20:], sigSize)
	out := append(hdr[:], manifest...)
	out = append(out, make([]byte, sigSize)...)
	return append(out, data...)
}

func ext(start, n uint64) *metadata.Extent {
	return &metadata.Extent{StartBlock: proto.Uint64(start), NumBlocks: proto.Uint64(n)}
}

func op(typ InstallOperation_Type, off, n uint64, dst ...*metadata.Extent) *metadata.InstallOperation {
	return &metadata.InstallOperation{Type: typ.Enum(), DataOffset: proto.Uint64(off), DataLength: proto.Uint64(n), DstExtents: dst}
}

func manifest(size uint64, ops ...*metadata.InstallOperation) *metadata.DeltaArchiveManifest {
	return &metadata.DeltaArchiveManifest{
		BlockSize: proto.Uint32(4096),
		Partitions: []*metadata.PartitionUpdate{{
			PartitionName:    proto.String("system"),
			NewPartitionInfo: &metadata.PartitionInfo{Size: proto.Uint64(size)},
			Operations:       ops,
		}},
	}
}

// TestHostile feeds malformed payloads and checks each fails clearly, at
// Open or at partition open or read, with the right sentinel.
func TestHostile(t *testing.T) {
	block := bytes.Repeat([]byte{0xAB}, 4096)
	xzBomb := xzOf(t, make([]byte, 3*4096)) // 3 blocks of output for a 1-block op
	tests := []struct {
		name  string
		input []byte
		lim   extract.Limits
		want  error // sentinel
		stage string
	}{
		{"empty", nil, extract.Limits{}, extract.ErrNotFormat, "open"},
		{"bad-magic", []byte("PK\x03\x04 something else entirely"), extract.Limits{}, extract.ErrNotFormat, "open"},
		{"short-header", []byte("CrAU\x00\x00"), extract.Limits{}, extract.ErrCorrupt, "open"},
		{"major-1", func() []byte {
			b := rawPayloadBytes(nil, 0, nil)
			b[11] = 1
			return b
		}(), extract.Limits{}, extract.ErrUnsupported, "open"},
		{"huge-manifest-size", func() []byte {
			b := rawPayloadBytes(nil, 0, nil)
			binary.BigEndian.PutUint64(b[12:], 1<<62)
			return b
		}(), extract.Limits{}, extract.ErrLimit, "open"},
		{"manifest-past-end", func() []byte {
			b := rawPayloadBytes(nil, 0, nil)
			binary.BigEndian.PutUint64(b[12:], 1000)
			return b
		}(), extract.Limits{}, extract.ErrCorrupt, "open"},
		{"signature-past-end", rawPayloadBytes(nil, 0, nil)[:24:24], extract.Limits{}, nil, ""},
		{"bad-manifest", rawPayloadBytes([]byte{0xff, 0xff, 0xff}, 0, nil), extract.Limits{}, extract.ErrCorrupt, "open"},
		{"block-size-3", rawPayload(t, &metadata.DeltaArchiveManifest{BlockSize: proto.Uint32(3)}, nil), extract.Limits{}, extract.ErrCorrupt, "open"},
		{"too-many-ops", rawPayload(t, manifest(4096, op(OpZero, 0, 0, ext(0, 1)), op(OpZero, 0, 0, ext(0, 1)), op(OpZero, 0, 0, ext(0, 1))), nil),
			extract.Limits{MaxEntries: 2}, extract.ErrLimit, "open"},
		{"too-many-fields", rawPayload(t, manifest(4096, op(OpZero, 0, 0, ext(0, 1), ext(0, 1), ext(0, 1), ext(0, 1), ext(0, 1), ext(0, 1))), nil),
			extract.Limits{MaxEntries: 3}, extract.ErrLimit, "open"},
		{"unnamed-partition", rawPayload(t, &metadata.DeltaArchiveManifest{Partitions: []*metadata.PartitionUpdate{{}}}, nil),
			extract.Limits{}, extract.ErrCorrupt, "open"},
		{"duplicate-partition", rawPayload(t, &metadata.DeltaArchiveManifest{Partitions: []*metadata.PartitionUpdate{
			{PartitionName: proto.String("a")}, {PartitionName: proto.String("a")}}}, nil), extract.Limits{}, extract.ErrCorrupt, "open"},
		{"extent-outside", rawPayload(t, manifest(4096, op(OpReplace, 0, 4096, ext(1, 1))), block), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"extent-overflow", rawPayload(t, manifest(4096, op(OpZero, 0, 0, ext(1<<63, 1<<63))), nil), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"overlap", rawPayload(t, manifest(8192, op(OpReplace, 0, 4096, ext(0, 2)), op(OpZero, 0, 0, ext(1, 1))), block), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"data-outside", rawPayload(t, manifest(4096, op(OpReplace, 10, 4096, ext(0, 1))), block), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"data-offset-overflow", rawPayload(t, manifest(4096, op(OpReplace, 1<<63, 1<<63, ext(0, 1))), block), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"replace-too-long", rawPayload(t, manifest(4096, op(OpReplace, 0, 8192, ext(0, 1))), append(block, block...)), extract.Limits{}, extract.ErrCorrupt, "part"},
		{"partition-over-limit", rawPayload(t, manifest(1<<40), nil), extract.Limits{MaxFileSize: 1 << 30}, extract.ErrLimit, "part"},
		{"puffdiff", rawPayload(t, manifest(4096, op(OpPuffdiff, 0, 0, ext(0, 1))), nil), extract.Limits{}, extract.ErrUnsupported, "part"},
		{"zucchini", rawPayload(t, manifest(4096, op(OpZucchini, 0, 0, ext(0, 1))), nil), extract.Limits{}, extract.ErrUnsupported, "part"},
		{"unknown-op", rawPayload(t, manifest(4096, op(InstallOperation_Type(99), 0, 0, ext(0, 1))), nil), extract.Limits{}, extract.ErrUnsupported, "part"},
		{"xz-bomb", rawPayload(t, manifest(4096, op(OpReplaceXZ, 0, uint64(len(xzBomb)), ext(0, 1))), xzBomb), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"xz-garbage", rawPayload(t, manifest(4096, op(OpReplaceXZ, 0, 4096, ext(0, 1))), block), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"xz-huge-dict", rawPayload(t, manifest(4096, op(OpReplaceXZ, 0, 64, ext(0, 1))), xzHugeDict()), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"bz2-garbage", rawPayload(t, manifest(4096, op(OpReplaceBZ, 0, 4096, ext(0, 1))), block), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"zstd-garbage", rawPayload(t, manifest(4096, op(OpReplaceZstd, 0, 4096, ext(0, 1))), block), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"data-hash", rawPayload(t, func() *metadata.DeltaArchiveManifest {
			m := manifest(4096, op(OpReplace, 0, 4096, ext(0, 1)))
			m.Partitions[0].Operations[0].DataSha256Hash = make([]byte, 32)
			return m
		}(), block), extract.Limits{}, extract.ErrCorrupt, "read"},
		{"partition-hash", rawPayload(t, func() *metadata.DeltaArchiveManifest {
			m := manifest(4096, op(OpReplace, 0, 4096, ext(0, 1)))
			m.Partitions[0].NewPartitionInfo.Hash = make([]byte, 32)
			return m
		}(), block), extract.Limits{}, extract.ErrCorrupt, "read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := openAndRead(tc.input, tc.lim, OpenOptions{Verify: true})
			if tc.want == nil {
				if err == nil {
					return
				}
				if !errors.Is(err, extract.ErrCorrupt) && !errors.Is(err, extract.ErrNotFormat) {
					t.Fatalf("error %v wraps no sentinel", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want an error wrapping %v", err, tc.want)
			}
			if stage := errStage(err); stage != tc.stage {
				t.Errorf("failed at %s, want %s: %v", stage, tc.stage, err)
			}
		})
	}
}

// stagedErr records where openAndRead failed.
type stagedErr struct {
	stage string
	err   error
}

func (e *stagedErr) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stagedErr) Unwrap() error { return e.err }

func errStage(err error) string {
	var s *stagedErr
	if errors.As(err, &s) {
		return s.stage
	}
	return ""
}

// openAndRead opens a payload and reads every partition in full and at a
// few offsets, returning the first error.
func openAndRead(b []byte, lim extract.Limits, opts OpenOptions) error {
	p, err := Open(bytes.NewReader(b), int64(len(b)), lim)
	if err != nil {
		return &stagedErr{"open", err}
	}
	for _, info := range p.Partitions() {
		r, err := p.Open(info.Name, opts)
		if err != nil {
			return &stagedErr{"part", err}
		}
		if _, err := io.Copy(io.Discard, io.NewSectionReader(r, 0, r.Size())); err != nil {
			return &stagedErr{"read", err}
		}
		buf := make([]byte, 4097)
		for _, off := range []int64{0, r.Size() / 2, r.Size() - 1} {
			if off < 0 {
				continue // an empty partition has no last byte
			}
			if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
				return &stagedErr{"read", err}
			}
		}
	}
	return nil
}
