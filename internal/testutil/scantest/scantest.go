// Package scantest runs real scans for analyzer tests (kept apart from
// testutil, which the scan package's own tests import).
package scantest

import (
	"context"
	"testing"

	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/scan"
	"github.com/romscan/romscan/signatures"
)

// ScanWith runs a scan of paths with the given analyzers only, for tests of
// one analyzer on real files.
func ScanWith(t testing.TB, as []analyzers.Analyzer, paths ...string) *report.Report {
	t.Helper()
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	r, err := scan.Run(context.Background(), scan.Config{Inputs: paths, Limits: extract.DefaultLimits(), Sigs: sigs, Analyzers: as})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// RuleSet lists "package rule-id" for each finding, and "package rule-id
// string" for each evidence string, so tests can check what was reported.
func RuleSet(r *report.Report) map[string]bool {
	out := map[string]bool{}
	for _, f := range r.Findings {
		out[f.Package+" "+f.RuleID] = true
		for _, e := range f.Evidence {
			if e.String != "" {
				out[f.Package+" "+f.RuleID+" "+e.String] = true
			}
		}
	}
	return out
}

// MaxSeverity returns the worst severity among a package's findings.
func MaxSeverity(r *report.Report, pkg string) finding.Severity {
	max := finding.Info
	for _, f := range r.Findings {
		if f.Package == pkg && f.Severity > max {
			max = f.Severity
		}
	}
	return max
}
