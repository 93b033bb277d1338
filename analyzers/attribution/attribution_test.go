package attribution_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/analyzers/attribution"
	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/geoip"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

func TestAnnotate(t *testing.T) {
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	fake := func(ip netip.Addr) (geoip.Info, error) {
		if strings.HasPrefix(ip.String(), "42.62.") {
			return geoip.Info{Country: "CN", ASN: 23724, Org: "IDC, China Telecommunications Corporation"}, nil
		}
		return geoip.Info{}, nil
	}
	in := []finding.Finding{
		{RuleID: "endpoint.ip-literal", Tags: []string{"host:42.62.48.10"}, Evidence: []finding.Evidence{{Location: "a.apk!classes.dex", String: "http://42.62.48.10/upload"}}},
		{RuleID: "endpoint.host", Tags: []string{"host:data.mistat.xiaomi.com"}, Evidence: []finding.Evidence{{Location: "a.apk!classes.dex", String: "data.mistat.xiaomi.com"}}},
		{RuleID: "endpoint.url", Tags: []string{"host:www.example.net"}},
		{RuleID: "manifest.debuggable"},
	}
	out := attribution.Annotate(sigs, fake, "com.x", in)
	got := map[string][]string{}
	for _, f := range out {
		got[f.RuleID] = f.Tags
	}
	want := map[string][]string{
		"endpoint.ip-literal":           {"host:42.62.48.10", "country:CN", "asn:23724", "telemetry:xiaomi-push", "watchlist:xiaomi-beijing-2014"},
		"endpoint.host":                 {"host:data.mistat.xiaomi.com", "tracker:xiaomi-mistats", "telemetry:xiaomi-mistat"},
		"endpoint.url":                  {"host:www.example.net"},
		"manifest.debuggable":           nil,
		"telemetry.xiaomi-push":         {"country:CN", "asn:23724", "host:42.62.48.10"},
		"telemetry.xiaomi-mistat":       {"host:data.mistat.xiaomi.com"},
		"watchlist.xiaomi-beijing-2014": {"country:CN", "asn:23724", "host:42.62.48.10"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	for _, f := range out {
		if f.RuleID == "watchlist.xiaomi-beijing-2014" && (f.Severity != finding.High || f.Package != "com.x" || len(f.References) == 0) {
			t.Errorf("watchlist finding %+v", f)
		}
		if f.RuleID == "endpoint.ip-literal" && !strings.Contains(f.Description, "CN, AS23724 (IDC, China Telecommunications Corporation)") {
			t.Errorf("description %q lacks the attribution", f.Description)
		}
	}
	// Disabled rules add nothing.
	sigs.Disable("watchlist.*")
	for _, f := range attribution.Annotate(sigs, nil, "", in[:1]) {
		if strings.HasPrefix(f.RuleID, "watchlist.") {
			t.Errorf("disabled %s reported", f.RuleID)
		}
	}
}

// TestSampleApps is the acceptance test on the project's sample APKs: rule
// ids, locations and attribution for tracker, nativeurl and harvester, and
// nothing at medium or above for benign.
func TestSampleApps(t *testing.T) {
	dir := filepath.Join(testutil.Samples(t), "apks")
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	var inputs []string
	for _, n := range []string{"tracker.apk", "nativeurl.apk", "harvester.apk", "benign.apk"} {
		inputs = append(inputs, filepath.Join(dir, n))
	}
	rep, err := scan.Run(context.Background(), scan.Config{Inputs: inputs, Limits: extract.DefaultLimits(), Sigs: sigs, Analyzers: list.All()})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Errors {
		t.Errorf("file error: %s: %s", e.Location, e.Error)
	}
	type key struct{ pkg, rule string }
	byKey := map[key][]finding.Finding{}
	for _, f := range rep.Findings {
		byKey[key{f.Package, f.RuleID}] = append(byKey[key{f.Package, f.RuleID}], f)
	}
	evidence := func(pkg, rule string) []string {
		var out []string
		for _, f := range byKey[key{pkg, rule}] {
			for _, e := range f.Evidence {
				s := e.Location
				if e.Class != "" {
					s += " " + e.Class
				}
				if e.String != "" {
					s += " " + e.String
				}
				out = append(out, s)
			}
		}
		sort.Strings(out)
		return out
	}
	tests := []struct {
		pkg, rule string
		want      []string
	}{
		{"com.example.tracker", "tracker.umeng-analytics", []string{"tracker.apk!classes.dex Lcom/umeng/analytics/MobclickAgent;"}},
		{"com.example.tracker", "tracker.xiaomi-mistats", []string{"tracker.apk!classes.dex Lcom/xiaomi/mistats/MiStatInterface;"}},
		{"com.example.tracker", "telemetry.xiaomi-mistat", []string{"tracker.apk!classes.dex Lcom/xiaomi/mistats/MiStatInterface; data.mistat.xiaomi.com"}},
		{"com.example.tracker", "telemetry.xiaomi-tracking", []string{"tracker.apk!classes.dex Lcom/xiaomi/mistats/MiStatInterface; tracking.miui.com"}},
		{"com.example.tracker", "yara.xiaomi_analytics_hosts", []string{"tracker.apk!classes.dex data.mistat.", "tracker.apk!classes.dex tracking.miui.com"}},
		{"com.example.nativeurl", "telemetry.xiaomi-ads", []string{"nativeurl.apk!lib/x86_64/libbeacon.so http://sdkconfig.ad.intl.xiaomi.com/api"}},
		{"com.example.nativeurl", "watchlist.xiaomi-beijing-2014", []string{"nativeurl.apk!lib/x86_64/libbeacon.so 42.62.48.20"}},
		{"com.example.nativeurl", "yara.native_ip_literal", []string{`nativeurl.apk!lib/x86_64/libbeacon.so \x0042.62.48.20\x00`}},
		{"com.example.harvester", "watchlist.xiaomi-beijing-2014", []string{
			"harvester.apk!classes.dex Lcom/example/harvester/HarvestService; 42.62.48.11",
			"harvester.apk!classes.dex Lcom/example/harvester/HarvestService; http://42.62.48.10/upload"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg+"/"+tt.rule, func(t *testing.T) {
			var got []string
			for _, e := range evidence(tt.pkg, tt.rule) {
				// Locations start with the input's path; keep from the APK on.
				if i := strings.LastIndex(e, "/apks/"); i >= 0 {
					e = e[i+len("/apks/"):]
				}
				got = append(got, e)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("evidence (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := geoip.Shared(); err != nil {
		t.Logf("attribution not checked: %v", err)
	} else {
		for _, f := range byKey[key{"com.example.nativeurl", "endpoint.ip-literal"}] {
			if !contains(f.Tags, "country:CN") || !contains(f.Tags, "asn:23724") {
				t.Errorf("42.62.48.20 tags %v, want country:CN and asn:23724", f.Tags)
			}
		}
	}
	for _, f := range rep.Findings {
		if f.Package == "com.example.notes" && f.Severity >= finding.Medium {
			t.Errorf("benign app: %s %s", f.Severity, f.RuleID)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
