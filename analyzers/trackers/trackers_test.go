package trackers

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/dex"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/signatures"
)

// openTarget opens an APK the way the scan does: the APK once, each DEX once.
func openTarget(t testing.TB, path string, sigs *signatures.Set) *analyzers.Target {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	app, err := android.Open(context.Background(), f, st.Size(), extract.DefaultLimits())
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { app.Close() })
	loc := extract.Location{filepath.Base(path)}
	tg := &analyzers.Target{Loc: loc, Name: filepath.Base(path), Size: st.Size(), R: f, Sigs: sigs, App: &analyzers.App{APK: app}}
	if app.Manifest != nil {
		tg.Package = app.Manifest.Package
	}
	for _, name := range app.DexNames {
		r, size, err := app.OpenMember(name, 512*extract.MiB)
		if err != nil {
			continue
		}
		d, err := dex.Open(r, size)
		if err != nil {
			continue
		}
		tg.App.Dex = append(tg.App.Dex, &analyzers.Dex{Name: name, Loc: loc.Append(name), File: d})
	}
	return tg
}

// exodusName maps our catalogue ids to the names Exodus gives the same SDKs.
var exodusName = map[string]string{
	"tracker.google-firebase-analytics": "Google Firebase Analytics",
	"tracker.google-crashlytics":        "Google CrashLytics",
	"tracker.google-admob":              "Google AdMob",
	"tracker.facebook-analytics":        "Facebook Analytics",
	"tracker.facebook-login":            "Facebook Login",
	"tracker.facebook-share":            "Facebook Share",
	"tracker.facebook-places":           "Facebook Places",
	"tracker.facebook-ads":              "Facebook Ads",
}

type groundTruth struct{ file, trackers string }

func readGroundTruth(t testing.TB) []groundTruth {
	path := testutil.Corpus(t, "apks/ground-truth.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header []string
	var out []groundTruth
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if header == nil {
			header = cols
			continue
		}
		row := map[string]string{}
		for i, h := range header {
			if i < len(cols) {
				row[h] = cols[i]
			}
		}
		if !strings.HasPrefix(row["file"], "apks/") {
			continue
		}
		out = append(out, groundTruth{row["file"], row["exodus_trackers"]})
	}
	return out
}

// runCorpus compares the tracker names found in every corpus APK with
// Exodus's own results (ground-truth.tsv, column exodus_trackers).
func runCorpus(t *testing.T, sigs *signatures.Set, name func(id string, s *signatures.Set) string) {
	a := New()
	for _, gt := range readGroundTruth(t) {
		t.Run(strings.ReplaceAll(gt.file, "/", "_"), func(t *testing.T) {
			tg := openTarget(t, testutil.Corpus(t, gt.file), sigs)
			fs, err := a.Analyze(context.Background(), tg)
			if err != nil {
				t.Logf("partial: %v", err)
			}
			got := []string{}
			for _, f := range fs {
				got = append(got, name(f.RuleID, sigs))
			}
			sort.Strings(got)
			want := []string{}
			if gt.trackers != "-" && gt.trackers != "" {
				want = strings.Split(gt.trackers, "; ")
			}
			sort.Strings(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("trackers differ from Exodus's (-exodus +romscan):\n%s", diff)
			}
		})
	}
}

// TestAgreesWithExodus: romscan's own catalogue finds what Exodus finds on
// the corpus (instapaper: Facebook x4, Crashlytics, Firebase; blooddonation:
// AdMob; every other APK: nothing).
func TestAgreesWithExodus(t *testing.T) {
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	runCorpus(t, sigs, func(id string, _ *signatures.Set) string {
		if n, ok := exodusName[id]; ok {
			return n
		}
		return "romscan-only:" + id
	})
}

// TestImportedExodusAgrees: the Exodus list converted by ImportExodus, used
// alone, gives Exodus's results too.
func TestImportedExodusAgrees(t *testing.T) {
	f, err := os.Open(testutil.Corpus(t, "trackers/exodus_trackers.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	y, st, err := signatures.ImportExodus(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imported %d trackers (%d skipped, %d code regexes, %d host regexes, %d without examples)", st.Trackers, st.Skipped, st.CodeRegexes, st.HostRegexes, st.NoExamples)
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Only the imported list: drop our own entries.
	sigs.Catalogue.Trackers = nil
	if err := sigs.Merge(fstest.MapFS{"catalog/trackers.yaml": {Data: y}}, "exodus"); err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, tr := range sigs.Catalogue.Trackers {
		byID[tr.ID] = tr.Name
	}
	if fails := sigs.RunExamples(); len(fails) > st.NoExamples {
		t.Errorf("%d example failures in the imported catalogue, e.g. %v", len(fails), fails[0])
	}
	runCorpus(t, sigs, func(id string, _ *signatures.Set) string { return byID[id] })
}

func openFile(t testing.TB, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func mapFSOf(name string, data []byte) fstest.MapFS {
	return fstest.MapFS{name: {Data: data}}
}
