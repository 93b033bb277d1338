package diff_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/report/diff"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mkReport(apps []report.App, fs ...finding.Finding) *report.Report {
	r := &report.Report{SchemaVersion: report.SchemaVersion, Apps: apps, Findings: []finding.Finding{}, Errors: []report.FileError{}}
	for _, f := range fs {
		f.ComputeFingerprint()
		r.Findings = append(r.Findings, f)
	}
	return r
}

func app(pkg, loc string) report.App {
	place := "app"
	if strings.Contains(loc, "/priv-app/") {
		place = "priv-app"
	}
	return report.App{Package: pkg, Location: loc, VersionCode: 1, Placement: place, Partition: "system",
		Signers: []report.Signer{{SHA256: "aa"}}}
}

func hit(rule, pkg, loc string, sev finding.Severity) finding.Finding {
	return finding.Finding{RuleID: rule, Title: rule, Severity: sev, Package: pkg,
		Evidence: []finding.Evidence{{Location: loc + "!classes.dex", Class: "LX;", API: rule}}}
}

func describeAll(d *diff.Delta) []string {
	var out []string
	for _, c := range d.Changes {
		s := describe(c)
		if c.Finding != nil {
			s = string(c.Kind) + " " + string(c.Op) + " " + c.Package + " " + c.Finding.RuleID
		}
		out = append(out, s+" @"+c.Location)
	}
	return out
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name     string
		old, new *report.Report
		want     []string // in rank order
	}{
		{
			name: "same",
			old:  mkReport([]report.App{app("a", "x.img!/app/A/A.apk")}, hit("harvest.sms", "a", "x.img!/app/A/A.apk", finding.Medium)),
			new:  mkReport([]report.App{app("a", "y.img!/app/A/A.apk")}, hit("harvest.sms", "a", "y.img!/app/A/A.apk", finding.Medium)),
		},
		{
			name: "new-high-in-privileged-app-above-version-bump",
			old: mkReport([]report.App{app("a", "s.img!/priv-app/A/A.apk"), app("b", "s.img!/app/B/B.apk")},
				hit("harvest.sms", "a", "s.img!/priv-app/A/A.apk", finding.Medium)),
			new: mkReport([]report.App{app("a", "s.img!/priv-app/A/A.apk"), func() report.App { b := app("b", "s.img!/app/B/B.apk"); b.VersionCode = 2; return b }()},
				hit("harvest.sms", "a", "s.img!/priv-app/A/A.apk", finding.Medium), hit("flow.imei-to-http", "a", "s.img!/priv-app/A/A.apk", finding.High)),
			want: []string{
				"flow added a: flow.imei-to-http @s.img!/priv-app/A/A.apk",
				"finding added a flow.imei-to-http @s.img!/priv-app/A/A.apk",
				"version changed b: 1 -> 2 @s.img!/app/B/B.apk",
			},
		},
		{
			name: "renamed-at-the-same-path",
			old:  mkReport([]report.App{app("com.old", "s.img!/app/A/A.apk")}),
			new:  mkReport([]report.App{app("com.new", "s.img!/app/A/A.apk")}),
			want: []string{"package changed com.new: com.old -> com.new @s.img!/app/A/A.apk"},
		},
		{
			name: "renamed-and-moved-is-added-and-removed",
			old:  mkReport([]report.App{app("com.old", "s.img!/app/A/A.apk")}),
			new:  mkReport([]report.App{app("com.new", "s.img!/app/B/B.apk")}),
			want: []string{"app added com.new: com.new 1 @s.img!/app/B/B.apk", "app removed com.old: com.old 1 @s.img!/app/A/A.apk"},
		},
		{
			name: "several-locations-matched-by-path",
			old: mkReport([]report.App{app("a", "rom/s.img!/app/A/A.apk"), app("a", "rom/s.img!/app/A2/A.apk")},
				hit("harvest.sms", "a", "rom/s.img!/app/A2/A.apk", finding.Medium)),
			new: mkReport([]report.App{func() report.App { a := app("a", "rom2/s.img!/app/A2/A.apk"); a.VersionCode = 2; return a }(), app("a", "rom2/s.img!/app/A/A.apk")},
				hit("harvest.sms", "a", "rom2/s.img!/app/A2/A.apk", finding.Medium)),
			want: []string{"version changed a: 1 -> 2 @rom2/s.img!/app/A2/A.apk"},
		},
		{
			name: "moved-to-priv-app",
			old:  mkReport([]report.App{app("a", "s.img!/app/A/A.apk")}, hit("harvest.sms", "a", "s.img!/app/A/A.apk", finding.Medium)),
			new:  mkReport([]report.App{app("a", "s.img!/priv-app/A/A.apk")}, hit("harvest.sms", "a", "s.img!/priv-app/A/A.apk", finding.Medium)),
			want: []string{"placement changed a: system/app -> system/priv-app @s.img!/priv-app/A/A.apk"},
		},
		{
			name: "global-findings-ignore-the-input-name",
			old: mkReport([]report.App{app("a", "old.img!/app/A/A.apk")},
				finding.Finding{RuleID: "device.test-keys", Severity: finding.High, Evidence: []finding.Evidence{{Location: "old.img!/build.prop", String: "ro.build.tags=test-keys"}}}),
			new: mkReport([]report.App{app("a", "new.img!/app/A/A.apk")},
				finding.Finding{RuleID: "device.test-keys", Severity: finding.High, Evidence: []finding.Evidence{{Location: "new.img!/build.prop", String: "ro.build.tags=test-keys"}}}),
		},
		{
			name: "grants-signer-shared-uid",
			old: mkReport([]report.App{app("a", "s.img!/priv-app/A/A.apk")},
				finding.Finding{RuleID: "context.default-grant", Severity: finding.Medium, Package: "a", Evidence: []finding.Evidence{{Location: "s.img!/priv-app/A/A.apk", String: "android.permission.READ_SMS"}}}),
			new: mkReport([]report.App{func() report.App {
				a := app("a", "s.img!/priv-app/A/A.apk")
				a.Signers = []report.Signer{{SHA256: "bb", Scheme: 2}, {SHA256: "bb", Scheme: 1}}
				a.SharedUserID = "android.uid.system"
				return a
			}()}),
			want: []string{
				"signer changed a: aa -> bb @s.img!/priv-app/A/A.apk",
				"shared-user-id added a: android.uid.system @s.img!/priv-app/A/A.apk",
				"finding removed a context.default-grant @s.img!/priv-app/A/A.apk",
				"grant removed default a: android.permission.READ_SMS @s.img!/priv-app/A/A.apk",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := diff.Compare(tc.old, tc.new, diff.Options{})
			if d := cmp.Diff(tc.want, describeAll(d)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			// The reverse holds the same number of changes.
			if r := diff.Compare(tc.new, tc.old, diff.Options{}); len(r.Changes) != len(d.Changes) {
				t.Errorf("reverse has %d changes, forward %d", len(r.Changes), len(d.Changes))
			}
		})
	}
}

