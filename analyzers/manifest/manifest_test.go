package manifest_test

import (
	"path/filepath"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/manifest"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/internal/testutil/scantest"
)

func TestSampleManifests(t *testing.T) {
	apks := filepath.Join(testutil.Samples(t), "apks")
	r := scantest.ScanWith(t, []analyzers.Analyzer{manifest.New()},
		filepath.Join(apks, "harvester.apk"), filepath.Join(apks, "benign.apk"), filepath.Join(apks, "platformapp.apk"))
	got := scantest.RuleSet(r)
	for _, want := range []string{
		"com.example.harvester manifest.exported-receiver com.example.harvester.BootReceiver",
		"com.example.harvester manifest.cleartext-traffic",
		"com.example.harvester manifest.dangerous-permission android.permission.READ_PHONE_STATE",
		"com.example.harvester manifest.dangerous-permission android.permission.READ_SMS",
		"com.example.systemupdater manifest.shared-user-id",
		"com.example.systemupdater manifest.persistent",
		"com.example.systemupdater manifest.privileged-permission android.permission.READ_PRIVILEGED_PHONE_STATE",
	} {
		if !got[want] {
			t.Errorf("missing %q", want)
		}
	}
	for _, notWant := range []string{
		"com.example.notes manifest.exported-activity", // the launcher activity is meant to be public
		"com.example.notes manifest.dangerous-permission",
		"com.example.harvester manifest.shared-user-id",
	} {
		if got[notWant] {
			t.Errorf("unexpected %q", notWant)
		}
	}
	if s := scantest.MaxSeverity(r, "com.example.notes"); s >= finding.Medium {
		t.Errorf("benign app's worst manifest finding is %s, want below medium", s)
	}
}
