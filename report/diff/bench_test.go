package diff_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report/diff"
	"github.com/romscan/romscan/scan"
)

// benchInputs returns sample ROM v1 and v2 in one form: ROMSCAN_BENCH_FORM
// names it ("system.img" by default; "" for the folder of every form).
func benchInputs(b *testing.B) (string, string, int64) {
	dir := testutil.Samples(b)
	form, ok := os.LookupEnv("ROMSCAN_BENCH_FORM")
	if !ok {
		form = "system.img"
	}
	v1, v2 := filepath.Join(dir, "rom-v1", form), filepath.Join(dir, "rom-v2", form)
	var size int64
	if st, err := os.Stat(v1); err == nil && !st.IsDir() {
		size = st.Size()
	}
	return v1, v2, size
}

// BenchmarkScanOne is the cost of one scan of ROM v1: the unit of the diff's
// cost ratio.
func BenchmarkScanOne(b *testing.B) {
	v1, _, size := benchInputs(b)
	b.SetBytes(size)
	for b.Loop() {
		scanPath(b, v1, nil)
	}
}

// BenchmarkDiff is a whole diff of ROM v1 and v2: two scans sharing an
// in-memory cache (a fresh one each time), and the comparison.
func BenchmarkDiff(b *testing.B) {
	v1, v2, size := benchInputs(b)
	b.SetBytes(size)
	for b.Loop() {
		c, err := scan.NewCache(scan.CacheOptions{})
		if err != nil {
			b.Fatal(err)
		}
		d := compare(b, scanPath(b, v1, c), scanPath(b, v2, c))
		if d.Empty() {
			b.Fatal("empty delta")
		}
	}
}

// BenchmarkDiffNoCache is the same diff without the cache: every APK is
// analysed twice.
func BenchmarkDiffNoCache(b *testing.B) {
	v1, v2, size := benchInputs(b)
	b.SetBytes(size)
	for b.Loop() {
		compare(b, scanPath(b, v1, nil), scanPath(b, v2, nil))
	}
}

// BenchmarkCompare is the comparison alone, on reports already made.
func BenchmarkCompare(b *testing.B) {
	v1, v2, _ := benchInputs(b)
	c, _ := scan.NewCache(scan.CacheOptions{})
	old, new := scanPath(b, v1, c), scanPath(b, v2, c)
	for b.Loop() {
		_ = diff.Compare(old, new, diff.Options{})
	}
}

// BenchmarkDiffSame diffs ROM v1 with itself: every APK is shared, so the
// second scan only walks the image and re-locates cached analyses.
func BenchmarkDiffSame(b *testing.B) {
	v1, _, size := benchInputs(b)
	b.SetBytes(size)
	for b.Loop() {
		c, err := scan.NewCache(scan.CacheOptions{})
		if err != nil {
			b.Fatal(err)
		}
		compare(b, scanPath(b, v1, c), scanPath(b, v1, c))
	}
}
