package diff

import (
	"math"
	"sort"

	"github.com/romscan/romscan/finding"
)

// Ranking weights. A change's score is its severity weight, times
// privilegedWeight when the app runs with system powers, times
// removedWeight when something went away (a fixed finding, a dropped
// permission): good news ranks below bad news of the same severity. So a
// new high finding in a privileged app (30×2) ranks far above a version
// bump (1).
var severityWeight = map[finding.Severity]float64{
	finding.Info:     1,
	finding.Low:      3,
	finding.Medium:   10,
	finding.High:     30,
	finding.Critical: 100,
}

const (
	privilegedWeight = 2.0
	removedWeight    = 0.25
)

// kindOrder breaks ties between changes of equal score: what an app is
// before what it holds, findings last.
var kindOrder = map[Kind]int{
	KindDevice: 0, KindApp: 1, KindPackage: 2, KindSigner: 3, KindPlacement: 4, KindSharedUserID: 5,
	KindPersistent: 6, KindFlow: 7, KindHarvest: 8, KindGrant: 9, KindPermission: 10, KindComponent: 11,
	KindEndpoint: 12, KindTracker: 13, KindVersion: 14, KindLocation: 15, KindFinding: 16,
}

// Score returns a change's ranking score.
func Score(c *Change) float64 {
	s := severityWeight[c.Severity]
	if s == 0 {
		s = 1
	}
	if c.Privileged {
		s *= privilegedWeight
	}
	if c.Op == Removed {
		s *= removedWeight
	}
	return math.Round(s*100) / 100
}

// Rank scores every change, sorts them most dangerous first (ties in a
// fixed order, so output is deterministic), and ranks the apps by their
// worst change.
func Rank(d *Delta) {
	for i := range d.Changes {
		d.Changes[i].Score = Score(&d.Changes[i])
	}
	sort.SliceStable(d.Changes, func(i, j int) bool { return less(&d.Changes[i], &d.Changes[j]) })
	worst := map[string]float64{}
	for _, c := range d.Changes {
		k := c.Package + "\x00" + c.Location
		if c.Score > worst[k] {
			worst[k] = c.Score
		}
	}
	for i := range d.Apps {
		a := &d.Apps[i]
		loc := ""
		if a.New != nil {
			loc = a.New.Location
		} else if a.Old != nil {
			loc = a.Old.Location
		}
		a.Score = worst[a.Package+"\x00"+loc]
	}
	sort.SliceStable(d.Apps, func(i, j int) bool {
		a, b := &d.Apps[i], &d.Apps[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return appLoc(a) < appLoc(b)
	})
}

func appLoc(a *AppDelta) string {
	if a.New != nil {
		return a.New.Location
	}
	if a.Old != nil {
		return a.Old.Location
	}
	return ""
}

func less(a, b *Change) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if kindOrder[a.Kind] != kindOrder[b.Kind] {
		return kindOrder[a.Kind] < kindOrder[b.Kind]
	}
	if a.Op != b.Op {
		return opOrder(a.Op) < opOrder(b.Op)
	}
	if a.Package != b.Package {
		return a.Package < b.Package
	}
	if a.Field != b.Field {
		return a.Field < b.Field
	}
	if a.Value() != b.Value() {
		return a.Value() < b.Value()
	}
	if a.Location != b.Location {
		return a.Location < b.Location
	}
	fa, fb := "", ""
	if a.Finding != nil {
		fa = a.Finding.Fingerprint
	}
	if b.Finding != nil {
		fb = b.Finding.Fingerprint
	}
	return fa < fb
}

func opOrder(o Op) int {
	switch o {
	case Added:
		return 0
	case Changed:
		return 1
	}
	return 2
}
