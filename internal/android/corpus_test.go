package android

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
)

func openCorpus(t testing.TB, rel string) *App {
	t.Helper()
	p := testutil.Corpus(t, rel)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), f, st.Size(), extract.DefaultLimits())
	if err != nil {
		t.Fatalf("Open(%s): %v", rel, err)
	}
	return a
}

// knownDisagreements are ground-truth rows where aapt's view differs from
// Android's and ours is kept on purpose.
var knownDisagreements = map[string]string{
	// aapt prints the codename "VanillaIceCream" for minSdk/targetSdk and
	// the TSV leaves them empty; Android reads a codename as the development
	// level 10000, which is what we report.
	"apks/apktool/client.apk":  "codename SDK",
	"apks/apktool/library.apk": "codename SDK",
}

func TestCorpusGroundTruth(t *testing.T) {
	tsv := testutil.Corpus(t, "apks/ground-truth.tsv")
	f, err := os.Open(tsv)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	sc.Scan()
	col := map[string]int{}
	for i, h := range strings.Split(sc.Text(), "\t") {
		col[h] = i
	}
	rows, agree := 0, 0
	for sc.Scan() {
		r := strings.Split(sc.Text(), "\t")
		rel, pkg := r[col["file"]], r[col["package"]]
		if pkg == "" {
			continue
		}
		rows++
		t.Run(strings.ReplaceAll(rel, "/", "_"), func(t *testing.T) {
			a := openCorpus(t, rel)
			if a.Manifest == nil {
				t.Fatalf("no manifest: %v", a.ManifestErr)
			}
			m := a.Manifest
			num := func(s string) string {
				if s == "" {
					return "0"
				}
				return s
			}
			want := []string{pkg, num(r[col["versionCode"]]), r[col["versionName"]], num(r[col["minSdk"]]), num(r[col["targetSdk"]])}
			got := []string{m.Package, strconv.FormatInt(m.VersionCode, 10), m.VersionName, strconv.Itoa(m.MinSDK), strconv.Itoa(m.TargetSDK)}
			if d := cmp.Diff(want, got); d != "" {
				if why, ok := knownDisagreements[rel]; ok {
					t.Logf("known disagreement (%s): %s", why, d)
					return
				}
				t.Errorf("package/versionCode/versionName/minSdk/targetSdk (-aapt +ours):\n%s", d)
				return
			}
			agree++
		})
	}
	t.Logf("ground truth: %d of %d rows with a package agree exactly (%d documented disagreements)", agree, rows, len(knownDisagreements))
}

