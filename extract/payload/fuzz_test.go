package payload

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/extract/payload/metadata"
	"github.com/romscan/romscan/internal/testutil"
)

// fuzzSeeds are small payloads exercising every supported operation on a
// tiny partition.
func fuzzSeeds(t testing.TB) [][]byte {
	data := semiCompressible(2*4096, 5)
	var full bytes.Buffer
	if err := Write(&full, []PartitionSpec{{Name: "a", Data: bytes.NewReader(data), Size: int64(len(data))}},
		WriteOptions{ChunkSize: 4096, XZ: true}); err != nil {
		t.Fatal(err)
	}
	xzBlob := xzOf(t, data[:4096])
	zst := zstdOf(t, data[:4096])
	patch := bsdf2(compBrotli, 4096, [][3]int64{{4000, 96, 0}}, make([]byte, 4000), make([]byte, 96))
	raw := bsdf2(compNone, 4096, [][3]int64{{4096, 0, 0}}, make([]byte, 4096), nil)
	blobs := append(append(append(append([]byte{}, xzBlob...), zst...), patch...), raw...)
	o := func(typ InstallOperation_Type, off, n int, src []*metadata.Extent, dst ...*metadata.Extent) *metadata.InstallOperation {
		x := op(typ, uint64(off), uint64(n), dst...)
		x.SrcExtents = src
		return x
	}
	off1 := len(xzBlob)
	off2 := off1 + len(zst)
	off3 := off2 + len(patch)
	m := manifest(7*4096,
		o(OpReplaceXZ, 0, len(xzBlob), nil, ext(0, 1)),
		o(OpReplaceZstd, off1, len(zst), nil, ext(1, 1)),
		o(OpBrotliBsdiff, off2, len(patch), []*metadata.Extent{ext(0, 1)}, ext(2, 1)),
		o(OpSourceBsdiff, off3, len(raw), []*metadata.Extent{ext(1, 1)}, ext(3, 1)),
		o(OpSourceCopy, 0, 0, []*metadata.Extent{ext(1, 1)}, ext(4, 1)),
		o(OpZero, 0, 0, nil, ext(5, 1)),
		o(OpDiscard, 0, 0, nil, ext(6, 1)),
	)
	return [][]byte{full.Bytes(), rawPayload(t, m, blobs)}
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzPayload when
// ROMSCAN_UPDATE_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("ROMSCAN_UPDATE_SEEDS") != "1" {
		t.Skip("set ROMSCAN_UPDATE_SEEDS=1 to regenerate the fuzz seeds")
	}
	for i, s := range fuzzSeeds(t) {
		testutil.WriteFuzzSeed(t, filepath.Join("testdata", "fuzz", "FuzzPayload", fmt.Sprintf("seed%d", i)), s)
	}
}

// FuzzPayload parses the header and manifest and assembles every partition,
// with a small base image for incremental operations. It must never panic
// nor allocate past the small limits.
func FuzzPayload(f *testing.F) {
	f.Add([]byte("CrAU"))
	f.Add(rawPayloadBytes(nil, 0, nil))
	base := semiCompressible(8*4096, 6)
	lim := extract.Limits{MaxEntries: 1000, MaxFileSize: 1 * extract.MiB}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := openAndRead(b, lim, OpenOptions{Base: bytes.NewReader(base), Verify: true, CacheBytes: 256 << 10})
		if err != nil && !extract.HasSentinel(err) {
			t.Fatalf("%v wraps no extract sentinel", err)
		}
		if len(b) > 0 && err == nil {
			// A payload that opened must also pass without verification.
			if err := openAndRead(b, lim, OpenOptions{Base: bytes.NewReader(base)}); err != nil {
				t.Fatalf("reads with Verify but not without: %v", err)
			}
		}
	})
}

func TestFuzzSeedsRead(t *testing.T) {
	base := semiCompressible(8*4096, 6)
	for i, s := range fuzzSeeds(t) {
		if err := openAndRead(s, extract.Limits{}, OpenOptions{Base: bytes.NewReader(base), Verify: true}); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}
