package testutil

import (
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
	cmd := exec.Command(filepath.Join(root, "samples", "build.sh"), "all")
	cmd.Dir = root
	b, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(b), "missing tools") {
			t.Skipf("samples cannot be built here (run `make deps`):\n%s", b)
		}
		t.Fatalf("samples/build.sh: %v\n%s", err, b)
	}
	return out
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
