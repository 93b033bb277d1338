package flow

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/internal/testutil"
)

// flowSummary is one flow finding reduced to what the tests check.
type flowSummary struct {
	Rule, Source, SourceMethod, Sink, SinkMethod, Endpoint string
}

func summarise(fs []finding.Finding) (flows []flowSummary, recovered []string) {
	for _, f := range fs {
		switch f.RuleID {
		case RuleExfiltration, RuleLeak:
			src, sink := f.Evidence[0], f.Evidence[1]
			flows = append(flows, flowSummary{Rule: f.RuleID, Source: strings.TrimPrefix(src.Note, "source "),
				SourceMethod: shortMethod(src.Class, strings.SplitN(src.Method, "(", 2)[0]),
				Sink:         sink.API[:strings.Index(sink.API, "(")], SinkMethod: shortMethod(sink.Class, strings.SplitN(sink.Method, "(", 2)[0]),
				Endpoint: sink.String})
		case RuleEndpointFolded:
			recovered = append(recovered, f.Evidence[0].String+" | "+f.Evidence[0].Note)
		}
	}
	return flows, recovered
}

func has(flows []flowSummary, want flowSummary) bool {
	for _, f := range flows {
		if f == want {
			return true
		}
	}
	return false
}

func TestFlowCases(t *testing.T) {
	dir := testutil.Samples(t)
	fs, err := analyzeAPK(t, New(), loadSigs(t), filepath.Join(dir, "apks", "flowcases.apk"))
	if err != nil {
		t.Fatal(err)
	}
	flows, recovered := summarise(fs)
	wantFlows := []flowSummary{
		{RuleExfiltration, "harvest.subscriber-id", "SplitSocket.run", "Ljava/io/OutputStream;->write", "SplitSocket.run", "42.62.48.40:9000"},
		{RuleExfiltration, "harvest.device-id", "StaticField.collect", "Ljava/io/OutputStream;->write", "StaticField.send", "http://42.62.48.50/collect"},
		{RuleExfiltration, "harvest.phone-number", "HelperMethod.run", "Ljava/io/OutputStream;->write", "HelperMethod.sendData", "http://42.62.48.60/line"},
		{RuleExfiltration, "harvest.subscriber-id", "SubscriberLeak.run", "Ljava/net/URL;->openConnection", "SubscriberLeak.run", "http://42.62.48.70/imsi?id="},
	}
	for _, w := range wantFlows {
		if !has(flows, w) {
			t.Errorf("missing flow %+v\ngot %s", w, cmp.Diff(nil, flows))
		}
	}
	for _, f := range fs {
		if f.RuleID == RuleExfiltration && f.Confidence == finding.HighConfidence &&
			(strings.Contains(f.Evidence[0].Class, "Decoy") || strings.Contains(f.Evidence[1].Class, "Decoy")) {
			t.Errorf("decoy reported as a high-confidence exfiltration: %+v", f.Evidence)
		}
		if f.RuleID == RuleBudget {
			t.Errorf("budget exceeded on a small app: %s", f.Description)
		}
	}
	wantRecovered := []string{
		"http://collect.example-telemetry.cn/api | recovered: StringBuilder",
		"https://b64.example-telemetry.cn/beacon | recovered: Base64-decoded constant",
		"xor.example-telemetry.cn:443 | recovered: host and port passed separately to Socket.<init>",
		"42.62.48.40:9000 | recovered: host and port passed separately to InetSocketAddress.<init>",
	}
	for _, w := range wantRecovered {
		found := false
		for _, r := range recovered {
			found = found || r == w
		}
		if !found {
			t.Errorf("endpoint %q not recovered; got:\n%s", w, strings.Join(recovered, "\n"))
		}
	}
	for _, r := range recovered {
		if strings.Contains(r, "unused.example") {
			t.Errorf("decoy endpoint reported as recovered: %s", r)
		}
	}
	// The XOR-ed host is recovered as a string too.
	if !strings.Contains(strings.Join(recovered, "\n"), "XOR") {
		t.Errorf("XOR-ed host not recovered as such; got:\n%s", strings.Join(recovered, "\n"))
	}
	// Case 7 is in classes2.dex.
	for _, f := range fs {
		if f.RuleID == RuleExfiltration && strings.Contains(f.Evidence[0].Class, "SubscriberLeak") && !strings.HasSuffix(f.Evidence[0].Location, "!classes2.dex") {
			t.Errorf("SubscriberLeak evidence location %q, want …!classes2.dex", f.Evidence[0].Location)
		}
	}
}

