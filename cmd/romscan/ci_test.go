package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/romscan/romscan/internal/testutil"
)

// ciFolder makes a temp folder holding apks/ with one corpus APK (findings
// up to medium) and returns its path.
func ciFolder(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testutil.Corpus(t, "apks"), "androguard", "a2dp.Vol_137.apk")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "apks"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apks", "a2dp.apk"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestScanExitCodes runs `romscan scan` through run() with the CI flags.
func TestScanExitCodes(t *testing.T) {
	dir := ciFolder(t)
	apks := filepath.Join(dir, "apks")
	broken := filepath.Join(dir, "broken")
	if err := os.MkdirAll(broken, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(broken, "a.apk"), "PK\x03\x04 not really a zip")
	if data, err := os.ReadFile(filepath.Join(apks, "a2dp.apk")); err == nil {
		write(t, filepath.Join(broken, "b.apk"), string(data))
	}
	hideMedium := write(t, filepath.Join(dir, "hide.yml"), "ignore:\n  - rule: harvest.location\n    reason: t\n  - rule: harvest.sms\n    reason: t\n")
	expired := write(t, filepath.Join(dir, "expired.yml"), "ignore:\n  - rule: harvest.location\n    reason: t\n    until: 2020-01-31\n  - rule: harvest.sms\n    reason: t\n")
	live := write(t, filepath.Join(dir, "live.yml"), "ignore:\n  - rule: harvest.location\n    reason: t\n    until: 2999-12-31\n  - rule: harvest.sms\n    reason: t\n")
	badIgnore := write(t, filepath.Join(dir, "bad.yml"), "ignore:\n  - rule: harvest.location\n")
	baseline := filepath.Join(dir, "base.json")
	if code, _, errOut := runArgs(t, "scan", apks, "--quiet", "--fail-on", "none", "-o", "json="+baseline); code != 0 {
		t.Fatalf("baseline scan: exit %d: %s", code, errOut)
	}
	empty := write(t, filepath.Join(dir, "empty.json"), `{"schema_version": "1.0", "findings": []}`)

	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"default-fail-on-high", []string{"scan", apks}, exitOK, ""},
		{"fail-on-medium", []string{"scan", apks, "--fail-on", "medium"}, exitFindings, ""},
		{"fail-on-none", []string{"scan", apks, "--fail-on", "none"}, exitOK, ""},
		{"ignore-hides-medium", []string{"scan", apks, "--fail-on", "medium", "--ignore-file", hideMedium}, exitOK, ""},
		{"ignore-live-until", []string{"scan", apks, "--fail-on", "medium", "--ignore-file", live}, exitOK, ""},
		{"ignore-expired", []string{"scan", apks, "--fail-on", "medium", "--ignore-file", expired}, exitFindings, "expired on 2020-01-31"},
		{"ignore-bad-file", []string{"scan", apks, "--ignore-file", badIgnore}, exitUsage, "needs a reason"},
		{"ignore-missing-file", []string{"scan", apks, "--ignore-file", filepath.Join(dir, "nope.yml")}, exitUsage, "read ignore file"},
		{"baseline-nothing-new", []string{"scan", apks, "--fail-on", "low", "--baseline", baseline}, exitOK, ""},
		{"baseline-all-new", []string{"scan", apks, "--fail-on", "low", "--baseline", empty}, exitFindings, ""},
		{"baseline-bad", []string{"scan", apks, "--baseline", hideMedium}, exitUsage, "parse baseline"},
		{"errors-not-strict", []string{"scan", broken, "--fail-on", "none"}, exitOK, ""},
		{"errors-strict", []string{"scan", broken, "--fail-on", "none", "--strict"}, exitFindings, "--strict: 1 files could not be read"},
		{"strict-clean", []string{"scan", apks, "--strict"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "-o", "json="+filepath.Join(t.TempDir(), "r.json"))
			code, _, errOut := runArgs(t, args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.want, errOut)
			}
			if tt.wantStderr != "" && !strings.Contains(errOut, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, errOut)
			}
		})
	}
}

