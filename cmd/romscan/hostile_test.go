package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
)

// hostileFile is one recipe of the hostile corpus, built in code.
type hostileFile struct {
	name      string
	data      func(t *testing.T) []byte
	wantError bool // the scan must report a per-file error for it
}

func zipOf(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: zip.Deflate})
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

func bitflip(b []byte, seed int64, n int) []byte {
	out := append([]byte{}, b...)
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n && len(out) > 0; i++ {
		out[r.Intn(len(out))] ^= byte(1 << r.Intn(8))
	}
	return out
}

func sampleFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testutil.Samples(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hostileRecipes() []hostileFile {
	bomb := func(t *testing.T) []byte {
		return zipOf(t, [2]string{"zeros.bin", strings.Repeat("\x00", 256<<20)})
	}
	return []hostileFile{
		{"bomb.zip", bomb, true},
		{"nested-bomb.zip", func(t *testing.T) []byte {
			b := string(bomb(t))
			return zipOf(t, [2]string{"a.zip", b}, [2]string{"b.zip", b}, [2]string{"c.zip", b})
		}, true},
		{"deep.zip", func(t *testing.T) []byte {
			data := zipOf(t, [2]string{"leaf.prop", "ro.x=1"})
			for i := 0; i < 50; i++ {
				data = zipOf(t, [2]string{"n.zip", string(data)})
			}
			return data
		}, true},
		{"slip.zip", func(t *testing.T) []byte {
			return zipOf(t, [2]string{"../../../escape.prop", "ro.x=1"}, [2]string{"/abs.prop", "ro.y=2"}, [2]string{"..\\win.prop", "ro.z=3"})
		}, false},
		{"duplicate-entries.apk", func(t *testing.T) []byte {
			return zipOf(t, [2]string{"AndroidManifest.xml", "not axml"}, [2]string{"classes.dex", "dex\n035\x00one"}, [2]string{"classes.dex", "dex\n035\x00two"})
		}, true},
		// A truncated APK is read from its local headers, as Android's
		// tolerant tools do; its broken signature is a finding, not an error.
		{"truncated.apk", func(t *testing.T) []byte {
			b := sampleFile(t, "apks/harvester.apk")
			return b[:len(b)/2]
		}, false},
		{"garbage.dex", func(t *testing.T) []byte {
			return append([]byte("dex\n035\x00"), bytes.Repeat([]byte{0xff}, 4096)...)
		}, true},
		{"truncated-system.img", func(t *testing.T) []byte {
			b := sampleFile(t, "rom-v1/system.img")
			return b[:64*1024]
		}, true},
		{"flipped-system.img", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/system.img"), 1, 2000)
		}, false},
		{"flipped-system.simg", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/system.simg"), 2, 500)
		}, false},
		{"flipped-system.erofs", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/system.erofs"), 3, 500)
		}, false},
		{"flipped-ota-block.zip", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/ota-block.zip"), 4, 200)
		}, false},
		{"ansi.prop", func(t *testing.T) []byte {
			return []byte("ro.product.model=\x1b[31mEVIL\x1b[0m\r\nro.build.fingerprint=x\x1b]0;title\x07\nurl=http://42.62.48.9/\x1b[2Jx\n")
		}, false},
	}
}

