package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/xeipuuv/gojsonschema"

	"github.com/romscan/romscan/analyzers/list"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/internal/testutil"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

func mustScan(t testing.TB, inputs ...string) *report.Report {
	t.Helper()
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg := scan.Config{Inputs: inputs, Limits: extract.DefaultLimits(), Sigs: sigs, Analyzers: list.All()}
	r, err := scan.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("scan %v: %v", inputs, err)
	}
	return r
}

var (
	apksOnce sync.Once
	apksRep  *report.Report
)

// corpusAPKs scans the corpus apks/ folder once for all tests.
func corpusAPKs(t *testing.T) *report.Report {
	t.Helper()
	dir := testutil.Corpus(t, "apks")
	apksOnce.Do(func() { apksRep = mustScan(t, dir) })
	if apksRep == nil {
		t.Fatal("scan of the corpus apks/ folder failed earlier")
	}
	return apksRep
}

func render(t *testing.T, r report.Renderer, rep *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		t.Fatalf("render %s: %v", r.Name(), err)
	}
	return buf.Bytes()
}

// sarifSchema returns the official SARIF 2.1.0 JSON schema (errata 01) as
// go-sarif ships it, embedded in its Go source, from the module cache: no
// network at test time.
func sarifSchema(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Skipf("cannot locate the go-sarif module (go list: %v); it ships the SARIF schema", err)
	}
	src, err := os.ReadFile(filepath.Join(string(bytes.TrimSpace(out)), "pkg", "report", "v210", "sarif", "schema.go"))
	if err != nil {
		t.Skipf("go-sarif's schema.go not found: %v", err)
	}
	i, j := bytes.IndexByte(src, '`'), bytes.LastIndexByte(src, '`')
	if i < 0 || j <= i {
		t.Fatal("go-sarif's schema.go holds no schema literal")
	}
	schema := string(src[i+1 : j])
	if !strings.Contains(schema, `"id": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"`) {
		t.Fatal("go-sarif's schema is not the OASIS SARIF 2.1.0 errata 01 schema")
	}
	return schema
}

func validate(t *testing.T, schema string, doc []byte) {
	t.Helper()
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !res.Valid() {
		for i, e := range res.Errors() {
			if i >= 20 {
				t.Errorf("… %d more", len(res.Errors())-i)
				break
			}
			t.Errorf("schema: %s", e)
		}
	}
}

// TestSARIFCorpusValidates checks a scan of the corpus apks/ folder against
// the official SARIF 2.1.0 schema, and the properties GitHub code scanning
// reads.
func TestSARIFCorpusValidates(t *testing.T) {
	schema := sarifSchema(t)
	rep := corpusAPKs(t)
	out := render(t, report.SARIF{}, rep)
	validate(t, schema, out)
	broken := bytes.Replace(out, []byte(`"level": "note"`), []byte(`"level": "fatal"`), 1)
	if res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewBytesLoader(broken)); err != nil || res.Valid() {
		t.Errorf("the SARIF schema accepted a result with level \"fatal\" (err %v)", err)
	}

	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID              string            `json:"ruleId"`
				RuleIndex           int               `json:"ruleIndex"`
				Level               string            `json:"level"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Locations           []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "romscan" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	if got, want := len(run.Results), len(rep.Findings); got != want {
		t.Errorf("got %d results, want one per finding (%d)", got, want)
	}
	for _, rule := range run.Tool.Driver.Rules {
		if _, ok := rule.Properties["security-severity"].(string); !ok {
			t.Errorf("rule %s has no security-severity", rule.ID)
		}
	}
	for i, res := range run.Results {
		if res.RuleIndex < 0 || res.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %d: ruleIndex %d does not point at rule %s", i, res.RuleIndex, res.RuleID)
		}
		if res.PartialFingerprints[report.SARIFFingerprintKey] != rep.Findings[i].Fingerprint {
			t.Errorf("result %d: fingerprint %q, want %q", i, res.PartialFingerprints[report.SARIFFingerprintKey], rep.Findings[i].Fingerprint)
		}
		if len(res.Locations) == 0 || strings.HasPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "/") {
			t.Errorf("result %d: want a relative artifact URI, got %+v", i, res.Locations)
		}
	}
}

// TestJSONReportMatchesSchema validates a real scan's JSON report against
// the schema `romscan schema` prints.
func TestJSONReportMatchesSchema(t *testing.T) {
	var schema bytes.Buffer
	if err := report.WriteJSONSchema(&schema); err != nil {
		t.Fatal(err)
	}
	rep := corpusAPKs(t)
	validate(t, schema.String(), render(t, report.JSON{}, rep))
	validate(t, schema.String(), render(t, report.JSON{}, sampleReport()))

	// And the schema refuses what is not a report.
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema.String()),
		gojsonschema.NewStringLoader(`{"schema_version":"1.0","tool":{},"apps":[],"findings":[{"severity":"dire"}],"errors":[],"summary":{},"extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Valid() {
		t.Error("schema accepted a broken report")
	}
}

// copyAPKs copies the named corpus files into dir (a test's temp dir).
func copyAPKs(t *testing.T, from, dir string, names []string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sarifFingerprints(t *testing.T, rep *report.Report) []string {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(render(t, report.SARIF{}, rep), &log); err != nil {
		t.Fatal(err)
	}
	var fps []string
	for _, r := range log.Runs[0].Results {
		fps = append(fps, r.PartialFingerprints[report.SARIFFingerprintKey])
	}
	sort.Strings(fps)
	return fps
}

// TestFingerprintsStable scans a few corpus APKs twice from two differently
// named folders: the SARIF fingerprints must not change.
func TestFingerprintsStable(t *testing.T) {
	from := testutil.Corpus(t, "apks")
	names := []string{
		"androguard/a2dp.Vol_137.apk",
		"fdroidserver/repo/souch.smsbypass_9.apk",
		"exodus-core/instapaper.apk",
		"fdroidserver/repo/com.politedroid_3.apk",
	}
	tmp := t.TempDir()
	a := filepath.Join(tmp, "first", "apps-under-test")
	b := filepath.Join(tmp, "elsewhere", "deeper", "renamed")
	copyAPKs(t, from, a, names)
	copyAPKs(t, from, b, names)
	fa1 := sarifFingerprints(t, mustScan(t, a))
	fa2 := sarifFingerprints(t, mustScan(t, a))
	fb := sarifFingerprints(t, mustScan(t, b))
	if len(fa1) < 10 {
		t.Fatalf("only %d findings; the test needs APKs with findings", len(fa1))
	}
	if diff := cmp.Diff(fa1, fa2); diff != "" {
		t.Errorf("fingerprints changed between two scans (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(fa1, fb); diff != "" {
		t.Errorf("fingerprints changed when the folder moved (-first +moved):\n%s", diff)
	}
}
