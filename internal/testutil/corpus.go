// Package testutil holds helpers shared by tests: locating the shared corpus
// and skipping clearly when it is absent.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// CorpusDir returns the shared test corpus (../shared/corpus beside the
// repository, or $ROMSCAN_CORPUS), or "" when it is absent.
func CorpusDir() string {
	if d := os.Getenv("ROMSCAN_CORPUS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "corpus")
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Corpus returns the path of rel inside the shared corpus, skipping the test
// with a clear message when the corpus or the file is absent.
func Corpus(t testing.TB, rel string) string {
	t.Helper()
	c := CorpusDir()
	if c == "" {
		t.Skip("shared corpus absent (expected ../shared/corpus beside the repository, or $ROMSCAN_CORPUS): skipping corpus test")
	}
	p := filepath.Join(c, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s absent: skipping", rel)
	}
	return p
}