func TestHarvesterAndPlatformApp(t *testing.T) {
	dir := testutil.Samples(t)
	sigs := loadSigs(t)
	tests := []struct {
		apk  string
		want []flowSummary
	}{
		{"harvester.apk", []flowSummary{
			{RuleExfiltration, "harvest.device-id", "HarvestService.harvest", "Ljava/io/OutputStream;->write", "HarvestService.harvest", "http://42.62.48.10/upload"},
		}},
		{"platformapp.apk", []flowSummary{
			{RuleExfiltration, "harvest.device-id", "UpdateService.report", "Ljava/io/OutputStream;->write", "UpdateService.report", "http://42.62.48.30/report"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.apk, func(t *testing.T) {
			fs, err := analyzeAPK(t, New(), sigs, filepath.Join(dir, "apks", tt.apk))
			if err != nil {
				t.Fatal(err)
			}
			flows, _ := summarise(fs)
			for _, w := range tt.want {
				if !has(flows, w) {
					t.Errorf("missing flow %+v\ngot %s", w, cmp.Diff(nil, flows))
				}
			}
		})
	}
}

func TestBenignHasNoFlow(t *testing.T) {
	dir := testutil.Samples(t)
	fs, err := analyzeAPK(t, New(), loadSigs(t), filepath.Join(dir, "apks", "benign.apk"))
	if err != nil {
		t.Fatal(err)
	}
	if flows, _ := summarise(fs); len(flows) > 0 {
		t.Errorf("benign app has flows: %+v", flows)
	}
}

// TestReflectionAndKeyedContainers: a source read and a helper called only
// through reflection, and a map whose keys keep harvested and constant
// values apart; the decoys (a harmless reflective call, the constant key)
// must produce no flow.
func TestReflectionAndKeyedContainers(t *testing.T) {
	dir := testutil.Samples(t)
	fs, err := analyzeAPK(t, New(), loadSigs(t), filepath.Join(dir, "apks", "reflectcases.apk"))
	if err != nil {
		t.Fatal(err)
	}
	flows, _ := summarise(fs)
	for _, w := range []flowSummary{
		{RuleExfiltration, "harvest.device-id", "ReflectedSource.run", "Ljava/net/URL;->openConnection", "ReflectedSource.upload", "http://42.62.48.80/r?d="},
		{RuleExfiltration, "harvest.device-id", "KeyedMap.run", "Ljava/net/URL;->openConnection", "KeyedMap.sendId", "http://42.62.48.81/v?d="},
	} {
		if !has(flows, w) {
			t.Errorf("missing flow %+v\ngot %s", w, cmp.Diff(nil, flows))
		}
	}
	for _, f := range flows {
		if f.SinkMethod == "KeyedMap.sendOs" || strings.HasPrefix(f.SourceMethod, "DecoyReflection") || f.SinkMethod == "DecoyReflection.run" {
			t.Errorf("decoy reported as a flow: %+v", f)
		}
	}
	for _, f := range fs {
		if f.RuleID == RuleImplicit || f.RuleID == RuleBudget {
			t.Errorf("unexpected %s: %s", f.RuleID, f.Description)
		}
	}
}

// TestProbeSameFindings: looking for a source before the data-flow pass
// (and skipping the pass when there is none) gives the findings of the
// plain run, on apps with and without sources, reflection included.
func TestProbeSameFindings(t *testing.T) {
	sigs := loadSigs(t)
	for _, rel := range []string{
		"droidbench/apk/AndroidSpecific/DirectLeak1.apk",
		"droidbench/apk/Reflection/Reflection3.apk",
		"droidbench/apk/Lifecycle/ActivityLifecycle1.apk",
		"apks/apktool/issue2701.apk",
		"apks/androguard/app-prod-debug.apk",
		"apks/androguard/com.teleca.jamendo_35.apk",
	} {
		t.Run(rel, func(t *testing.T) {
			path := testutil.Corpus(t, rel)
			probed, err1 := analyzeAPK(t, New(), sigs, path)
			plain := New()
			plain.noProbe = true
			full, err2 := analyzeAPK(t, plain, sigs, path)
			if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("errors differ: %v / %v", err1, err2)
			}
			if d := cmp.Diff(full, probed); d != "" {
				t.Errorf("findings differ with the probe (-plain +probe):\n%s", d)
			}
		})
	}
}

// TestSameFindingsEveryRun: an app whose AsyncTask subclasses have two
// doInBackground methods (the bridge and the typed one) gets the same
// findings in the same order on every run (methods were once taken in map
// order, and which flows came first, and their paths, varied).
func TestSameFindingsEveryRun(t *testing.T) {
	sigs := loadSigs(t)
	path := testutil.Corpus(t, "apks/androguard/com.teleca.jamendo_35.apk")
	first, err := analyzeAPK(t, New(), sigs, path)
	if err != nil || len(first) == 0 {
		t.Fatalf("%d findings, %v", len(first), err)
	}
	for i := 0; i < 10; i++ {
		again, _ := analyzeAPK(t, New(), sigs, path)
		if d := cmp.Diff(first, again); d != "" {
			t.Fatalf("run %d differs (-first +again):\n%s", i+2, d)
		}
	}
}
