package policy

import (
	"testing"
	"time"

	"github.com/romscan/romscan/finding"
)

// FuzzParseIgnores: no panic on any ignore file, and every parsed entry
// can be matched against a finding.
func FuzzParseIgnores(f *testing.F) {
	f.Add([]byte("ignore:\n  - rule: a.b\n    reason: r\n    until: 2027-01-31\n"))
	f.Add([]byte("ignore:\n  - path: \"**/x/*?\"\n    reason: r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ig, err := ParseIgnores(data, "fuzz.yml")
		if err != nil {
			return
		}
		fd := finding.Finding{RuleID: "a.b", Package: "p", Evidence: []finding.Evidence{{Location: "a!b/x/y"}}}
		for i := range ig.Entries {
			ig.Entries[i].Matches(&fd)
			ig.Entries[i].Expired(time.Unix(0, 0))
		}
	})
}

// FuzzParseBaseline: no panic on any baseline file.
func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte(`{"schema_version":"1.0","findings":[{"fingerprint":"abc"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ParseBaseline(data, "fuzz.json")
	})
}
