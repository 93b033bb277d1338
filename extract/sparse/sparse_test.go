package sparse

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func readAll(t testing.TB, im *Image) []byte {
	t.Helper()
	got := make([]byte, im.Size())
	n, err := im.ReadAt(got, 0)
	if n != len(got) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt = %d, %v; want %d", n, err, len(got))
	}
	return got
}

func openFile(t testing.TB, path string) *Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	im, err := Open(f, st.Size())
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return im
}

func TestCorpus(t *testing.T) {
	dir := testutil.Corpus(t, "firmware/android-sparse-rs")
	want, err := os.ReadFile(filepath.Join(dir, "decoded.img"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file      string
		verifyErr string
	}{
		{file: "hello.simg"},
		{file: "crc.simg"},
		{file: "invalid_crc.simg", verifyErr: "does not match the stored"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			im := openFile(t, filepath.Join(dir, tc.file))
			if got := im.Size(); got != int64(len(want)) {
				t.Errorf("Size() = %d, want %d", got, len(want))
			}
			if tc.verifyErr == "" {
				if d := cmp.Diff(want, readAll(t, im)); d != "" {
					t.Errorf("expanded image differs (-want +got):\n%s", d)
				}
			}
			err := im.Verify(context.Background())
			switch {
			case tc.verifyErr == "" && err != nil:
				t.Errorf("Verify() = %v, want nil", err)
			case tc.verifyErr != "" && (err == nil || !errors.Is(err, extract.ErrCorrupt) || !strings.Contains(err.Error(), tc.verifyErr)):
				t.Errorf("Verify() = %v, want ErrCorrupt containing %q", err, tc.verifyErr)
			}
		})
	}
}

// TestImg2simg builds sparse images with img2simg from raw data with zero
// runs, fill patterns and random blocks, and compares our expansion with
// simg2img's.
func TestImg2simg(t *testing.T) {
	for _, tool := range []string{"img2simg", "simg2img"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package android-sdk-libsparse-utils): skipping", tool)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name   string
		blocks int
		block  int
	}{
		{name: "small", blocks: 7, block: 4096},
		{name: "mixed", blocks: 300, block: 4096},
		{name: "block1k", blocks: 100, block: 1024},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			raw := make([]byte, tc.blocks*tc.block)
			for b := 0; b < tc.blocks; b++ {
				blk := raw[b*tc.block : (b+1)*tc.block]
				switch rng.IntN(4) {
				case 0: // zeros: DONT_CARE or FILL 0
				case 1: // fill pattern
					for i := 0; i < len(blk); i += 4 {
						copy(blk[i:], []byte{0xde, 0xad, 0xbe, 0xef})
					}
				default:
					for i := range blk {
						blk[i] = byte(rng.Uint32())
					}
				}
			}
			// Trailing partial block: img2simg pads it.
			raw = append(raw, 1, 2, 3)
			rawPath := filepath.Join(dir, "raw.img")
			simg := filepath.Join(dir, "raw.simg")
			back := filepath.Join(dir, "back.img")
			if err := os.WriteFile(rawPath, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{rawPath, simg}
			if tc.block != 4096 {
				args = append(args, "1024")
			}
			if out, err := exec.Command("img2simg", args...).CombinedOutput(); err != nil {
				t.Skipf("img2simg %v: %v\n%s", args, err, out)
			}
			if out, err := exec.Command("simg2img", simg, back).CombinedOutput(); err != nil {
				t.Fatalf("simg2img: %v\n%s", err, out)
			}
			want, err := os.ReadFile(back)
			if err != nil {
				t.Fatal(err)
			}
			im := openFile(t, simg)
			got := readAll(t, im)
			if !bytes.Equal(got, want) {
				t.Fatalf("expansion differs from simg2img (%d vs %d bytes)", len(got), len(want))
			}
			if err := im.Verify(context.Background()); err != nil {
				t.Errorf("Verify() = %v", err)
			}
			// Unaligned reads across chunk boundaries.
			for range 200 {
				off := rng.Int64N(im.Size())
				n := rng.IntN(3*tc.block) + 1
				buf := make([]byte, n)
				m, err := im.ReadAt(buf, off)
				end := min(off+int64(n), im.Size())
				if int64(m) != end-off || (err != nil && err != io.EOF) {
					t.Fatalf("ReadAt(%d, %d) = %d, %v", n, off, m, err)
				}
				if !bytes.Equal(buf[:m], want[off:end]) {
					t.Fatalf("ReadAt(%d, %d) differs", n, off)
				}
			}
		})
	}
}

