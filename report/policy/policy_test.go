package policy

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

// update is accepted so `go test ./report/... -run Golden -update` works
// over every package under report/; this package has no golden files.
var _ = flag.Bool("update", false, "rewrite golden files (none here)")

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func testFindings() []finding.Finding {
	fs := []finding.Finding{
		{RuleID: "manifest.allow-backup", Severity: finding.Info, Package: "com.a", Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/app/A/A.apk!AndroidManifest.xml"}}},
		{RuleID: "harvest.device-id", Severity: finding.High, Package: "com.a", Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/app/A/A.apk!classes.dex", Class: "LA;", Method: "m()V"}}},
		{RuleID: "harvest.device-id", Severity: finding.High, Package: "com.b", Evidence: []finding.Evidence{{Location: "rom.zip!vendor.img!/vendor/app/B/B.apk!classes2.dex"}}},
		{RuleID: "config.adb", Severity: finding.Medium, Evidence: []finding.Evidence{{Location: "rom.zip!system.img!/system/build.prop"}}},
	}
	for i := range fs {
		fs[i].ComputeFingerprint()
	}
	return fs
}

func testReport() *report.Report {
	r := &report.Report{
		SchemaVersion: report.SchemaVersion,
		Apps: []report.App{
			{Package: "com.a", Location: "rom.zip!system.img!/system/app/A/A.apk", Findings: 2, MaxSeverity: "high"},
			{Package: "com.b", Location: "rom.zip!vendor.img!/vendor/app/B/B.apk", Findings: 1, MaxSeverity: "high"},
		},
		Findings: testFindings(),
	}
	r.Summarise()
	return r
}

func rules(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID+"/"+f.Package)
	}
	return out
}

