package harvesting_test

import (
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/harvesting"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/internal/testutil/scantest"
)

func TestSampleHarvesting(t *testing.T) {
	apks := filepath.Join(testutil.Samples(t), "apks")
	r := scantest.ScanWith(t, []analyzers.Analyzer{harvesting.New()},
		filepath.Join(apks, "harvester.apk"), filepath.Join(apks, "benign.apk"))
	got := scantest.RuleSet(r)
	for _, want := range []string{
		"com.example.harvester harvest.device-id",
		"com.example.harvester harvest.phone-number",
		"com.example.harvester harvest.carrier",
		"com.example.harvester harvest.contacts",
		"com.example.harvester harvest.sms content://sms/inbox",
		"com.example.harvester sink.http-urlconnection",
		"com.example.harvester sink.socket",
		"com.example.harvester harvest.source-and-sink-in-method",
	} {
		if !got[want] {
			t.Errorf("missing %q", want)
		}
	}
	if s := scantest.MaxSeverity(r, "com.example.notes"); s > finding.Info {
		t.Errorf("benign app's worst harvesting finding is %s, want info at most", s)
	}
	for _, f := range r.Findings {
		if f.RuleID == "harvest.device-id" && f.Severity > finding.Medium {
			t.Errorf("reading the IMEI alone is %s, want medium at most", f.Severity)
		}
	}
}

// TestReflectionSource finds a source called by name through reflection
// (DroidBench Reflection/Reflection1 calls getDeviceId that way).
func TestReflectionSource(t *testing.T) {
	apk := testutil.Corpus(t, "droidbench/apk/Reflection/Reflection3.apk")
	r := scantest.ScanWith(t, []analyzers.Analyzer{harvesting.New()}, apk)
	for _, f := range r.Findings {
		if f.RuleID == "harvest.device-id" {
			return
		}
	}
	t.Errorf("no harvest.device-id in %v", scantest.RuleSet(r))
}
