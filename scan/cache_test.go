package scan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

func cacheScan(t *testing.T, sigs *signatures.Set, input string, c *Cache) *report.Report {
	t.Helper()
	cfg := Config{Inputs: []string{input}, Limits: extract.DefaultLimits(), Sigs: sigs, Analyzers: list.All(), Cache: c}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("scan %s: %v", input, err)
	}
	// The cache fills the APKs' SHA-256; a scan without it does not.
	for i := range rep.Apps {
		rep.Apps[i].SHA256 = ""
	}
	return rep
}

func dirBytes(t *testing.T, dir string) (n int64, files int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
		files++
	}
	return n, files
}

// TestCacheGivesTheSameReport scans a folder holding every form of ROM v1
// (each APK six times) with and without the cache, in memory and on disk.
func TestCacheGivesTheSameReport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans the sample ROMs")
	}
	input := filepath.Join(testutil.Samples(t), "rom-v1")
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := cacheScan(t, sigs, input, nil)

	mem, err := NewCache(CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, cacheScan(t, sigs, input, mem)); d != "" {
		t.Fatalf("in-memory cache changes the report (-without +with):\n%s", d)
	}
	st := mem.Stats()
	apks := int64(len(want.Apps))
	if st.Hits+st.Misses != apks || st.Misses > apks/5 {
		t.Errorf("stats %+v for %d APKs (each APK is in 6 forms: want 1 miss in 6)", st, apks)
	}

	dir := t.TempDir()
	disk, err := NewCache(CacheOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cacheScan(t, sigs, input, disk)
	_, files := dirBytes(t, dir)
	if files != int(disk.Stats().DiskWrites) || files == 0 {
		t.Errorf("%d files on disk, %d writes", files, disk.Stats().DiskWrites)
	}
	// A new process: everything comes from disk.
	again, err := NewCache(CacheOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, cacheScan(t, sigs, input, again)); d != "" {
		t.Fatalf("disk cache changes the report (-without +with):\n%s", d)
	}
	if st := again.Stats(); st.Misses != 0 || st.DiskHits != int64(files) {
		t.Errorf("second run: %+v, want %d disk hits and no miss", st, files)
	}

	// Corrupt, truncated and foreign entries are ignored.
	ents, _ := os.ReadDir(dir)
	for i, e := range ents {
		p := filepath.Join(dir, e.Name())
		var data []byte
		switch i % 3 {
		case 0:
			data = []byte("{not json")
		case 1:
			b, _ := os.ReadFile(p)
			data = b[:len(b)/2]
		case 2:
			b, _ := os.ReadFile(p)
			data = []byte(strings.Replace(string(b), `"key":"`, `"key":"0`, 1))
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	broken, err := NewCache(CacheOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, cacheScan(t, sigs, input, broken)); d != "" {
		t.Fatalf("a corrupt disk cache changes the report (-without +with):\n%s", d)
	}
	if st := broken.Stats(); st.DiskHits != 0 {
		t.Errorf("corrupt entries were used: %+v", st)
	}
}

// TestCacheBounded keeps the disk folder under its bound.
func TestCacheBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans the sample ROMs")
	}
	input := filepath.Join(testutil.Samples(t), "rom-v1", "system.img")
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	const max = 8 * extract.KiB
	c, err := NewCache(CacheOptions{Dir: dir, MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	cacheScan(t, sigs, input, c)
	n, files := dirBytes(t, dir)
	if n > max {
		t.Errorf("cache holds %d bytes in %d files, bound %d", n, files, max)
	}
	if w := c.Stats().DiskWrites; w <= int64(files) {
		t.Errorf("%d writes and %d files: nothing was evicted (entries too small for this test?)", w, files)
	}
}