func TestCorpusSigners(t *testing.T) {
	const fdroid = "32a23624c201b949f085996ba5ed53d40f703aca4989476949cae891022e0ed6"
	tests := map[string]string{
		"apks/fdroidserver/repo/urzip-unicode-name.apk":                             fdroid,
		"apks/fdroidserver/repo/com.politedroid_3.apk":                              fdroid,
		"apks/fdroidserver/repo/com.politedroid_6.apk":                              fdroid,
		"apks/fdroidserver/repo/no.min.target.sdk_987.apk":                          fdroid,
		"apks/fdroidserver/repo/obb.mainpatch.current_1619.apk":                     fdroid,
		"apks/fdroidserver/repo/v1.v2.sig_1020.apk":                                 fdroid,
		"apks/fdroidserver/v2.only.sig_2.apk":                                       fdroid,
		"apks/fdroidserver/repo/obb.mainpatch.current_1619_another-release-key.apk": "ce9e200667f02d96d49891a2e08a3c178870e91853d61bdd33ef5f0b54701aa5",
		"apks/fdroidserver/janus.apk":                                               "ebb0fedf1942a099b287c3db00ff732162152481abb2b6c7cbcdb2ba5894a768",
		"apks/fdroidserver/apk.embedded_1.apk":                                      "764f0eaac0cdcde35023658eea865c4383ab580f9827c62fdd3daf9e654199ee",
		"apks/fdroidserver/repo/souch.smsbypass_9.apk":                              "d3aec784b1fd71549fc22c999789122e3639895db6bd585da5835fbe3db6985c",
		"apks/fdroidserver/org.dyndns.fules.ck_20.apk":                              "9326a2cc1a2f148202bc7837a0af3b81200bd37fd359c9e13a2296a71d342056",
		"apks/fdroidserver/org.bitbucket.tickytacky.mirrormirror_1.apk":             "feaa63df35b4635cf091513dfcd6d11209632555efdfc47e33b70d4e4eb5ba28",
		"apks/fdroidserver/org.bitbucket.tickytacky.mirrormirror_2.apk":             "feaa63df35b4635cf091513dfcd6d11209632555efdfc47e33b70d4e4eb5ba28",
		"apks/fdroidserver/org.bitbucket.tickytacky.mirrormirror_3.apk":             "feaa63df35b4635cf091513dfcd6d11209632555efdfc47e33b70d4e4eb5ba28",
		"apks/fdroidserver/org.bitbucket.tickytacky.mirrormirror_4.apk":             "feaa63df35b4635cf091513dfcd6d11209632555efdfc47e33b70d4e4eb5ba28",
		"apks/fdroidserver/issue-1128-poc1.apk":                                     "1dbb8be012293e988a0820f7d455b07abd267d2c0b500fc793fcfd80141cb5ce",
		"apks/fdroidserver/issue-1128-poc2.apk":                                     "1dbb8be012293e988a0820f7d455b07abd267d2c0b500fc793fcfd80141cb5ce",
		"apks/fdroidserver/issue-1128-poc3a.apk":                                    "1dbb8be012293e988a0820f7d455b07abd267d2c0b500fc793fcfd80141cb5ce",
		"apks/fdroidserver/issue-1128-poc3b.apk":                                    "1dbb8be012293e988a0820f7d455b07abd267d2c0b500fc793fcfd80141cb5ce",
		"apks/fdroidserver/issue-1128-min-sdk-30-poc.apk":                           "09350d5f3460a8a0ea5cf6b68ccd296a58754f7e683ba6aa08c19be8353504f3",
		"apks/fdroidserver/repo/duplicate.permisssions_9999999.apk":                 "1355ae301394f6ce0a21976bacde65d5fbed48b96518121f52f45a31829cee76",
		"apks/fdroidserver/repo/info.zwanenburg.caffeinetile_4.apk":                 "51cfa5c8a743833ad89acf81cb755936876a5c8b8eca54d1ffdcec0cdca25d0e",
		"apks/fdroidserver/repo/com.example.test.helloworld_1.apk":                  "c3a5ca5465a7585a1bda30218ae4017083605e3576867aa897d724208d99696c",
		"apks/fdroidserver/SpeedoMeterApp.main_1.apk":                               "2e6b3126fb7e0db6a9d4c2a06df690620655454d6e152cf244cc9efe9787a77d",
		"apks/fdroidserver/org.sajeg.fallingblocks_3.apk":                           "033389681f4288fdb3e72a28058c8506233ca50de75452ab6c9c76ea1ca2d70f",
		"apks/androguard/CertChain.apk":                                             "01e1999710a82c2749b4d50c445dc85d670b6136089d0a766a73827c82a1eac9",
	}
	for rel, want := range tests {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			a := openCorpus(t, rel)
			var got []string
			for _, s := range a.Signers {
				got = append(got, s.SHA256)
			}
			if !slices.Contains(got, want) {
				t.Errorf("signers %v (schemes %v, SignErr %v) lack %s", got, a.Schemes, a.SignError(), want)
			}
		})
	}
}

func TestCorpusSchemes(t *testing.T) {
	tests := map[string][]int{
		"apks/androguard/apksig/golden-aligned-v1v2v3-out.apk":       {1, 2, 3},
		"apks/androguard/apksig/golden-aligned-v3-out.apk":           {3},
		"apks/androguard/apksig/golden-aligned-v2v3-lineage-out.apk": {2, 3},
		"apks/fdroidserver/v2.only.sig_2.apk":                        {2},
		"apks/fdroidserver/urzip-release-unsigned.apk":               nil,
		"apks/androguard/apksig/v1-only-with-rsa-1024.apk":           {1},
	}
	for rel, want := range tests {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			a := openCorpus(t, rel)
			if d := cmp.Diff(want, a.Schemes); d != "" {
				t.Errorf("Schemes (-want +got):\n%s", d)
			}
			if want == nil && a.SignError() == nil {
				t.Error("unsigned APK without SignErr")
			}
		})
	}
	a := openCorpus(t, "apks/androguard/apksig/v1-only-with-rsa-1024.apk")
	if len(a.Signers) == 0 || a.Signers[0].KeyBits != 1024 || a.Signers[0].PublicKeyAlgorithm != "RSA" {
		t.Errorf("rsa-1024 signer = %+v", a.Signers)
	}
}

