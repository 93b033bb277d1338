package analyzers

import (
	"archive/zip"
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/signatures"
)

// BenchmarkCodeIndex builds the code index (with the class decoding it
// shares with the flow pass) of a large corpus DEX; bytes are the DEX size.
func BenchmarkCodeIndex(b *testing.B) {
	apk := filepath.Join(testutil.Corpus(b, "apks/exodus-core"), "instapaper.apk")
	zr, err := zip.OpenReader(apk)
	if err != nil {
		b.Skip(err)
	}
	defer zr.Close()
	rc, err := zr.Open("classes.dex")
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		b.Fatal(err)
	}
	sigs, err := signatures.Load()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := dex.OpenBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		d := &Dex{Name: "classes.dex", File: f, Data: data}
		ix, err := d.Index(context.Background(), sigs)
		if err != nil || ix.MethodsSeen == 0 {
			b.Fatalf("index: %v, %d methods", err, ix.MethodsSeen)
		}
	}
}

// TestReleaseKeepsAnswers: after Release, classes and the index are
// decoded again and equal what was shared before.
func TestReleaseKeepsAnswers(t *testing.T) {
	apk := filepath.Join(testutil.Corpus(t, "apks/androguard"), "TestActivity.apk")
	zr, err := zip.OpenReader(apk)
	if err != nil {
		t.Skip(err)
	}
	defer zr.Close()
	rc, err := zr.Open("classes.dex")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	f, err := dex.OpenBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	d := &Dex{Name: "classes.dex", File: f, Data: data}
	ctx := context.Background()
	before, err := d.Index(ctx, sigs)
	if err != nil {
		t.Fatal(err)
	}
	n := f.NumClasses()
	var names []string
	for i := 0; i < n; i++ {
		c, err := d.Class(i)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, c.Name)
	}
	d.Release()
	after, err := d.Index(ctx, sigs)
	if err != nil {
		t.Fatal(err)
	}
	if after == before || after.MethodsSeen != before.MethodsSeen || len(after.APIs) != len(before.APIs) {
		t.Errorf("index after release: %d methods, %d APIs; before %d, %d", after.MethodsSeen, len(after.APIs), before.MethodsSeen, len(before.APIs))
	}
	for i := 0; i < n; i++ {
		c, err := d.Class(i)
		if err != nil || c.Name != names[i] {
			t.Errorf("class %d after release: %v, %v; want %s", i, c, err, names[i])
		}
	}
	if _, err := d.Class(n); err == nil {
		t.Errorf("class %d of %d: no error", n, n)
	}
}