// TestScanSuppressedCounted checks the JSON report after an ignore file.
func TestScanSuppressedCounted(t *testing.T) {
	dir := ciFolder(t)
	hide := write(t, filepath.Join(dir, "hide.yml"), "ignore:\n  - rule: harvest.location\n    reason: t\n")
	out := filepath.Join(dir, "r.json")
	if code, _, errOut := runArgs(t, "scan", filepath.Join(dir, "apks"), "--quiet", "--ignore-file", hide, "-o", "json="+out); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Findings []struct {
			RuleID string `json:"rule_id"`
		} `json:"findings"`
		Summary struct {
			Findings   int `json:"findings"`
			Suppressed int `json:"suppressed_findings"`
		} `json:"summary"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Suppressed != 1 || r.Summary.Findings != len(r.Findings) {
		t.Errorf("summary %+v with %d findings; want 1 suppressed", r.Summary, len(r.Findings))
	}
	for _, f := range r.Findings {
		if f.RuleID == "harvest.location" {
			t.Error("an ignored finding is still in the report")
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	code, out, errOut := runArgs(t, "schema")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if s["$schema"] != "http://json-schema.org/draft-07/schema#" {
		t.Errorf("$schema %v", s["$schema"])
	}
	if code, _, _ := runArgs(t, "schema", "extra"); code != exitUsage {
		t.Errorf("schema with an argument: exit %d, want %d", code, exitUsage)
	}
}

// docCommands returns the `romscan ...` command lines of a CI example.
func docCommands(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "- ")
		line = strings.TrimPrefix(line, "run: ")
		if !strings.HasPrefix(line, "romscan ") {
			continue
		}
		if strings.ContainsAny(line, `$"'|&;<>`+"`") {
			t.Fatalf("%s: %q uses shell syntax the test cannot run", path, line)
		}
		cmds = append(cmds, strings.Fields(line)[1:])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// TestCIExamples runs the romscan command lines of docs/ci-*.yml, in
// order, in a folder holding apks/ and the example ignore file.
func TestCIExamples(t *testing.T) {
	docs := filepath.Join("..", "..", "docs")
	ignore, err := os.ReadFile(filepath.Join(docs, "romscan-ignore.example.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file  string
		cmds  int
		files []string
	}{
		{"ci-github-actions.yml", 1, []string{"romscan.sarif", "romscan.json", "romscan.md", "romscan.html"}},
		{"ci-gitlab.yml", 3, []string{"romscan-baseline.json", "romscan.sarif", "romscan.json", "romscan.md", "romscan.html"}},
	} {
		t.Run(strings.TrimSuffix(tc.file, ".yml"), func(t *testing.T) {
			cmds := docCommands(t, filepath.Join(docs, tc.file))
			if len(cmds) != tc.cmds {
				t.Fatalf("found %d romscan commands, want %d: %q", len(cmds), tc.cmds, cmds)
			}
			dir := ciFolder(t)
			write(t, filepath.Join(dir, ".romscan-ignore.yml"), string(ignore))
			t.Chdir(dir)
			for _, args := range cmds {
				// The APK's worst finding is medium: exit 1 only where the
				// gate is at medium and the findings are new.
				want := exitOK
				code, _, errOut := runArgs(t, args...)
				if code != want {
					t.Errorf("romscan %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, want, errOut)
				}
				// The same command with a lower gate fails.
				if code, _, _ := runArgs(t, append(args, "--fail-on", "info", "--baseline", "")...); code != exitFindings {
					t.Errorf("romscan %s --fail-on info: exit %d, want %d", strings.Join(args, " "), code, exitFindings)
				}
			}
			for _, f := range tc.files {
				if st, err := os.Stat(f); err != nil || st.Size() == 0 {
					t.Errorf("%s was not written: %v", f, err)
				}
			}
		})
	}
}