func TestCorpusShortName(t *testing.T) {
	a := openCorpus(t, "apks/androguard/AndroidManifest_ShortName.apk")
	if a.Manifest == nil {
		t.Fatal(a.ManifestErr)
	}
	var acts, svcs []string
	for _, c := range a.Manifest.Application.Activities {
		acts = append(acts, c.Name)
	}
	for _, c := range a.Manifest.Application.Services {
		svcs = append(svcs, c.Name)
	}
	if !slices.Contains(acts, "com.android.galaxy4.Galaxy4") || !slices.Contains(svcs, "com.android.galaxy4.Galaxy4Wallpaper") {
		t.Errorf("activities %v services %v", acts, svcs)
	}
}

func TestCorpusTestActivity(t *testing.T) {
	a := openCorpus(t, "apks/androguard/TestActivity.apk")
	m := a.Manifest
	if m == nil {
		t.Fatal(a.ManifestErr)
	}
	// androguard's tests assert this activity and its filter.
	var main *Component
	for i, c := range m.Application.Activities {
		if c.Name == "tests.androguard.TestActivity" {
			main = &m.Application.Activities[i]
		}
	}
	if main == nil {
		t.Fatalf("activities: %+v", m.Application.Activities)
	}
	if len(main.IntentFilters) == 0 || !slices.Contains(main.IntentFilters[0].Actions, "android.intent.action.MAIN") {
		t.Errorf("filters %+v", main.IntentFilters)
	}
	// targetSdk 16: a filter makes it exported by default.
	if !main.EffectiveExported {
		t.Error("TestActivity not effectively exported")
	}
}

func TestCorpusDebuggableResource(t *testing.T) {
	// debuggable-boolean says true inline; debuggable-resource points at
	// bool/debuggable, whose default value in resources.arsc is false
	// (aapt dump resources: t=0x12 d=0x00000000).
	tests := map[string]bool{
		"apks/androguard/apksig/debuggable-boolean.apk":  true,
		"apks/androguard/apksig/debuggable-resource.apk": false,
	}
	for rel, want := range tests {
		a := openCorpus(t, rel)
		if a.Manifest == nil || a.Manifest.Application.Debuggable != want {
			t.Errorf("%s: debuggable want %v (%v, res %v)", rel, want, a.ManifestErr, a.ResErr)
		}
	}
	a := openCorpus(t, "apks/androguard/apksig/debuggable-resource.apk")
	if got := a.ResolveString("@0x7f030000"); got != "false" {
		t.Errorf("ResolveString(bool/debuggable) = %q", got)
	}
}

func TestCorpusAXML(t *testing.T) {
	dir := testutil.Corpus(t, "apks/androguard/AXML")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	wantFail := map[string]bool{"AndroidManifestWrongFilesize.xml": true, "AndroidManifest_StringNotTerminated.xml": true}
	// test*.xml are AXML documents that are not manifests.
	notManifest := func(n string) bool { return strings.HasPrefix(n, "test") }
	decoded := 0
	for _, p := range files {
		name := filepath.Base(p)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			m, err := DecodeManifest(f, st.Size())
			switch {
			case wantFail[name] || notManifest(name):
				if err == nil {
					t.Errorf("decoded (package %q), want an error", m.Package)
				}
			case err != nil:
				t.Errorf("DecodeManifest: %v", err)
			case m.Package == "":
				t.Error("no package")
			default:
				decoded++
			}
		})
	}
	t.Logf("AXML: %d manifests decoded of %d files", decoded, len(files))
}

func TestCorpusDroidBench(t *testing.T) {
	dir := testutil.Corpus(t, "droidbench/apk")
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".apk") {
			return nil
		}
		n++
		rel, _ := filepath.Rel(filepath.Dir(filepath.Dir(dir)), p)
		a := openCorpus(t, rel)
		if a.Manifest == nil || a.Manifest.Package == "" {
			t.Errorf("%s: no manifest: %v", rel, a.ManifestErr)
		}
		if len(a.DexNames) == 0 {
			t.Errorf("%s: no DEX", rel)
		}
		return nil
	})
	if n < 190 {
		t.Errorf("found %d DroidBench APKs, want 190", n)
	}
}

func TestCorpusJARAndAAB(t *testing.T) {
	a := openCorpus(t, "apks/androguard/OPCommonTelephony.jar")
	if a.Kind != JAR || a.Manifest != nil || len(a.DexNames) != 1 {
		t.Errorf("jar: kind %v manifest %v dex %v", a.Kind, a.Manifest, a.DexNames)
	}
	b := openCorpus(t, "apks/bundletool/install-time-permanent-modules.aab")
	if b.Kind != AAB || len(b.DexNames) == 0 || b.DexNames[0] != "base/dex/classes.dex" {
		t.Errorf("aab: kind %v dex %v", b.Kind, b.DexNames)
	}
	if b.Manifest == nil || b.Manifest.Package != "com.google.android.samples.dynamicfeatures.ondemand" {
		t.Errorf("aab manifest: %+v %v", b.Manifest, b.ManifestErr)
	}
}

