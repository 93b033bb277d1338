package testutil

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Samples builds the project's sample APKs and ROMs (samples/build.sh,
// incremental) into samples/build and returns that folder. Concurrent test
// processes share one build through a file lock. The test is skipped, with
// the reason, when a tool the build needs is missing (`make deps` installs
// them all, so CI runs these tests).
func Samples(t testing.TB) string {
	t.Helper()
	root := repoRoot(t)
	out := filepath.Join(root, "samples", "build")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(out, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	// build.sh rewrites the ROM images on every run; rebuild only when the
	// sources changed, so a test in another process never reads a file
	// that is being rewritten.
	stamp := filepath.Join(out, ".sources-sha256")
	sum, err := sourcesHash(filepath.Join(root, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(stamp); err == nil && string(b) == sum {
		return out
	}
	cmd := exec.Command(filepath.Join(root, "samples", "build.sh"), "all")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(b), "missing tools") {
			t.Skipf("samples cannot be built here (run `make deps`):\n%s", b)
		}
		t.Fatalf("samples/build.sh: %v\n%s", err, b)
	}
	if err := os.WriteFile(stamp, []byte(sum), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// sourcesHash hashes every file under samples/ except the build output.
func sourcesHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "build" && filepath.Dir(p) == dir {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", strings.TrimPrefix(p, dir), len(b))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
