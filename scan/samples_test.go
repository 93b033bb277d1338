package scan

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
)

// TestSampleHarvesterRanksFirst scans the sample harvester with apps that do
// not exfiltrate: the harvester must rank first with high findings, and the
// benign app must have nothing at medium or above.
func TestSampleHarvesterRanksFirst(t *testing.T) {
	apks := filepath.Join(testutil.Samples(t), "apks")
	var inputs []string
	for _, n := range []string{"benign.apk", "harvester.apk", "tracker.apk", "nativeurl.apk", "weather.apk", "framework-res.apk"} {
		inputs = append(inputs, filepath.Join(apks, n))
	}
	r := mustScan(t, inputs...)
	if len(r.Apps) != len(inputs) {
		t.Fatalf("%d apps, want %d", len(r.Apps), len(inputs))
	}
	if got := r.Apps[0].Package; got != "com.example.harvester" {
		t.Errorf("first app %s, want com.example.harvester", got)
	}
	if r.Apps[0].MaxSeverity != "high" {
		t.Errorf("harvester's worst finding is %s, want high", r.Apps[0].MaxSeverity)
	}
	var harvesterEndpoints []string
	for _, f := range r.Findings {
		if f.Package == "com.example.notes" && f.Severity >= finding.Medium {
			t.Errorf("benign app has %s finding %s: %s", f.Severity, f.RuleID, f.Title)
		}
		if f.Package == "com.example.harvester" && strings.HasPrefix(f.RuleID, "endpoint.") {
			harvesterEndpoints = append(harvesterEndpoints, f.Evidence[0].String)
		}
	}
	sort.Strings(harvesterEndpoints)
	want := []string{"42.62.48.11", "42.62.48.11:8443", "http://42.62.48.10/upload"}
	if diff := cmp.Diff(want, harvesterEndpoints); diff != "" {
		t.Errorf("harvester endpoints (-want +got):\n%s", diff)
	}
}

// appFacts is what must agree between the forms of one ROM: the apps (by
// their path inside the system tree) and their findings' fingerprints.
func appFacts(r *report.Report) map[string][]string {
	out := map[string][]string{}
	inner := func(loc string) string {
		// ".../system.img!/priv-app/X/X.apk" and "rom-v1/system/priv-app/X/X.apk"
		// both become "priv-app/X/X.apk".
		if i := strings.LastIndex(loc, "!/"); i >= 0 {
			return loc[i+2:]
		}
		return strings.TrimPrefix(loc, "system/")
	}
	byPkg := map[string][]string{}
	for _, f := range r.Findings {
		if f.Package != "" {
			byPkg[f.Package] = append(byPkg[f.Package], f.RuleID+" "+f.Title)
		}
	}
	for _, a := range r.Apps {
		fs := append([]string{}, byPkg[a.Package]...)
		sort.Strings(fs)
		out[inner(a.Location)] = fs
	}
	return out
}

// TestSampleROMFormsAgree scans every form of sample ROM v1 (folder, ext4,
// sparse, block OTA, fastboot tgz, EROFS) and requires the same apps with
// the same findings from each.
func TestSampleROMFormsAgree(t *testing.T) {
	rom := filepath.Join(testutil.Samples(t), "rom-v1")
	forms := []string{"system", "system.img", "system.simg", "ota-block.zip", "fastboot.tgz", "system.erofs"}
	var want map[string][]string
	for _, form := range forms {
		r := mustScan(t, filepath.Join(rom, form))
		if len(r.Errors) > 0 {
			t.Errorf("%s: errors: %v", form, r.Errors)
		}
		got := appFacts(r)
		if len(got) < 5 {
			t.Errorf("%s: only %d apps", form, len(got))
		}
		if want == nil {
			want = got
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s differs from %s (-%s +%s):\n%s", form, forms[0], forms[0], form, diff)
		}
		inPlace := form == "system" || form == "system.img" || form == "system.simg" || form == "system.erofs"
		if inPlace && r.Summary.SpilledBytes != 0 {
			t.Errorf("%s: %d bytes written to temp files, want 0 (read in place)", form, r.Summary.SpilledBytes)
		}
		if r.Device == nil || r.Device.AndroidVersion != "13" || !strings.Contains(r.Device.BuildTags, "test-keys") {
			t.Errorf("%s: device context %+v", form, r.Device)
		}
	}
}
