package signatures

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

// TestCatalogueExamples runs every entry's match and nomatch examples, one
// subtest per rule id.
func TestCatalogueExamples(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Catalogue.Trackers); n < 40 {
		t.Errorf("%d tracker entries, want at least 40", n)
	}
	if len(s.Catalogue.Telemetry) < 8 || len(s.Catalogue.Watchlists) < 1 || len(s.Yara) == 0 {
		t.Errorf("catalogues too small: %d telemetry, %d watchlists, %d YARA files", len(s.Catalogue.Telemetry), len(s.Catalogue.Watchlists), len(s.Yara))
	}
	failures := map[string][]string{}
	for _, f := range s.RunExamples() {
		failures[f.ID] = append(failures[f.ID], f.String())
	}
	for _, id := range s.RuleIDs() {
		t.Run(id, func(t *testing.T) {
			for _, f := range failures[id] {
				t.Error(f)
			}
		})
	}
}

func TestHostPattern(t *testing.T) {
	tests := []struct {
		pattern string
		hosts   map[string]bool
	}{
		{"tracking.miui.com", map[string]bool{"tracking.miui.com": true, "a.tracking.miui.com": true, "tracking.miui.com.": true, "xtracking.miui.com": false, "tracking.miui.com.cn": false}},
		{"data.mistat.*.xiaomi.com", map[string]bool{"data.mistat.xiaomi.com": true, "data.mistat.intl.xiaomi.com": true, "data.mistat.a.b.xiaomi.com": true, "data.mistatx.xiaomi.com": false}},
		{"*.shalltry.com", map[string]bool{"shalltry.com": true, "a.shalltry.com": true, "shalltry.com.evil": false}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			re, err := HostPattern(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for h := range tt.hosts {
				got[h] = re.MatchString(h)
			}
			if diff := cmp.Diff(tt.hosts, got); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

// TestBadRuleFoldersFailClearly loads hostile rule folders on top of the
// embedded set: each must fail with an error naming the file, the entry and
// what is wrong.
func TestBadRuleFoldersFailClearly(t *testing.T) {
	entry := func(extra string) string {
		return "version: 1\nentries:\n- id: %s\n  name: n\n  references: [https://example.org/r]\n" + extra
	}
	tests := []struct{ name, file, content, want string }{
		{"bad-cidr", "catalog/watchlists.yaml", strings.Replace(entry("  cidrs: [42.62.48.0/33]\n"), "%s", "watchlist.x", 1), "bad CIDR \"42.62.48.0/33\""},
		{"bad-regex", "catalog/trackers.yaml", strings.Replace(entry("  code_regex: [\"com.(foo\"]\n"), "%s", "tracker.x", 1), "bad regular expression"},
		{"bad-host", "catalog/telemetry.yaml", strings.Replace(entry("  hosts: [\"data.mi*t.com\"]\n"), "%s", "telemetry.x", 1), "wildcard stands for whole labels"},
		{"bad-prefix", "catalog/telemetry.yaml", strings.Replace(entry("  hosts: [a.com]\n"), "%s", "tracker.x", 1), "must start with \"telemetry.\""},
		{"duplicate", "catalog/trackers.yaml", strings.Replace(entry("  code: [com.umeng.]\n"), "%s", "tracker.umeng-analytics", 1), "already defined"},
		{"no-reference", "catalog/trackers.yaml", "version: 1\nentries:\n- {id: tracker.x, name: n, code: [com.x.y]}\n", "needs at least one reference"},
		{"bad-country", "catalog/watchlists.yaml", strings.Replace(entry("  countries: [China]\n"), "%s", "watchlist.x", 1), "not an ISO 3166-1"},
		{"unknown-field", "config.yaml", "version: 1\ndisabled: [x]\n", "field disabled not found"},
		{"binary", "catalog/trackers.yaml", "\x00\x01\x02\xff", "parse"},
		{"huge", "catalog/trackers.yaml", strings.Repeat("#", maxCatalogueFile+1), "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load()
			if err != nil {
				t.Fatal(err)
			}
			err = s.Merge(fstest.MapFS{tt.file: {Data: []byte(tt.content)}}, "user-rules")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "user-rules/") {
				t.Fatalf("err = %v, want it to name user-rules/%s and mention %q", err, tt.file, tt.want)
			}
		})
	}
}

func TestMergeAddsRulesAndChangesVersion(t *testing.T) {
	s, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	before := s.Version
	err = s.Merge(fstest.MapFS{
		"catalog/watchlists.yaml": {Data: []byte("version: 1\nentries:\n- id: watchlist.mine\n  name: mine\n  domains: [evil.example.cn]\n  references: [https://example.org/r]\n  examples: {match: [a.evil.example.cn], nomatch: [example.cn]}\n")},
		"yara/mine.yar":           {Data: []byte("rule mine { condition: false }\n")},
		"config.yaml":             {Data: []byte("version: 1\ndisable: [tracker.google-admob, yara.native_ip_*]\n")},
	}, "mine")
	if err != nil {
		t.Fatal(err)
	}
	if s.Version == before {
		t.Error("version unchanged by a merge")
	}
	if got := s.Yara[len(s.Yara)-1].Name; got != "mine/yara/mine.yar" {
		t.Errorf("last YARA source %q", got)
	}
	if !s.Disabled("tracker.google-admob") || !s.Disabled("yara.native_ip_literal") || s.Disabled("tracker.umeng-analytics") {
		t.Errorf("disable list wrong: %v", s.DisabledIDs())
	}
	if f := s.RunExamples(); len(f) != 0 {
		t.Errorf("examples fail after merge: %v", f)
	}
	w := s.Catalogue.Watchlists[len(s.Catalogue.Watchlists)-1]
	if how, ok := w.Match("x.evil.example.cn", ""); !ok || how != "domain" {
		t.Errorf("Match = %q, %v", how, ok)
	}
}
