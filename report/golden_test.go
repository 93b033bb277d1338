package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden renders the sample report in every format and compares with
// testdata/golden; `go test ./report/... -run Golden -update` rewrites them.
func TestGolden(t *testing.T) {
	ext := map[string]string{"table": "txt", "json": "json", "sarif": "sarif", "html": "html", "markdown": "md"}
	renderers := report.Renderers(report.Options{MinSeverity: finding.Info, MaxApps: 10})
	for name, r := range renderers {
		t.Run(name, func(t *testing.T) {
			e, ok := ext[name]
			if !ok {
				t.Fatalf("renderer %q has no golden file extension; add it to the test", name)
			}
			var buf bytes.Buffer
			if err := r.Render(&buf, sampleReport()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", "sample."+e)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run `make golden` to create it)", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output differs from %s (-want +got; `make golden` rewrites it):\n%s", name, path, diff)
			}
		})
	}
}
