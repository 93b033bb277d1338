package erofs

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkReadAllLZ4HC reads every regular file of an lz4hc image and
// reports the speed ratio against `fsck.erofs --extract` on the same image
// (above 1: faster than the C tool).
func BenchmarkReadAllLZ4HC(b *testing.B) {
	benchReadAll(b, "-zlz4hc", "-C65536")
}

// BenchmarkReadAllLZ4 is the same with plain lz4 and 4 KiB pclusters.
func BenchmarkReadAllLZ4(b *testing.B) {
	benchReadAll(b, "-zlz4")
}

func benchReadAll(b *testing.B, args ...string) {
	src := b.TempDir()
	genTree(b, src, 48<<20)
	img := filepath.Join(b.TempDir(), "img")
	mkfs(b, img, src, args...)
	f, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	var total int64
	buf := make([]byte, 256<<10)
	readAll := func() {
		fsys, err := Open(f, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		total = 0
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			h, err := fsys.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, h.(io.Reader), buf)
			if err != nil {
				b.Fatal(err)
			}
			total += n
			h.Close()
			return nil
		})
	}
	readAll()
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		readAll()
	}
	ours := b.Elapsed() / time.Duration(b.N)
	fsck, err := exec.LookPath("fsck.erofs")
	if err != nil || ours <= 0 {
		return
	}
	best := time.Duration(1 << 62)
	for range 3 {
		out := filepath.Join(b.TempDir(), "x")
		start := time.Now()
		if err := exec.Command(fsck, "--extract="+out, img).Run(); err != nil {
			b.Logf("fsck.erofs: %v", err)
			return
		}
		best = min(best, time.Since(start))
	}
	b.ReportMetric(float64(best)/float64(ours), "x-fsck-speed")
	b.ReportMetric(float64(best.Milliseconds()), "fsck-ms")
}
