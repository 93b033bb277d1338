package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeZip(t *testing.T, path string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		// archive/zip refuses nothing here: the names are hostile on purpose.
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestExtractZipSlip extracts a zip whose names try to escape the output
// folder: everything must land inside it.
func TestExtractZipSlip(t *testing.T) {
	tmp := t.TempDir()
	in := filepath.Join(tmp, "evil.zip")
	writeZip(t, in, map[string]string{
		"../../escape.txt":      "a",
		"/etc/absolute.txt":     "b",
		"C:\\windows\\evil.txt": "c",
		"..\\..\\back.txt":      "d",
		"ok/fine.txt":           "e",
		"dup.txt":               "f",
	})
	out := filepath.Join(tmp, "out")
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"extract", in, "-d", out}, &bytes.Buffer{}, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// Nothing outside out/ besides the input.
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if e.Name() != "evil.zip" && e.Name() != "out" {
			t.Errorf("written outside the output folder: %s", e.Name())
		}
	}
	var got []string
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(got) != 6 {
		t.Errorf("wrote %v, want 6 files", got)
	}
	for _, g := range got {
		if strings.Contains(g, "..") || strings.HasPrefix(g, "/") {
			t.Errorf("unsafe path written: %s", g)
		}
	}
}

func TestExtractPath(t *testing.T) {
	tests := []struct {
		hops []string
		want string
	}{
		{[]string{"system.img", "/system/app/Foo/Foo.apk"}, "system.img/system/app/Foo/Foo.apk"},
		{[]string{"../../x"}, "x"},
		{[]string{"a\\..\\..\\b"}, "a/b"},
		{[]string{"C:\\x"}, "C_/x"},
		{[]string{"a\x00b\nc"}, "a_b_c"},
	}
	for _, tt := range tests {
		got, err := ExtractPath(tt.hops)
		if err != nil || got != tt.want {
			t.Errorf("ExtractPath(%q) = %q, %v; want %q", tt.hops, got, err, tt.want)
		}
	}
	if _, err := ExtractPath([]string{"..", "/"}); err == nil {
		t.Error("a name of only dots and slashes gave no error")
	}
}

// FuzzExtractPath checks that any hop list maps to a local path or an error.
func FuzzExtractPath(f *testing.F) {
	for _, s := range []string{"../a", "/abs", "a/../../b", "C:\\x", "a\x00b", "ok/path.txt", "..", "a!b"} {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		p, err := ExtractPath([]string{a, b})
		if err != nil {
			return
		}
		if !filepath.IsLocal(p) || strings.Contains(p, "\x00") {
			t.Fatalf("ExtractPath(%q, %q) = %q: not local", a, b, p)
		}
		for _, c := range strings.Split(p, "/") {
			if c == ".." || c == "." || c == "" {
				t.Fatalf("ExtractPath(%q, %q) = %q: bad component", a, b, p)
			}
		}
	})
}
