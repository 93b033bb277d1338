package walk

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/extract"
)

func TestFormatNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Formats() {
		if seen[f.Name()] {
			t.Errorf("format %q listed twice", f.Name())
		}
		seen[f.Name()] = true
	}
}

// result collects what a walk saw.
type result struct {
	mu     sync.Mutex
	leaves []string
	errs   []string
}

func walkAll(t *testing.T, lim extract.Limits, inputs ...string) (*result, *Spiller) {
	t.Helper()
	spill := &Spiller{Max: lim.MaxSpillBytes}
	t.Cleanup(func() { spill.Close() })
	res := &result{}
	w := New(lim, spill)
	w.Visit = func(l *Leaf) {
		// Read the whole leaf, as an analyzer would, before releasing it.
		buf := make([]byte, l.Size)
		if _, err := l.R.ReadAt(buf, 0); err != nil && l.Size > 0 {
			t.Errorf("%s: read: %v", l.Loc, err)
		}
		res.mu.Lock()
		res.leaves = append(res.leaves, l.Loc.String()+"="+string(buf))
		res.mu.Unlock()
		l.Done()
	}
	w.OnError = func(loc extract.Location, err error) {
		res.mu.Lock()
		res.errs = append(res.errs, loc.String()+": "+err.Error())
		res.mu.Unlock()
	}
	if err := w.Walk(context.Background(), inputs); err != nil {
		t.Fatal(err)
	}
	sort.Strings(res.leaves)
	return res, spill
}

func zipBytes(t *testing.T, method uint16, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestNestedZipLocations(t *testing.T) {
	dir := t.TempDir()
	inner := zipBytes(t, zip.Deflate, [2]string{"a.txt", "hello"})
	outer := zipBytes(t, zip.Store, [2]string{"inner.zip", string(inner)}, [2]string{"b.prop", "x=1"})
	in := filepath.Join(dir, "outer.zip")
	if err := os.WriteFile(in, outer, 0o644); err != nil {
		t.Fatal(err)
	}
	res, spill := walkAll(t, extract.DefaultLimits(), in)
	want := []string{"outer.zip!b.prop=x=1", "outer.zip!inner.zip!a.txt=hello"}
	if diff := cmp.Diff(want, res.leaves); diff != "" {
		t.Errorf("leaves (-want +got):\n%s", diff)
	}
	if len(res.errs) > 0 {
		t.Errorf("errors: %v", res.errs)
	}
	if n := spill.Written(); n != 0 {
		t.Errorf("%d bytes spilled to disk for small members, want 0", n)
	}
}

// TestDepthLimit nests zips deeper than the limit: the walk reports a depth
// error for the innermost and goes on.
func TestDepthLimit(t *testing.T) {
	data := zipBytes(t, zip.Store, [2]string{"leaf.txt", "deep"})
	for i := 0; i < 50; i++ {
		data = zipBytes(t, zip.Store, [2]string{"n.zip", string(data)})
	}
	in := filepath.Join(t.TempDir(), "deep.zip")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lim := extract.DefaultLimits()
	res, _ := walkAll(t, lim, in)
	if len(res.errs) != 1 || !strings.Contains(res.errs[0], "depth limit") {
		t.Fatalf("errors %v, want one depth-limit error", res.errs)
	}
	if len(res.leaves) != 0 {
		t.Errorf("leaves %v past the depth limit", res.leaves)
	}
}

// TestZipBombRatio stops a member that inflates past the ratio limit.
func TestZipBombRatio(t *testing.T) {
	bomb := zipBytes(t, zip.Deflate, [2]string{"zeros.bin", strings.Repeat("\x00", 64<<20)})
	in := filepath.Join(t.TempDir(), "bomb.zip")
	if err := os.WriteFile(in, bomb, 0o644); err != nil {
		t.Fatal(err)
	}
	lim := extract.DefaultLimits()
	lim.MaxRatio = 100
	res, _ := walkAll(t, lim, in)
	if len(res.errs) != 1 || !strings.Contains(res.errs[0], "ratio limit") {
		t.Fatalf("errors %v, want one ratio-limit error", res.errs)
	}
}

func TestCorruptMemberGoesOn(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.zip"), []byte("PK\x03\x04 truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.prop"), []byte("ro.x=1"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _ := walkAll(t, extract.DefaultLimits(), dir)
	if len(res.errs) != 1 || !strings.Contains(res.errs[0], "bad.zip") || !strings.Contains(res.errs[0], "not a valid zip") {
		t.Errorf("errors %v, want one for bad.zip", res.errs)
	}
	if len(res.leaves) != 1 || !strings.HasSuffix(res.leaves[0], "good.prop=ro.x=1") {
		t.Errorf("leaves %v, want good.prop", res.leaves)
	}
}

func TestPairBlockOTA(t *testing.T) {
	ms := []Member{{Path: "a.txt"}, {Path: "system.new.dat.br"}, {Path: "system.patch.dat"}, {Path: "system.transfer.list"}, {Path: "vendor.transfer.list"}}
	got := pairBlockOTA(ms, &Env{})
	var paths []string
	for _, m := range got {
		paths = append(paths, m.Path)
	}
	want := []string{"a.txt", "system.new.dat.br", "system.patch.dat", "vendor.transfer.list"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paired members (-want +got):\n%s", diff)
	}
}

// TestFolderLargestFirst: a host folder is visited largest file first
// (lexical order among equal sizes), so the costliest apps start first; a
// folder of more files than MaxEntries is cut at the limit with an error.
func TestFolderLargestFirst(t *testing.T) {
	dir := t.TempDir()
	files := map[string]int{"a.txt": 10, "b/c.txt": 300, "b/d.txt": 20, "e.txt": 20, "f.txt": 5000}
	for name, size := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visit := func(lim extract.Limits) (order, errs []string) {
		w := New(lim, &Spiller{})
		w.Visit = func(l *Leaf) {
			order = append(order, l.Loc.String())
			l.Done()
		}
		w.OnError = func(loc extract.Location, err error) { errs = append(errs, loc.String()+": "+err.Error()) }
		if err := w.Walk(context.Background(), []string{dir}); err != nil {
			t.Fatal(err)
		}
		return order, errs
	}
	base := filepath.Base(dir)
	order, errs := visit(extract.DefaultLimits())
	want := []string{base + "/f.txt", base + "/b/c.txt", base + "/b/d.txt", base + "/e.txt", base + "/a.txt"}
	if diff := cmp.Diff(want, order); diff != "" || len(errs) > 0 {
		t.Errorf("visit order (-want +got):\n%s\nerrors: %v", diff, errs)
	}
	lim := extract.DefaultLimits()
	lim.MaxEntries = 3
	order, errs = visit(lim)
	if len(order) != 3 || len(errs) != 1 || !strings.Contains(errs[0], "members in one container") {
		t.Errorf("MaxEntries 3: visited %v, errors %v; want 3 files and one limit error", order, errs)
	}
}