func TestReadReport(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"ok", `{"schema_version":"1.0","apps":[],"findings":[]}`, nil},
		{"newer-minor", `{"schema_version":"1.7","apps":[],"extra":1}`, nil},
		{"other-major", `{"schema_version":"2.0","apps":{"changed":"shape"}}`, diff.ErrSchema},
		{"no-version", `{"apps":[]}`, diff.ErrNotReport},
		{"delta", `{"schema_version":"1.0","changes":[]}`, diff.ErrNotReport},
		{"truncated", `{"schema_version":"1.0","apps":[`, diff.ErrNotReport},
		{"array", `[1,2]`, diff.ErrNotReport},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := diff.ReadReport(strings.NewReader(tc.in))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
	// Files that do not start like JSON are for scanning.
	p := filepath.Join(t.TempDir(), "x.img")
	os.WriteFile(p, []byte("\x00\x01binary"), 0o644)
	if _, isJSON, err := diff.ReadReportFile(p); isJSON || err != nil {
		t.Errorf("binary file: isJSON %v, err %v", isJSON, err)
	}
}

func FuzzReadReport(f *testing.F) {
	f.Add([]byte(`{"schema_version":"1.0","apps":[{"package":"a","location":"x!y"}],"findings":[{"rule_id":"r","severity":"high","evidence":[{"location":"x"}]}]}`))
	f.Add([]byte(`{"schema_version":"9.0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := diff.ReadReport(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever decoded compares without panicking, with itself to nothing.
		if d := diff.Compare(r, r, diff.Options{}); !d.Empty() {
			var got []string
			for _, c := range d.Changes {
				got = append(got, describe(c))
			}
			sort.Strings(got)
			t.Errorf("a report compared with itself has changes: %v", got)
		}
	})
}

// TestRenderGolden renders a small delta in every format.
func TestRenderGolden(t *testing.T) {
	old := mkReport([]report.App{app("com.example.a", "s.img!/app/A/A.apk")})
	old.Device = &report.Device{Fingerprint: "x/y:13/1", SecurityPatch: "2023-09-05"}
	newApp := app("com.example.a", "s.img!/priv-app/A/A.apk")
	newApp.Permissions = []string{"android.permission.READ_SMS"}
	new := mkReport([]report.App{newApp, app("com.example.b\x1b[31m", "s.img!/app/B/B.apk")},
		hit("harvest.sms", "com.example.a", "s.img!/priv-app/A/A.apk", finding.Medium))
	new.Device = &report.Device{Fingerprint: "x/y:13/2", SecurityPatch: "2023-10-05"}
	d := diff.Compare(old, new, diff.Options{Tool: report.Tool{Name: "romscan", Version: "test"}})
	for name, r := range diff.Renderers(diff.RenderOptions{}) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := r.Render(&buf, d); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", "delta."+name)
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if d := cmp.Diff(string(want), buf.String()); d != "" {
				t.Errorf("%s output (-golden +got):\n%s", name, d)
			}
			if name == "table" && strings.Contains(buf.String(), "\x1b") {
				t.Error("the table lets an escape sequence through")
			}
		})
	}
}

// TestFlowChangeSeverity checks that a flow rule that appears is rated by
// the severity its findings carry: a new low implicit flow must not fail a
// --fail-on high diff as if it were a new exfiltration.
func TestFlowChangeSeverity(t *testing.T) {
	loc := "s.img!/priv-app/A/A.apk"
	old := mkReport([]report.App{app("a", loc)})
	cases := []struct {
		rule string
		sev  finding.Severity
	}{
		{"flow.exfiltration", finding.High},
		{"flow.leak", finding.Medium},
		{"flow.implicit", finding.Low},
		{"flow.budget-exceeded", finding.Info},
	}
	for _, tc := range cases {
		t.Run(tc.rule, func(t *testing.T) {
			d := diff.Compare(old, mkReport([]report.App{app("a", loc)}, hit(tc.rule, "a", loc, tc.sev)), diff.Options{})
			var got []finding.Severity
			for _, c := range d.Changes {
				if c.Kind == diff.KindFlow {
					got = append(got, c.Severity)
				}
			}
			if len(got) != 1 || got[0] != tc.sev {
				t.Errorf("flow change severities %v, want [%v]", got, tc.sev)
			}
		})
	}
}
