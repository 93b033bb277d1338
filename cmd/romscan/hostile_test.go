package main

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/extract"
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
	if b == nil {
		return nil // a recipe whose source is missing is skipped
	}
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
		// Janus (CVE-2017-13156): a DEX header prepended to a signed APK;
		// the zip's offsets are left as they were, so it is read from its
		// local headers.
		{"janus-built.apk", func(t *testing.T) []byte {
			dex := make([]byte, 0x70)
			copy(dex, "dex\n035\x00")
			binary.LittleEndian.PutUint32(dex[32:], 0x70)       // file_size
			binary.LittleEndian.PutUint32(dex[36:], 0x70)       // header_size
			binary.LittleEndian.PutUint32(dex[40:], 0x12345678) // endian_tag
			return append(dex, sampleFile(t, "apks/harvester.apk")...)
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
		{"slip-drive.zip", func(t *testing.T) []byte {
			return zipOf(t, [2]string{"C:\\evil.prop", "ro.x=1"}, [2]string{"C:/evil2.prop", "ro.x=2"}, [2]string{"\\\\host\\share\\unc.prop", "ro.x=3"}, [2]string{"d/../../../up.prop", "ro.x=4"})
		}, false},
		{"links.tar", func(t *testing.T) []byte { return linksTar(t) }, false},
		{"links.ext4", func(t *testing.T) []byte { return linksImage(t, "ext4", false) }, false},
		{"cycle.ext4", func(t *testing.T) []byte { return linksImage(t, "ext4", true) }, true},
		{"links.erofs", func(t *testing.T) []byte { return linksImage(t, "erofs", false) }, false},
		{"cycle.erofs", func(t *testing.T) []byte { return linksImage(t, "erofs", true) }, true},
		// A member declaring 4 GiB that holds a few bytes: nothing is
		// allocated by the declared size, and the mismatch is an error.
		{"huge-declared.zip", func(t *testing.T) []byte {
			b := zipOf(t, [2]string{"big.bin", "only a few bytes"})
			return patchZipSizes(t, b, 0xfffffff0)
		}, true},
		// A sparse image declaring 16 TiB of "don't care" blocks.
		{"huge-declared.simg", func(t *testing.T) []byte { return hugeSparse() }, true},
		{"ops-outside.payload.bin", func(t *testing.T) []byte { return payloadOpsOutside(t) }, true},
		{"truncated-super.img", func(t *testing.T) []byte {
			b := sampleFile(t, "rom-v1/super.img")
			return b[:8192]
		}, true},
		{"flipped-super.img", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/super.img"), 5, 3000)
		}, false},
		{"truncated-ota-payload.zip", func(t *testing.T) []byte {
			b := sampleFile(t, "rom-v1/ota-payload.zip")
			return b[:len(b)*2/3]
		}, false},
		{"flipped-ota-payload.zip", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/ota-payload.zip"), 6, 200)
		}, false},
		{"truncated-fastboot.tgz", func(t *testing.T) []byte {
			b := sampleFile(t, "rom-v1/fastboot.tgz")
			return b[:len(b)/2]
		}, true},
		{"flipped-fastboot.tgz", func(t *testing.T) []byte {
			return bitflip(sampleFile(t, "rom-v1/fastboot.tgz"), 7, 100)
		}, false},
		{"truncated-payload.bin", func(t *testing.T) []byte {
			b := corpusFile(t, "firmware/aosp-update_engine/full_payload.bin")
			return b[:len(b)/2]
		}, true},
		{"flipped-payload.bin", func(t *testing.T) []byte {
			return bitflip(corpusFile(t, "firmware/aosp-update_engine/full_payload.bin"), 8, 200)
		}, false},
		{"truncated-boot.img", func(t *testing.T) []byte {
			b := corpusXZ(t, "firmware/boot-images/issue_54/boot.img.xz")
			return b[:len(b)/3]
		}, false},
		{"flipped-boot.img", func(t *testing.T) []byte {
			return bitflip(corpusXZ(t, "firmware/boot-images/issue_54/boot.img.xz"), 9, 500)
		}, false},
		{"truncated-vbmeta.img", func(t *testing.T) []byte {
			b := corpusFile(t, "firmware/iris-hp4024/vbmeta.img")
			return b[:len(b)/3]
		}, false},
		{"flipped-vbmeta.img", func(t *testing.T) []byte {
			return bitflip(corpusFile(t, "firmware/iris-hp4024/vbmeta.img"), 10, 50)
		}, false},
		{"truncated.odex", func(t *testing.T) []byte {
			b := corpusFile(t, "firmware/iris-hp4024/system/app/SecureElement/oat/arm/SecureElement.odex")
			return b[:len(b)/2]
		}, false},
		{"flipped.odex", func(t *testing.T) []byte {
			return bitflip(corpusFile(t, "firmware/iris-hp4024/system/app/SecureElement/oat/arm/SecureElement.odex"), 11, 300)
		}, false},
		{"truncated.vdex", func(t *testing.T) []byte {
			b := corpusFile(t, "firmware/iris-hp4024/system/app/SecureElement/oat/arm/SecureElement.vdex")
			return b[:len(b)/2]
		}, false},
		{"flipped.vdex", func(t *testing.T) []byte {
			return bitflip(corpusFile(t, "firmware/iris-hp4024/system/app/SecureElement/oat/arm/SecureElement.vdex"), 12, 300)
		}, false},
		{"truncated-lp-metadata.img", func(t *testing.T) []byte {
			b := corpusFile(t, "firmware/lp-metadata/super_empty-group_basic.img")
			return b[:len(b)/2]
		}, false},
		{"ansi.prop", func(t *testing.T) []byte {
			return []byte("ro.product.model=\x1b[31mEVIL\x1b[0m\r\nro.build.fingerprint=x\x1b]0;title\x07\nurl=http://42.62.48.9/\x1b[2Jx\n")
		}, false},
	}
}