func TestEntryMatches(t *testing.T) {
	fs := testFindings()
	tests := []struct {
		name  string
		entry Entry
		want  []bool // per testFindings entry
	}{
		{"rule", Entry{Rule: "harvest.device-id"}, []bool{false, true, true, false}},
		{"rule-and-package", Entry{Rule: "harvest.device-id", Package: "com.b"}, []bool{false, false, true, false}},
		{"fingerprint", Entry{Fingerprint: strings.ToUpper(fs[1].Fingerprint)}, []bool{false, true, false, false}},
		{"package", Entry{Package: "com.a"}, []bool{true, true, false, false}},
		{"path-double-star", Entry{Path: "**/vendor/**"}, []bool{false, false, true, false}},
		{"path-star-stays-in-segment", Entry{Path: "rom.zip!system.img!/system/*"}, []bool{false, false, false, true}},
		{"path-star-segments", Entry{Path: "rom.zip!system.img!/system/app/*/*.apk!*"}, []bool{true, true, false, false}},
		{"path-question", Entry{Path: "**classes?.dex"}, []bool{false, false, true, false}},
		{"path-literal-meta", Entry{Path: "rom.zip!system.img!/system/build.prop"}, []bool{false, false, false, true}},
		{"path-no-match", Entry{Path: "other.zip!**"}, []bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.entry
			e.Reason = "test"
			if err := e.check(); err != nil {
				t.Fatal(err)
			}
			var got []bool
			for i := range fs {
				got = append(got, e.Matches(&fs[i]))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

func TestParseIgnores(t *testing.T) {
	tests := []struct {
		name, yaml, err string
		entries         int
	}{
		{"ok", "ignore:\n  - rule: a.b\n    reason: r\n  - fingerprint: abc\n    reason: r\n    until: 2027-01-31\n", "", 2},
		{"empty", "", "", 0},
		{"no-reason", "ignore:\n  - rule: a.b\n", "needs a reason", 0},
		{"blank-reason", "ignore:\n  - rule: a.b\n    reason: '  '\n", "needs a reason", 0},
		{"no-matcher", "ignore:\n  - reason: r\n", "needs one of rule", 0},
		{"bad-date", "ignore:\n  - rule: a\n    reason: r\n    until: 31/01/2027\n", "want YYYY-MM-DD", 0},
		{"unknown-field", "ignore:\n  - rule: a\n    reason: r\n    util: 2027-01-01\n", `unknown field "util"`, 0},
		{"unknown-top", "ignores:\n  - rule: a\n", "not found", 0},
		{"not-a-mapping", "ignore:\n  - a.b\n", "is a mapping", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ig, err := ParseIgnores([]byte(tt.yaml), "ignore.yml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ig.Entries) != tt.entries {
				t.Errorf("got %d entries, want %d", len(ig.Entries), tt.entries)
			}
		})
	}
}

// TestApplyExpiry: an entry hides its findings through its until day, then
// stops hiding them and warns.
func TestApplyExpiry(t *testing.T) {
	ig, err := ParseIgnores([]byte(`ignore:
  - rule: harvest.device-id
    package: com.a
    reason: reviewed in PR 12
    until: 2027-01-31
  - rule: manifest.allow-backup
    reason: accepted
`), "ignore.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		now        time.Time
		want       []string
		suppressed int
		warnings   int
	}{
		{"before", day("2027-01-30 12:00"), []string{"harvest.device-id/com.b", "config.adb/"}, 2, 0},
		{"last-day", day("2027-01-31 23:59"), []string{"harvest.device-id/com.b", "config.adb/"}, 2, 0},
		{"expired", day("2027-02-01 00:00"), []string{"harvest.device-id/com.a", "harvest.device-id/com.b", "config.adb/"}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testReport()
			got := ig.Apply(r, tt.now, nil)
			if diff := cmp.Diff(tt.want, rules(r.Findings)); diff != "" {
				t.Errorf("findings kept (-want +got):\n%s", diff)
			}
			if got.Suppressed != tt.suppressed || r.Summary.SuppressedFindings != tt.suppressed || r.Summary.Findings != len(tt.want) {
				t.Errorf("suppressed %d, summary %+v; want %d suppressed", got.Suppressed, r.Summary, tt.suppressed)
			}
			if len(got.Warnings) != tt.warnings {
				t.Errorf("warnings %q, want %d", got.Warnings, tt.warnings)
			}
			for _, w := range got.Warnings {
				if !strings.Contains(w, "ignore.yml:2:") || !strings.Contains(w, "expired on 2027-01-31") || !strings.Contains(w, "1 finding") {
					t.Errorf("warning %q does not name the file line, the date and the count", w)
				}
			}
		})
	}
}

// TestApplyRecountsApps: an app whose findings are all hidden drops to 0.
func TestApplyRecountsApps(t *testing.T) {
	ig, err := ParseIgnores([]byte("ignore:\n  - package: com.b\n    reason: vendor app, accepted\n"), "i.yml")
	if err != nil {
		t.Fatal(err)
	}
	r := testReport()
	ig.Apply(r, day("2027-01-01 00:00"), nil)
	got := map[string]string{}
	for _, a := range r.Apps {
		got[a.Package] = a.MaxSeverity + "/" + string(rune('0'+a.Findings))
	}
	if diff := cmp.Diff(map[string]string{"com.a": "high/2", "com.b": "info/0"}, got); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestBaselineAndGate(t *testing.T) {
	old := testReport()
	old.Findings = old.Findings[:2] // allow-backup and com.a's device id were known
	var buf strings.Builder
	if err := (report.JSON{}).Render(&buf, old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(path, []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	base, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	r := testReport()
	added, unchanged := base.Mark(r)
	if added != 2 || unchanged != 2 {
		t.Errorf("new %d unchanged %d, want 2 and 2", added, unchanged)
	}
	r.Errors = []report.FileError{{Location: "rom.zip!odm.img", Error: "corrupt"}}
	tests := []struct {
		name string
		gate Gate
		want Verdict
	}{
		{"high-all", Gate{FailOn: finding.High}, Verdict{Failing: 2, Fail: true}},
		{"high-new-only", Gate{FailOn: finding.High, OnlyNew: true}, Verdict{Failing: 1, Fail: true}},
		{"critical-new-only", Gate{FailOn: finding.Critical, OnlyNew: true}, Verdict{}},
		{"medium-new-only", Gate{FailOn: finding.Medium, OnlyNew: true}, Verdict{Failing: 2, Fail: true}},
		{"disabled", Gate{FailOn: finding.Info, Disabled: true}, Verdict{}},
		{"disabled-strict", Gate{Disabled: true, Strict: true}, Verdict{Errors: 1, Fail: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.gate.Check(r)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	// Marking twice does not stack tags.
	base.Mark(r)
	for _, f := range r.Findings {
		n := 0
		for _, tag := range f.Tags {
			if strings.HasPrefix(tag, "baseline:") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s has %d baseline tags", f.RuleID, n)
		}
	}
}

func TestParseBaselineErrors(t *testing.T) {
	for name, data := range map[string]string{
		"not-json":  "ignore: x",
		"no-schema": `{"findings": []}`,
		"major":     `{"schema_version": "9.0", "findings": []}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseBaseline([]byte(data), "b.json"); err == nil {
				t.Error("want an error")
			}
		})
	}
}
