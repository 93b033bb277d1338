package yara

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/android"
	"github.com/romscan/romscan/internal/testutil"
)

// corpusMembers reads every member of every APK under the corpus's apks/
// folder (each at most MaxMember bytes) and writes them to dir, so the Go
// scanner and the yara command line see the same bytes.
func corpusMembers(b *testing.B, dir string) ([][]byte, int64) {
	root := testutil.Corpus(b, "apks")
	var members [][]byte
	var total int64
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".apk") || strings.HasSuffix(p, ".jar") || strings.HasSuffix(p, ".aab")) {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		st, _ := f.Stat()
		app, err := android.Open(context.Background(), f, st.Size(), extract.DefaultLimits())
		if err != nil {
			return nil
		}
		defer app.Close()
		for i, e := range app.Entries {
			if strings.HasSuffix(e.Name, "/") || e.Size == 0 || e.Size > MaxMember {
				continue
			}
			r, size, err := app.OpenEntry(i, MaxMember)
			if err != nil {
				continue
			}
			buf := make([]byte, size)
			if _, err := r.ReadAt(buf, 0); err != nil && size > 0 {
				continue
			}
			n++
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%05d", n)), buf, 0o644); err != nil {
				return err
			}
			members = append(members, buf)
			total += size
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return members, total
}

// BenchmarkCorpus measures the embedded rules over every member of the
// corpus APKs (one scanner, one goroutine), and the yara command line
// (one thread) over the same bytes written out as files; the ratio is
// reported as cli-time/go-time (above 1: romscan is faster).
func BenchmarkCorpus(b *testing.B) {
	sigs, r := testRules(b)
	dir := b.TempDir()
	members, total := corpusMembers(b, dir)
	b.Logf("%d members, %.1f MB", len(members), float64(total)/1e6)
	rulesFile := filepath.Join(b.TempDir(), "rules.yar")
	var all []byte
	for _, s := range sigs.Yara {
		all = append(all, s.Data...)
		all = append(all, '\n')
	}
	if err := os.WriteFile(rulesFile, all, 0o644); err != nil {
		b.Fatal(err)
	}
	// The command line first, once, for the comparison.
	var cliSec float64
	if cli, err := exec.LookPath("yara"); err == nil {
		start := time.Now()
		out, err := exec.Command(cli, "-w", "-p", "1", "-r", rulesFile, dir).CombinedOutput()
		if err != nil {
			b.Fatalf("yara: %v: %s", err, out)
		}
		cliSec = time.Since(start).Seconds()
	} else {
		b.Log("yara command line absent (Debian package yara): no comparison")
	}
	b.SetBytes(total)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for _, m := range members {
			if _, err := r.ScanBytes(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	goSec := time.Since(start).Seconds() / float64(b.N)
	if cliSec > 0 {
		b.ReportMetric(float64(total)/1e6/cliSec, "cli-MB/s")
		b.ReportMetric(cliSec/goSec, "cli/go")
	}
}
