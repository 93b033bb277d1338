package report_test

import (
	"testing"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// TestScoreAppCombinations checks that only proven flows off the device earn
// the harvest+sink bonus: a low-confidence implicit flow or a budget note
// beside an endpoint must not rank an app like one that sends data out.
func TestScoreAppCombinations(t *testing.T) {
	sigs, err := signatures.Load()
	if err != nil {
		t.Fatal(err)
	}
	w := sigs.Weights
	f := func(rule string, sev finding.Severity, conf finding.Confidence) finding.Finding {
		return finding.Finding{RuleID: rule, Severity: sev, Confidence: conf}
	}
	endpoint := f("endpoint.ip-literal", finding.Low, finding.MediumConfidence)
	base := func(fs ...finding.Finding) float64 {
		var sum float64
		for _, x := range fs {
			sum += w.SeverityWeight(x.Severity) * w.ConfidenceWeight(x.Confidence)
		}
		return sum
	}
	cases := []struct {
		name  string
		fs    []finding.Finding
		bonus float64
	}{
		{"exfiltration-and-endpoint", []finding.Finding{f("flow.exfiltration", finding.High, finding.HighConfidence), endpoint}, w.Combinations["harvest+sink+endpoint"]},
		{"exfiltration-alone", []finding.Finding{f("flow.exfiltration", finding.High, finding.HighConfidence)}, w.Combinations["harvest+sink"]},
		{"leak-to-log-and-endpoint", []finding.Finding{f("flow.leak", finding.Medium, finding.HighConfidence), endpoint}, w.Combinations["harvest+endpoint"]},
		{"implicit-and-endpoint", []finding.Finding{f("flow.implicit", finding.Medium, finding.LowConfidence), endpoint}, 0},
		{"budget-and-endpoint", []finding.Finding{f("flow.budget-exceeded", finding.Info, finding.HighConfidence), endpoint}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := report.ScoreApp(tc.fs, nil, w)
			want := base(tc.fs...) + tc.bonus
			if diff := got - want; diff > 0.05 || diff < -0.05 {
				t.Errorf("score %.1f, want %.1f (bonus %.1f)", got, want, tc.bonus)
			}
		})
	}
}
