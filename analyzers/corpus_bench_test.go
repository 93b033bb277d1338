package analyzers_test

import (
	"archive/zip"
	"context"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/endpoints"
	"github.com/romscan/romscan/analyzers/harvesting"
	"github.com/romscan/romscan/analyzers/trackers"
	"github.com/romscan/romscan/extract/walk"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/signatures"
)

var dexMember = regexp.MustCompile(`^classes[0-9]*\.dex$`)

// corpusDexes reads the DEX members of every corpus APK into memory, one
// slice per APK.
func corpusDexes(b *testing.B) (apps [][][]byte, total int64) {
	b.Helper()
	root := testutil.Corpus(b, "apks")
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".apk") {
			return err
		}
		zr, err := zip.OpenReader(p)
		if err != nil {
			return nil // the corpus holds deliberately broken APKs
		}
		defer zr.Close()
		var app [][]byte
		for _, zf := range zr.File {
			if !dexMember.MatchString(zf.Name) {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				continue
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				continue
			}
			app = append(app, data)
			total += int64(len(data))
		}
		if len(app) > 0 {
			apps = append(apps, app)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return apps, total
}

// BenchmarkCorpusCode runs the analyzers that share the code index
// (harvesting, endpoints, trackers) over the DEX files of every corpus APK,
// each opened afresh (cold caches, as in a scan); bytes are the DEX sizes.
func BenchmarkCorpusCode(b *testing.B) {
	apps, total := corpusDexes(b)
	sigs, err := signatures.Load()
	if err != nil {
		b.Fatal(err)
	}
	list := []analyzers.Analyzer{harvesting.New(), endpoints.New(), trackers.New()}
	ctx := context.Background()
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, app := range apps {
			t := &analyzers.Target{Kind: walk.KindDEX, App: &analyzers.App{}, Sigs: sigs, Stats: &analyzers.Stats{}}
			for _, data := range app {
				f, err := dex.OpenBytes(data)
				if err != nil {
					continue
				}
				t.App.Dex = append(t.App.Dex, &analyzers.Dex{Name: "classes.dex", File: f, Data: data})
			}
			for _, a := range list {
				a.Analyze(ctx, t)
			}
		}
	}
}
