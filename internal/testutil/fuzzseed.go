package testutil

import (
	"bytes"
	"os"
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
