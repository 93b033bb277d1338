package scan

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
)

// BenchmarkScanFolder scans the corpus APK folder with every analyzer, on
// all cores; bytes are the APKs' sizes. scripts/bench.sh compares the same
// scan with androguard.
func BenchmarkScanFolder(b *testing.B) {
	dir := testutil.Corpus(b, "apks")
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	cfg := testConfig(b, dir)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
}
