package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report/diff"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDiffExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans the sample ROMs")
	}
	dir := testutil.Samples(t)
	v1 := filepath.Join(dir, "rom-v1", "system.img")
	v2 := filepath.Join(dir, "rom-v2", "system.img")
	tmp := t.TempDir()

	// A saved v1 report stands in for the image.
	saved := filepath.Join(tmp, "v1.json")
	if code, _, errs := runCLI(t, "scan", "-quiet", "-fail-on", "none", "-o", "json="+saved, v1); code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errs)
	}
	raw, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	otherSchema := filepath.Join(tmp, "v9.json")
	if err := os.WriteFile(otherSchema, bytes.Replace(raw, []byte(`"schema_version": "1.`), []byte(`"schema_version": "9.`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	notReport := filepath.Join(tmp, "other.json")
	os.WriteFile(notReport, []byte(`{"hello": "world"}`), 0o644)
	text := filepath.Join(tmp, "notes.txt")
	os.WriteFile(text, []byte("not firmware\n"), 0o644)
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)

	cases := []struct {
		name    string
		args    []string
		code    int
		stderr  string // a part of the message
		changes int    // -1: do not check
	}{
		{"self", []string{v1, v1}, 0, "", 0},
		{"self-report", []string{saved, v1}, 0, "", 0},
		{"v1-v2", []string{v1, v2}, 1, "", -1},
		{"v1-v2-fail-on-critical", []string{"-fail-on", "critical", v1, v2}, 0, "", -1},
		{"v1-v2-fail-on-none", []string{v1, v2, "-fail-on", "none"}, 0, "", -1},
		{"v2-v1-no-new-high", []string{"-fail-on", "high", v2, v1}, 0, "", -1},
		{"missing", []string{v1, filepath.Join(tmp, "nope.img")}, 3, "NEW side", -1},
		{"unsupported", []string{text, v1}, 3, "unsupported format", -1},
		{"empty-folder", []string{v1, empty}, 3, "NEW side", -1},
		{"other-schema", []string{otherSchema, v1}, 3, "unsupported report schema version", -1},
		{"not-a-report", []string{v1, notReport}, 3, "not a romscan report", -1},
		{"one-path", []string{v1}, 2, "exactly two paths", -1},
		{"bad-format", []string{"-o", "xml", v1, v2}, 2, "unknown format", -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"diff", "-quiet", "-o", "json"}, tc.args...)
			code, out, errs := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errs)
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q does not say %q", errs, tc.stderr)
			}
			if tc.code > 1 {
				return
			}
			var d diff.Delta
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("output is not a delta: %v\n%s", err, out)
			}
			if d.SchemaVersion != diff.SchemaVersion {
				t.Errorf("schema %q", d.SchemaVersion)
			}
			if tc.changes >= 0 && len(d.Changes) != tc.changes {
				t.Errorf("%d changes, want %d; first: %+v", len(d.Changes), tc.changes, d.Changes)
			}
		})
	}
}

// TestDiffCacheFolder runs a diff twice with --cache: the second run reads
// every analysis from disk and says the same.
func TestDiffCacheFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and scans the sample ROMs")
	}
	dir := testutil.Samples(t)
	v1 := filepath.Join(dir, "rom-v1", "system.img")
	v2 := filepath.Join(dir, "rom-v2", "system.img")
	cache := filepath.Join(t.TempDir(), "cache")
	_, first, _ := runCLI(t, "diff", "-quiet", "-o", "json", "-cache", cache, v1, v2)
	_, second, _ := runCLI(t, "diff", "-quiet", "-o", "json", "-cache", cache, v1, v2)
	_, none, _ := runCLI(t, "diff", "-quiet", "-o", "json", v1, v2)
	if first != second || first != none {
		t.Errorf("outputs differ with and without the disk cache")
	}
	ents, err := os.ReadDir(cache)
	if err != nil || len(ents) == 0 {
		t.Errorf("cache folder: %d entries, %v", len(ents), err)
	}
}