// TestCorpusReadEntry checks ReadEntry (into a reused buffer) returns the
// same bytes as OpenEntry for every member of the corpus APKs, and that
// inflated members expose their bytes through MemberBytes.
func TestCorpusReadEntry(t *testing.T) {
	dir := testutil.Corpus(t, "apks")
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*.apk"))
	if len(paths) == 0 {
		t.Skip("no corpus APKs")
	}
	var buf []byte
	members := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			continue
		}
		for i, e := range a.Entries {
			r, n, oerr := a.OpenEntry(i, 0)
			got, rerr := a.ReadEntry(i, 0, buf[:0])
			if (oerr == nil) != (rerr == nil) {
				t.Errorf("%s!%s: OpenEntry err %v, ReadEntry err %v", p, e.Name, oerr, rerr)
				continue
			}
			if oerr != nil {
				continue
			}
			want := make([]byte, n)
			if m, _ := r.ReadAt(want, 0); int64(m) != n {
				t.Fatalf("%s!%s: short read", p, e.Name)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s!%s: ReadEntry gave %d bytes differing from OpenEntry's %d", p, e.Name, len(got), n)
			}
			if mb, ok := MemberBytes(r); ok != (e.Method != 0) || ok && !bytes.Equal(mb, want) {
				t.Errorf("%s!%s: MemberBytes ok=%v for method %d", p, e.Name, ok, e.Method)
			}
			buf = got
			members++
		}
	}
	if members == 0 {
		t.Error("no member read")
	}
}

func BenchmarkOpenCorpus(b *testing.B) {
	dir := testutil.Corpus(b, "apks")
	var paths []string
	var total int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".apk") {
			if st, err := os.Stat(p); err == nil {
				paths = append(paths, p)
				total += st.Size()
			}
		}
		return nil
	})
	b.SetBytes(total)
	for b.Loop() {
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			st, _ := f.Stat()
			if _, err := Open(context.Background(), f, st.Size(), extract.DefaultLimits()); err != nil {
				b.Fatalf("%s: %v", p, err)
			}
			f.Close()
		}
	}
}

// TestCorpusVerifyErrorStable opens an APK whose JAR manifest leaves many
// members unlisted again and again: the verification error must name the
// same member every time (apkverifier meets them in map order).
func TestCorpusVerifyErrorStable(t *testing.T) {
	p := filepath.Join(testutil.Corpus(t, "apks/apktool"), "unknown_compression.apk")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Skip(err)
	}
	first := ""
	for i := range 8 {
		a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if a.SignError() == nil || !strings.Contains(a.SignError().Error(), missingEntryPrefix) {
			t.Fatalf("SignErr = %v, want a missing manifest entry", a.SignError())
		}
		if i == 0 {
			first = a.SignError().Error()
		} else if a.SignError().Error() != first {
			t.Fatalf("open %d: %q, first open: %q", i, a.SignError(), first)
		}
	}
}

func TestJarManifestNames(t *testing.T) {
	mf := "Manifest-Version: 1.0\r\n\r\nName: res/a.png\r\nSHA1-Digest: x\r\n\r\nName: res/a-very-long-name-that-the-72-byte-line-limit-folds-onto-a-second\r\n  -line.png\r\nSHA1-Digest: y\r\n\r\nname: lower.txt\n"
	got := jarManifestNames([]byte(mf))
	want := map[string]bool{"res/a.png": true, "res/a-very-long-name-that-the-72-byte-line-limit-folds-onto-a-second -line.png": true, "lower.txt": true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("jarManifestNames (-want +got):\n%s", diff)
	}
}

// BenchmarkReadMembers decodes every member of the corpus APKs into one
// reused buffer (what the yara analyzer does); bytes are the decoded sizes.
func BenchmarkReadMembers(b *testing.B) {
	dir := testutil.Corpus(b, "apks")
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*.apk"))
	var apps []*App
	var total int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		a, err := Open(context.Background(), bytes.NewReader(data), int64(len(data)), extract.DefaultLimits())
		if err != nil {
			continue
		}
		apps = append(apps, a)
		for _, e := range a.Entries {
			total += e.Size
		}
	}
	b.SetBytes(total)
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		for _, a := range apps {
			for i := range a.Entries {
				if got, err := a.ReadEntry(i, 64*extract.MiB, buf[:0]); err == nil {
					buf = got
				}
			}
		}
	}
}
