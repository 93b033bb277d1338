package ext4

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchImage builds an ext4 image holding about 96 MiB in 4 large files and
// 2000 small ones, and returns its path and the bytes of file data.
func benchImage(b *testing.B) (string, int64) {
	b.Helper()
	need(b, "mke2fs")
	src := b.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var total int64
	write := func(name string, n int) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		buf := make([]byte, n)
		for i := 0; i < n; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(n)
	}
	for i := range 4 {
		write(fmt.Sprintf("big/%d.bin", i), 20<<20)
	}
	for i := range 2000 {
		write(fmt.Sprintf("small/%02d/%d.txt", i%20, i), 100+rng.IntN(8000))
	}
	return mkfs(b, src, 160*1024, "-t", "ext4"), total
}

func readAllFiles(b *testing.B, fsys fs.FS) int64 {
	buf := make([]byte, 1<<20)
	var n int64
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		ra := f.(io.ReaderAt)
		for off := int64(0); ; off += int64(len(buf)) {
			k, err := ra.ReadAt(buf, off)
			n += int64(k)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkReadAll reads every file of a ~96 MiB image through ReadAt.
func BenchmarkReadAll(b *testing.B) {
	img, total := benchImage(b)
	fh, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	b.SetBytes(total)
	for b.Loop() {
		fsys, err := Open(fh, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		if n := readAllFiles(b, fsys); n != total {
			b.Fatalf("read %d bytes, want %d", n, total)
		}
	}
}

// BenchmarkDebugfsRdump times `debugfs -R 'rdump / out'` on the same image,
// as a yardstick for BenchmarkReadAll (it also writes the files out).
func BenchmarkDebugfsRdump(b *testing.B) {
	need(b, "debugfs")
	img, total := benchImage(b)
	b.SetBytes(total)
	for b.Loop() {
		out, err := os.MkdirTemp(b.TempDir(), "rdump")
		if err != nil {
			b.Fatal(err)
		}
		if o, err := exec.Command("debugfs", "-R", "rdump / "+out, img).CombinedOutput(); err != nil {
			b.Fatalf("debugfs: %v\n%s", err, o)
		}
		os.RemoveAll(out)
	}
}

// BenchmarkIrisPrivate reads every file of the Iris HP4024 private partition
// through blockota (brotli decoding happens once, before timing).
func BenchmarkIrisPrivate(b *testing.B) {
	fsys, _ := irisPrivate(b)
	total := readAllFiles(b, fsys)
	b.SetBytes(total)
	for b.Loop() {
		readAllFiles(b, fsys)
	}
}
