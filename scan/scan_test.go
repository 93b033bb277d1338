package scan

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

func testConfig(t testing.TB, inputs ...string) Config {
	t.Helper()
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Inputs: inputs, Limits: extract.DefaultLimits(), Sigs: sigs, Analyzers: list.All()}
}

func mustScan(t testing.TB, inputs ...string) *report.Report {
	t.Helper()
	r, err := Run(context.Background(), testConfig(t, inputs...))
	if err != nil {
		t.Fatalf("scan %v: %v", inputs, err)
	}
	return r
}

// readTSV reads a header-first TSV into maps.
func readTSV(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var header []string
	var rows []map[string]string
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
		rows = append(rows, row)
	}
	return rows
}

// TestCorpusAPKsAgreeWithGroundTruth scans the real APK corpus and checks
// package names and versions against the corpus's ground truth (made with
// Debian's aapt).
func TestCorpusAPKsAgreeWithGroundTruth(t *testing.T) {
	dir := testutil.Corpus(t, "apks")
	truth := readTSV(t, filepath.Join(dir, "ground-truth.tsv"))
	r := mustScan(t, dir)
	byLoc := map[string]report.App{}
	for _, a := range r.Apps {
		byLoc[a.Location] = a
	}
	checked := 0
	for _, row := range truth {
		file := row["file"]
		if !strings.HasPrefix(file, "apks/") || row["package"] == "" || row["package"] == "-" {
			continue
		}
		a, ok := byLoc[file]
		if !ok {
			t.Errorf("%s: no app in the report", file)
			continue
		}
		checked++
		if a.Package != row["package"] {
			t.Errorf("%s: package %q, want %q", file, a.Package, row["package"])
		}
		if vc := row["versionCode"]; vc != "" && vc != "-" {
			if want, _ := strconv.ParseInt(vc, 10, 64); a.VersionCode != want {
				t.Errorf("%s: versionCode %d, want %s", file, a.VersionCode, vc)
			}
		}
		if vn := row["versionName"]; vn != "" && vn != "-" && a.VersionName != vn {
			t.Errorf("%s: versionName %q, want %q", file, a.VersionName, vn)
		}
		if v := row["targetSdk"]; v != "" && v != "-" {
			if want, _ := strconv.Atoi(v); a.TargetSDK != want {
				t.Errorf("%s: targetSdk %d, want %s", file, a.TargetSDK, v)
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d corpus APKs checked against ground truth", checked)
	}
	t.Logf("%d APKs agree with ground truth; %d per-file errors", checked, len(r.Errors))
}

var apiToken = regexp.MustCompile(`([A-Z][A-Za-z]+)\.([a-z][A-Za-z]+)`)

// TestDroidBenchSources checks that, for the leaking DroidBench apps, the
// harvesting analyzer reports the source API named in the ground truth.
func TestDroidBenchSources(t *testing.T) {
	dir := testutil.Corpus(t, "droidbench")
	truth := readTSV(t, filepath.Join(dir, "ground-truth.tsv"))
	r := mustScan(t, filepath.Join(dir, "apk"))
	// APIs reported per APK location (the first hop and the APK's path).
	found := map[string]map[string]bool{}
	for _, f := range r.Findings {
		if !strings.HasPrefix(f.RuleID, "harvest.") {
			continue
		}
		for _, e := range f.Evidence {
			apk := e.Location
			if i := strings.Index(apk, ".apk!"); i >= 0 {
				apk = apk[:i+len(".apk")]
			}
			if found[apk] == nil {
				found[apk] = map[string]bool{}
			}
			if m := regexp.MustCompile(`/([A-Za-z]+);->([A-Za-z]+)`).FindStringSubmatch(e.API); m != nil {
				found[apk][m[1]+"."+m[2]] = true
			}
		}
	}
	leaking, hit := 0, 0
	var missed []string
	for _, row := range truth {
		if row["leaks"] != "yes" {
			continue
		}
		leaking++
		loc := "apk/" + strings.TrimPrefix(row["apk"], "apk/")
		ok := false
		for _, m := range apiToken.FindAllStringSubmatch(row["sources"], -1) {
			if found[loc][m[1]+"."+m[2]] {
				ok = true
			}
		}
		if ok {
			hit++
		} else {
			missed = append(missed, row["name"]+" ("+row["sources"]+")")
		}
	}
	share := float64(hit) / float64(leaking)
	t.Logf("source API reported for %d of %d leaking apps (%.1f%%); missed: %s", hit, leaking, 100*share, strings.Join(missed, "; "))
	if share < 0.9 {
		t.Errorf("source API found for only %.1f%% of leaking apps, want at least 90%%", 100*share)
	}
}

// TestDeterministicJSON scans the same input twice and compares the JSON.
func TestDeterministicJSON(t *testing.T) {
	dir := testutil.Corpus(t, "apks/fdroidserver")
	var outs [2]bytes.Buffer
	for i := range outs {
		r := mustScan(t, dir)
		if err := (report.JSON{}).Render(&outs[i], r); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Fatal("two scans of the same input gave different JSON")
	}
}

func TestNothingScannable(t *testing.T) {
	dir := t.TempDir()
	_, err := Run(context.Background(), testConfig(t, dir))
	if err != ErrNothingScannable {
		t.Fatalf("err = %v, want ErrNothingScannable", err)
	}
}

func TestCancelledScanStops(t *testing.T) {
	dir := testutil.Corpus(t, "apks")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Run(ctx, testConfig(t, dir))
	if err == nil {
		t.Fatal("cancelled scan returned no error")
	}
	if r == nil {
		t.Fatal("cancelled scan returned no partial report")
	}
}

// TestTargetTimeout gives each file almost no time: every app gets an error
// naming the per-file limit, and the scan still returns its report.
func TestTargetTimeout(t *testing.T) {
	dir := testutil.Corpus(t, "apks/exodus-core")
	cfg := testConfig(t, dir)
	cfg.TargetTimeout = time.Nanosecond
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	limited := map[string]bool{}
	for _, e := range r.Errors {
		if strings.Contains(e.Error, context.DeadlineExceeded.Error()) {
			t.Errorf("raw deadline error kept: %v", e)
		}
		if strings.Contains(e.Error, "per-file time limit") {
			limited[e.Location] = true
		}
	}
	for _, apk := range []string{"exodus-core/blooddonation.apk", "exodus-core/instapaper.apk"} {
		if !limited[apk] {
			t.Errorf("%s: no per-file time-limit error: %v", apk, r.Errors)
		}
	}
}

// TestBundleDexAnalysedOnce checks an App Bundle's module DEX files are
// analysed with the bundle (findings carry its package) and not a second
// time as loose DEX files.
func TestBundleDexAnalysedOnce(t *testing.T) {
	aab := filepath.Join(testutil.Corpus(t, "apks/bundletool"), "install-time-permanent-modules.aab")
	r := mustScan(t, aab)
	if r.Summary.Files != 1 {
		t.Errorf("%d files analysed, want the bundle alone", r.Summary.Files)
	}
	inDex := 0
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if f.Package == "" {
			t.Errorf("finding %s without a package at %v", f.RuleID, f.Evidence)
		}
		if seen[f.Fingerprint] {
			t.Errorf("finding %s reported twice", f.RuleID)
		}
		seen[f.Fingerprint] = true
		for _, e := range f.Evidence {
			if strings.Contains(e.Location, "!base/dex/classes.dex") {
				inDex++
			}
		}
	}
	if inDex == 0 {
		t.Error("no finding in the bundle's base/dex/classes.dex")
	}
}
