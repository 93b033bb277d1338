package flow

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/internal/testutil"
)

// BenchmarkDroidBenchApp runs the analyzer on one DroidBench app
// ($FLOW_BENCH_APK, relative to the corpus, or DirectLeak1).
func BenchmarkDroidBenchApp(b *testing.B) {
	rel := os.Getenv("FLOW_BENCH_APK")
	if rel == "" {
		rel = "droidbench/apk/AndroidSpecific/DirectLeak1.apk"
	}
	path := testutil.Corpus(b, rel)
	sigs := loadSigs(b)
	a := New()
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		if _, err := analyzeAPK(b, a, sigs, path); err != nil {
			b.Fatal(err)
		}
	}
}

// benchApp is an APK opened once, with its inflated DEX files.
type benchApp struct {
	path  string
	apk   *android.App
	names []string
	data  [][]byte
}

// BenchmarkCorpusFolder runs the analyzer alone on every APK of a corpus
// folder ($FLOW_BENCH_DIR, relative to the corpus, or apks), as the
// folder scan does: the APKs are opened and their code index built (by the
// harvesting analyzer in a scan) outside the timed part.
func BenchmarkCorpusFolder(b *testing.B) {
	rel := os.Getenv("FLOW_BENCH_DIR")
	if rel == "" {
		rel = "apks"
	}
	dir := testutil.Corpus(b, rel)
	sigs := loadSigs(b)
	ctx := context.Background()
	var apps []benchApp
	var size int64
	err := filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(path, ".apk") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err != nil {
			return err
		}
		app, err := android.Open(ctx, f, st.Size(), extract.DefaultLimits())
		if err != nil {
			f.Close()
			return nil // not an APK the scan reads code of either
		}
		ba := benchApp{path: path, apk: app}
		for _, name := range app.DexNames {
			r, _, err := app.OpenMember(name, 256*extract.MiB)
			if err != nil {
				continue
			}
			if data, ok := android.MemberBytes(r); ok {
				ba.names, ba.data = append(ba.names, name), append(ba.data, data)
			}
		}
		size += st.Size()
		apps = append(apps, ba)
		b.Cleanup(func() { app.Close(); f.Close() })
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(apps) == 0 {
		b.Skipf("no APK under %s", dir)
	}
	b.SetBytes(size)
	a := New()
	// CPU time of the analysing thread: unlike wall time, it hardly grows
	// while other jobs hold the cores (GC's background workers are not
	// counted).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	for b.Loop() {
		for _, ba := range apps {
			b.StopTimer()
			loc := extract.Location{ba.path}
			t := &analyzers.Target{Loc: loc, Name: ba.path, Sigs: sigs, App: &analyzers.App{APK: ba.apk}}
			if ba.apk.Manifest != nil {
				t.Package = ba.apk.Manifest.Package
			}
			for i, data := range ba.data {
				f, err := dex.OpenBytes(data)
				if err != nil {
					continue
				}
				d := &analyzers.Dex{Name: ba.names[i], Loc: loc.Append(ba.names[i]), File: f, Data: data}
				if _, err := d.Index(ctx, sigs); err != nil {
					continue
				}
				t.App.Dex = append(t.App.Dex, d)
			}
			b.StartTimer()
			before, _ := threadCPU()
			a.Analyze(ctx, t)
			after, _ := threadCPU()
			cpu += after - before
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
