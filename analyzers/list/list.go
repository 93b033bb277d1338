// Package list names every analyzer that a scan runs. No init()
// registration: what runs is listed here, and a test checks the names are
// unique.
package list

import (
	"github.com/romscan/romscan/analyzers"
	"github.com/romscan/romscan/analyzers/attribution"
	"github.com/romscan/romscan/analyzers/endpoints"
	"github.com/romscan/romscan/analyzers/flow"
	"github.com/romscan/romscan/analyzers/harvesting"
	"github.com/romscan/romscan/analyzers/manifest"
	"github.com/romscan/romscan/analyzers/signing"
	"github.com/romscan/romscan/analyzers/trackers"
	"github.com/romscan/romscan/analyzers/yara"
)

// All returns every analyzer, in the order they run on a target.
func All() []analyzers.Analyzer {
	return []analyzers.Analyzer{
		manifest.New(),
		signing.New(),
		harvesting.New(),
		// Endpoints with their owners: trackers, telemetry services,
		// watchlists, and the country and AS of IP literals.
		attribution.Wrap(endpoints.New()),
		trackers.New(),
		yara.New(),
		// The flow analyzer's recovered endpoints get the same attribution.
		attribution.Wrap(flow.New()),
	}
}