// TestHostileCorpus runs romscan scan and romscan extract as child
// processes over hostile files built in code plus the corpus's own hostile
// files, and checks: the exit code, one error per file that must fail, no
// panic, nothing written outside the output folder, no temp files left, and
// peak RSS under 1 GiB.
func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile corpus: skipped with -short")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "romscan")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	in := filepath.Join(tmp, "hostile")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	recipes := hostileRecipes()
	for _, h := range recipes {
		if err := os.WriteFile(filepath.Join(in, h.name), h.data(t), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A 1 GiB single line of text.
	f, err := os.Create(filepath.Join(in, "one-line.txt"))
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("a"), 1<<20)
	for i := 0; i < 1024; i++ {
		f.Write(line)
	}
	f.Close()

	if keep := os.Getenv("ROMSCAN_KEEP_HOSTILE"); keep != "" {
		// For looking at a failure by hand.
		exec.Command("cp", "-r", in, keep).Run()
	}
	inputs := []string{in}
	if c := testutil.CorpusDir(); c != "" {
		for _, rel := range []string{"apks/androguard/AXML", "apks/apktool/GHSA-2hqv-2xv4-5h5w.apk", "apks/fdroidserver/janus.apk",
			"firmware/android-sparse-rs/invalid_crc.simg", "apks/androguard/apksig/v1-only-with-nul-in-entry-name.apk"} {
			inputs = append(inputs, filepath.Join(c, rel))
		}
	}

	childTmp := filepath.Join(tmp, "childtmp")
	os.Mkdir(childTmp, 0o755)
	// Peak RSS comes from /usr/bin/time: the rusage of a child started by
	// this test would include the test's own memory (ru_maxrss survives exec).
	timeBin, _ := exec.LookPath("/usr/bin/time")
	rssFile := filepath.Join(tmp, "rss")
	runChild := func(args ...string) (int, string, int64) {
		cmd := exec.Command(bin, args...)
		if timeBin != "" {
			cmd = exec.Command(timeBin, append([]string{"-f", "%M", "-o", rssFile, bin}, args...)...)
		}
		cmd.Env = append(os.Environ(), "TMPDIR="+childTmp)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = &bytes.Buffer{}
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		rss := int64(-1)
		if b, err := os.ReadFile(rssFile); err == nil {
			var kib int64
			if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &kib); err == nil {
				rss = kib * 1024
			}
		}
		return code, stderr.String(), rss
	}

	jsonOut := filepath.Join(tmp, "report.json")
	code, stderr, rss := runChild(append([]string{"scan", "--quiet", "--fail-on", "none", "-o", "json=" + jsonOut}, inputs...)...)
	if code != exitOK {
		t.Errorf("scan exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("scan panicked:\n%s", stderr)
	}
	switch {
	case rss < 0:
		t.Log("peak RSS not measured: /usr/bin/time is missing (Debian package time; make deps installs it)")
	case rss > 1<<30:
		t.Errorf("scan peak RSS %d MiB, want under 1 GiB", rss>>20)
	default:
		t.Logf("scan peak RSS %d MiB", rss>>20)
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	errorsFor := map[string]int{}
	for _, e := range rep.Errors {
		if strings.Contains(e.Error, "internal error") {
			t.Errorf("%s: a panic was recovered: %s", e.Location, e.Error)
		}
		top := strings.SplitN(e.Location, "!", 2)[0]
		errorsFor[filepath.Base(top)]++
	}
	for _, h := range recipes {
		if h.wantError && errorsFor[h.name] == 0 {
			t.Errorf("%s: no per-file error in the report", h.name)
		}
	}
	for _, want := range []string{"bomb.zip", "deep.zip"} {
		found := false
		for _, e := range rep.Errors {
			if strings.HasPrefix(e.Location, "hostile/"+want) && strings.Contains(e.Error, "limit") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no limit error naming the limit", want)
		}
	}
	signing := false
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.RuleID, "signing.") && len(f.Evidence) > 0 && strings.HasSuffix(f.Evidence[0].Location, "truncated.apk") {
			signing = true
		}
	}
	if !signing {
		t.Error("truncated.apk: no signing finding for its broken signature")
	}
	rules := map[string]bool{}
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			rules[filepath.Base(strings.SplitN(e.Location, "!", 2)[0])+" "+f.RuleID] = true
		}
	}
	if !rules["duplicate-entries.apk signing.duplicate-entry"] {
		t.Error("duplicate-entries.apk: two different classes.dex not reported")
	}
	if testutil.CorpusDir() != "" && !rules["janus.apk signing.janus-polyglot"] {
		t.Error("janus.apk: the DEX prefix (Janus) is not reported")
	}
	var table bytes.Buffer
	(report.Table{}).Render(&table, &rep)
	if bytes.ContainsAny(table.Bytes(), "\x1b\r\x07") {
		t.Error("control bytes from scanned files reached the table")
	}

	// extract, recursively, of each hostile archive: nothing outside out/.
	out := filepath.Join(tmp, "out")
	for _, h := range recipes {
		code, stderr, _ := runChild("extract", "--recursive", "--quiet", filepath.Join(in, h.name), "-d", filepath.Join(out, h.name))
		if code != exitOK && code != exitNothing {
			t.Errorf("extract %s: exit %d\n%s", h.name, code, stderr)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("extract %s panicked:\n%s", h.name, stderr)
		}
	}
	filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(tmp, p)
		top := strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]
		switch top {
		case "romscan", "hostile", "report.json", "out", "rss":
		default:
			t.Errorf("file written outside the output folders: %s", rel)
		}
		return nil
	})
	left, _ := os.ReadDir(childTmp)
	if len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("temp files left behind: %s", strings.Join(names, ", "))
	}
}
