package trackers

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/signatures"
)

// BenchmarkCorpus measures catalogue matching (every DEX type descriptor of
// every corpus APK against the tracker code signatures), in MB of DEX per
// second; with-exodus adds the 431 imported Exodus entries.
func BenchmarkCorpus(b *testing.B) {
	root := testutil.Corpus(b, "apks")
	sigs, err := signatures.Load()
	if err != nil {
		b.Fatal(err)
	}
	var targets []*analyzers.Target
	var total int64
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".apk") {
			return err
		}
		tg := openTarget(b, p, sigs)
		for _, d := range tg.App.Dex {
			total += d.File.Size()
		}
		targets = append(targets, tg)
		return nil
	})
	run := func(b *testing.B, sigs *signatures.Set) {
		a := New()
		b.SetBytes(total)
		for b.Loop() {
			for _, tg := range targets {
				tg.Sigs = sigs
				a.Analyze(context.Background(), tg)
			}
		}
	}
	b.Run("own", func(b *testing.B) { run(b, sigs) })
	b.Run("with-exodus", func(b *testing.B) {
		y, _, err := signatures.ImportExodus(openFile(b, testutil.Corpus(b, "trackers/exodus_trackers.json")))
		if err != nil {
			b.Fatal(err)
		}
		s2, _ := signatures.Load()
		if err := s2.Merge(mapFSOf("catalog/trackers.yaml", y), "exodus"); err != nil {
			b.Fatal(err)
		}
		run(b, s2)
	})
}
