package testutil

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzSeed reads a one-value "go test fuzz v1" seed file holding a []byte
// and returns the bytes, so a regression test can replay a kept crasher.
func FuzzSeed(t testing.TB, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	q, ok := bytes.CutPrefix(bytes.TrimSpace(raw), []byte("go test fuzz v1\n[]byte("))
	if !ok {
		t.Fatalf("%s: not a go test fuzz v1 []byte seed", path)
	}
	b, err := strconv.Unquote(string(bytes.TrimSuffix(q, []byte(")"))))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(b)
}

// WriteFuzzSeed writes data as a one-value "go test fuzz v1" []byte seed
// file at path (creating its folder), the form FuzzSeed and go test read.
func WriteFuzzSeed(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data), 0o644); err != nil {
		t.Fatal(err)
	}
}
