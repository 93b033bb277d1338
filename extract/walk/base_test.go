package walk

import (
	"archive/tar"
	"compress/bzip2"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

// TestIncrementalPayloadWithBase applies the AOSP sample delta payload to
// its old images (from the same sample tarball) through the walk.
func TestIncrementalPayloadWithBase(t *testing.T) {
	delta := testutil.Corpus(t, "firmware/aosp-update_engine/delta_payload.bin")
	tarball := testutil.Corpus(t, "firmware/aosp-update_engine/sample_images.tar.bz2")
	base := t.TempDir()
	f, err := os.Open(tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old := map[string]string{"disk_ext2_4k_empty.img": "kernel.img", "disk_sqfs_empty.img": "root.img"}
	tr := tar.NewReader(bzip2.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if name, ok := old[filepath.Base(h.Name)]; ok {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(base, name), b, 0o644)
		}
	}
	want := map[string]string{ // the new images, from the corpus MANIFEST
		"kernel": "c51d9edeaf1043efe41257caebc1336ac21e411abb6ed4183324be6e841c448c",
		"root":   "5610597d03d3e29f01d722bd743296ef68d076f623c1dca2eb135347c6b8efba",
	}
	spill := &Spiller{Max: extract.GiB}
	defer spill.Close()
	w := New(extract.DefaultLimits(), spill)
	w.Base = NewBase(base)
	defer w.Base.Close()
	got := map[string]string{}
	w.Descend = func(loc extract.Location, format string) bool { return len(loc) == 1 }
	w.Visit = func(l *Leaf) {
		h := sha256.New()
		io.Copy(h, io.NewSectionReader(l.R, 0, l.Size))
		got[l.Loc[len(l.Loc)-1]] = hex.EncodeToString(h.Sum(nil))
		l.Done()
	}
	var errs []string
	w.OnError = func(loc extract.Location, err error) { errs = append(errs, loc.String()+": "+err.Error()) }
	if err := w.Walk(t.Context(), []string{delta}); err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Fatalf("errors: %s", strings.Join(errs, "; "))
	}
	for name, sum := range want {
		if got[name] != sum {
			t.Errorf("partition %s sha256 %s, want %s", name, got[name], sum)
		}
	}
	// Without a base the same payload is a clear needs-base error.
	w2 := New(extract.DefaultLimits(), spill)
	var needs int
	w2.OnError = func(loc extract.Location, err error) {
		if strings.Contains(err.Error(), "--base") {
			needs++
		}
	}
	w2.Visit = func(l *Leaf) { l.Done() }
	w2.Walk(t.Context(), []string{delta})
	if needs == 0 {
		t.Error("no needs-base error without --base")
	}
}