// explained reports whether a per-file error says why the file could not be
// read: it names one of the extract sentinels (corrupt, limit, unsupported,
// not this format, needs base).
func explained(msg string) bool {
	for _, err := range []error{extract.ErrNotFormat, extract.ErrCorrupt, extract.ErrLimit, extract.ErrUnsupported, extract.ErrNeedsBase} {
		if strings.Contains(msg, err.Error()) {
			return true
		}
	}
	return false
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
	var recipes []hostileFile
	for _, h := range hostileRecipes() {
		b := h.data(t)
		if b == nil {
			continue // its tool or corpus file is missing (logged)
		}
		if err := os.WriteFile(filepath.Join(in, h.name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		recipes = append(recipes, h)
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
			"firmware/android-sparse-rs/invalid_crc.simg", "apks/androguard/apksig/v1-only-with-nul-in-entry-name.apk",
			"apks/apktool/issue1589.apk"} {
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
	// scanArgs are the scan's flags and inputs, without the output.
	scanArgs := append([]string{"--quiet", "--fail-on", "none"}, inputs...)
	start := time.Now()
	code, stderr, rss := runChild(append([]string{"scan", "-o", "json=" + jsonOut}, scanArgs...)...)
	full := time.Since(start)
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
		if !explained(e.Error) {
			t.Errorf("%s: the error does not say why: %s", e.Location, e.Error)
		}
		top := strings.SplitN(e.Location, "!", 2)[0]
		errorsFor[filepath.Base(top)]++
	}
	for _, h := range recipes {
		if h.wantError && errorsFor[h.name] == 0 {
			t.Errorf("%s: no per-file error in the report", h.name)
		}
	}
	if testutil.CorpusDir() != "" && errorsFor["invalid_crc.simg"] == 0 {
		t.Error("invalid_crc.simg: the CRC32 mismatch is not reported")
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
	if !rules["janus-built.apk signing.janus-polyglot"] {
		t.Error("janus-built.apk: the DEX prefix (Janus) is not reported")
	}
	if testutil.CorpusDir() != "" && !rules["janus.apk signing.janus-polyglot"] {
		t.Error("janus.apk: the DEX prefix (Janus) is not reported")
	}
	var table bytes.Buffer
	(report.Table{}).Render(&table, &rep)
	if bytes.ContainsAny(table.Bytes(), "\x1b\r\x07") {
		t.Error("control bytes from scanned files reached the table")
	}

	// --timeout and Ctrl-C stop the scan cleanly: exit 3, the partial report
	// written, no panic, no temp files (checked below with the rest). The
	// stop comes at a third of the full scan's time, so it lands mid-scan.
	if stopAfter := full / 3; stopAfter < 300*time.Millisecond {
		t.Logf("full scan took %s: too short to stop it midway", full)
	} else {
		for _, how := range []string{"timeout", "interrupt"} {
			partial := filepath.Join(tmp, "partial-"+how+".json")
			args := []string{"scan", "-o", "json=" + partial}
			if how == "timeout" {
				args = append(args, "--timeout", stopAfter.String())
			}
			cmd := exec.Command(bin, append(args, scanArgs...)...)
			cmd.Env = append(os.Environ(), "TMPDIR="+childTmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if how == "interrupt" {
				time.Sleep(stopAfter)
				cmd.Process.Signal(os.Interrupt)
			}
			err := cmd.Wait()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != exitNothing || !strings.Contains(stderr.String(), "partial report written") {
				t.Errorf("%s after %s: exit %d, want %d and a partial report; stderr:\n%s", how, stopAfter, code, exitNothing, stderr.String())
			}
			if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("%s: panicked:\n%s", how, stderr.String())
			}
			var part report.Report
			if b, err := os.ReadFile(partial); err != nil {
				t.Errorf("%s: no partial report: %v", how, err)
			} else if err := json.Unmarshal(b, &part); err != nil {
				t.Errorf("%s: partial report does not parse: %v", how, err)
			}
		}
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
		if d.Type()&fs.ModeSymlink != 0 {
			// A link written by extract must stay inside the output folder.
			target, _ := os.Readlink(p)
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(p), target)
			}
			if r, err := filepath.Rel(filepath.Join(tmp, "out"), target); err != nil || !filepath.IsLocal(r) {
				t.Errorf("symlink %s points outside the output folder: %s", rel, target)
			}
		}
		switch top {
		case "romscan", "hostile", "report.json", "out", "rss", "partial-timeout.json", "partial-interrupt.json":
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
