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
