package report

import (
	"math"
	"strings"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/signatures"
)

// ScoreApp computes an app's risk score from its findings and context flags:
// the sum of severity × confidence weights, raised by privileged placement,
// plus bonuses when the app combines harvesting, a network sink and a
// hardcoded endpoint (the pattern romscan exists to find).
func ScoreApp(fs []finding.Finding, flags []string, w *signatures.Weights) float64 {
	var sum float64
	var harvest, sink, endpoint bool
	for _, f := range fs {
		sum += w.SeverityWeight(f.Severity) * w.ConfidenceWeight(f.Confidence)
		switch {
		case strings.HasPrefix(f.RuleID, "harvest.") && f.Severity >= finding.Medium:
			harvest = true
		case strings.HasPrefix(f.RuleID, "sink.") && f.Category == "network":
			sink = true
		case strings.HasPrefix(f.RuleID, "endpoint."):
			endpoint = true
		}
		// A proven flow off the device is harvesting and a network sink at
		// once, a flow to a log or file is harvesting; an implicit flow (low
		// confidence) or a budget note proves neither.
		switch f.RuleID {
		case "flow.exfiltration", "harvest.exfiltration":
			harvest, sink = true, true
		case "flow.leak":
			harvest = true
		}
	}
	switch {
	case harvest && sink && endpoint:
		sum += w.Combinations["harvest+sink+endpoint"]
	case harvest && sink:
		sum += w.Combinations["harvest+sink"]
	case harvest && endpoint:
		sum += w.Combinations["harvest+endpoint"]
	}
	mult := 1.0
	for _, fl := range flags {
		if m, ok := w.Context[fl]; ok {
			mult *= m
		}
	}
	return math.Round(sum*mult*10) / 10
}