// build assembles a sparse image from chunk descriptions for hostile cases.
func build(blk, totalBlocks uint32, chunks ...[]byte) []byte {
	var b bytes.Buffer
	h := make([]byte, 28)
	le := binary.LittleEndian
	le.PutUint32(h[0:], Magic)
	le.PutUint16(h[4:], 1)
	le.PutUint16(h[8:], 28)
	le.PutUint16(h[10:], 12)
	le.PutUint32(h[12:], blk)
	le.PutUint32(h[16:], totalBlocks)
	le.PutUint32(h[20:], uint32(len(chunks)))
	b.Write(h)
	for _, c := range chunks {
		b.Write(c)
	}
	return b.Bytes()
}

func chunk(typ uint16, nblk uint32, body []byte) []byte {
	c := make([]byte, 12, 12+len(body))
	binary.LittleEndian.PutUint16(c[0:], typ)
	binary.LittleEndian.PutUint32(c[4:], nblk)
	binary.LittleEndian.PutUint32(c[8:], uint32(12+len(body)))
	return append(c, body...)
}

func TestHostile(t *testing.T) {
	fill := chunk(ChunkFill, 2, []byte{1, 2, 3, 4})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{name: "empty", data: nil, want: extract.ErrNotFormat},
		{name: "truncated-header", data: build(4096, 1)[:20], want: extract.ErrNotFormat},
		{name: "block-size-zero", data: build(0, 1), want: extract.ErrCorrupt},
		{name: "too-many-chunks", data: func() []byte {
			d := build(4096, 1)
			binary.LittleEndian.PutUint32(d[20:], 1<<30)
			return d
		}(), want: extract.ErrCorrupt},
		{name: "raw-past-end", data: build(4096, 10, chunk(ChunkRaw, 2, make([]byte, 100))), want: extract.ErrCorrupt},
		{name: "chunks-exceed-total", data: build(4096, 1, fill), want: extract.ErrCorrupt},
		{name: "unknown-type", data: build(4096, 1, chunk(0x1234, 1, nil)), want: extract.ErrCorrupt},
		{name: "bad-fill-body", data: build(4096, 2, chunk(ChunkFill, 2, []byte{1})), want: extract.ErrCorrupt},
		{name: "ok", data: build(4096, 4, fill, chunk(ChunkDontCare, 1, nil)), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tc.data), int64(len(tc.data)))
			if !errors.Is(err, tc.want) {
				t.Errorf("Open() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFillAndGap(t *testing.T) {
	d := build(8, 5, chunk(ChunkFill, 2, []byte{1, 2, 3, 4}), chunk(ChunkDontCare, 1, nil), chunk(ChunkRaw, 1, []byte("abcdefgh")))
	im, err := Open(bytes.NewReader(d), int64(len(d)))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("\x01\x02\x03\x04\x01\x02\x03\x04\x01\x02\x03\x04\x01\x02\x03\x04" + strings.Repeat("\x00", 8) + "abcdefgh" + strings.Repeat("\x00", 8))
	if d := cmp.Diff(want, readAll(t, im)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	buf := make([]byte, 5)
	if n, err := im.ReadAt(buf, 2); n != 5 || err != nil || !bytes.Equal(buf, []byte{3, 4, 1, 2, 3}) {
		t.Errorf("ReadAt(5, 2) = %d, %v, %v", n, err, buf)
	}
}

func FuzzSparse(f *testing.F) {
	f.Add(build(8, 5, chunk(ChunkFill, 2, []byte{1, 2, 3, 4}), chunk(ChunkDontCare, 1, nil), chunk(ChunkRaw, 1, []byte("abcdefgh")), chunk(ChunkCRC32, 0, []byte{1, 2, 3, 4})))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !extract.HasSentinel(err) {
				t.Fatalf("Open: %v wraps no extract sentinel", err)
			}
			return
		}
		if im.Size() > 1<<20 {
			return
		}
		readAll(t, im)
		if err := im.Verify(context.Background()); err != nil && !extract.HasSentinel(err) {
			t.Fatalf("Verify: %v wraps no extract sentinel", err)
		}
	})
}

func BenchmarkReadAll(b *testing.B) {
	dir := testutil.Corpus(b, "firmware/android-sparse-rs")
	im := openFile(b, filepath.Join(dir, "crc.simg"))
	buf := make([]byte, im.Size())
	b.SetBytes(im.Size())
	for b.Loop() {
		im.ReadAt(buf, 0)
	}
}
