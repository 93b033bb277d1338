// Package report is the outcome of a scan: apps ranked worst first, their
// findings, the device context, and every file that could not be read. It
// holds no wall-clock time, so two scans of the same input are identical.
package report

import (
	"sort"

	"github.com/romscan/romscan/finding"
)

// SchemaVersion is the version of the JSON report layout. Bump the minor
// for additions, the major for changes that break readers.
const SchemaVersion = "1.0"

// Tool names the program that made the report.
type Tool struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	RulesVersion string `json:"rules_version"`
}

// Input is one scanned path.
type Input struct {
	Name   string `json:"name"` // base name, never a host path
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // of a file input; empty for folders
	Kind   string `json:"kind"`             // file | folder
}

// Device is what build.prop files say about the firmware.
type Device struct {
	Brand          string            `json:"brand,omitempty"`
	Manufacturer   string            `json:"manufacturer,omitempty"`
	Model          string            `json:"model,omitempty"`
	Device         string            `json:"device,omitempty"`
	AndroidVersion string            `json:"android_version,omitempty"`
	SDK            string            `json:"sdk,omitempty"`
	Fingerprint    string            `json:"fingerprint,omitempty"`
	SecurityPatch  string            `json:"security_patch,omitempty"`
	BuildTags      string            `json:"build_tags,omitempty"`
	BuildType      string            `json:"build_type,omitempty"`
	Sources        []string          `json:"sources,omitempty"` // build.prop locations read
	Props          map[string]string `json:"props,omitempty"`   // selected raw properties
}

// Container is an image or archive met on the way (partitions, zips).
type Container struct {
	Location string `json:"location"`
	Format   string `json:"format"`
	Size     int64  `json:"size"`
}

// Signer is an app's signing certificate, summarised.
type Signer struct {
	SHA256  string `json:"sha256"`
	Subject string `json:"subject,omitempty"`
	Scheme  int    `json:"scheme,omitempty"`
	Debug   bool   `json:"debug,omitempty"`
}

// App is one app (APK, or code linked to an app by path) with its score.
type App struct {
	Package      string   `json:"package,omitempty"`
	VersionCode  int64    `json:"version_code,omitempty"`
	VersionName  string   `json:"version_name,omitempty"`
	Label        string   `json:"label,omitempty"`
	Location     string   `json:"location"`
	Placement    string   `json:"placement,omitempty"` // priv-app, app, vendor-app, ...
	Partition    string   `json:"partition,omitempty"`
	MinSDK       int      `json:"min_sdk,omitempty"`
	TargetSDK    int      `json:"target_sdk,omitempty"`
	SharedUserID string   `json:"shared_user_id,omitempty"`
	Persistent   bool     `json:"persistent,omitempty"`
	Signers      []Signer `json:"signers,omitempty"`
	Permissions  []string `json:"permissions,omitempty"`
	Exported     []string `json:"exported_components,omitempty"`
	Endpoints    []string `json:"endpoints,omitempty"`
	Harvests     []string `json:"harvesting_apis,omitempty"` // catalogue ids of sources called
	Sinks        []string `json:"sinks,omitempty"`
	Trackers     []string `json:"trackers,omitempty"`
	Flags        []string `json:"flags,omitempty"` // platform-signed, system-uid, ...
	Score        float64  `json:"score"`
	MaxSeverity  string   `json:"max_severity"`
	Findings     int      `json:"findings"`
	SHA256       string   `json:"sha256,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// SignerCluster is a signing certificate and the apps signed with it.
type SignerCluster struct {
	SHA256   string   `json:"sha256"`
	Packages []string `json:"packages"`
}

// FileError is a file that could not be read, and why. The scan went on.
type FileError struct {
	Location string `json:"location"`
	Error    string `json:"error"`
}

// Note is something the scan wants the reader to know (a budget hit, a
// filtered count), not tied to a rule.
type Note struct {
	Location string `json:"location,omitempty"`
	Text     string `json:"text"`
}

// Summary counts what the report holds.
type Summary struct {
	Files              int            `json:"files"`
	Apps               int            `json:"apps"`
	Findings           int            `json:"findings"`
	BySeverity         map[string]int `json:"by_severity"`
	Errors             int            `json:"errors"`
	FilteredEndpoints  int            `json:"filtered_endpoints"`
	SuppressedFindings int            `json:"suppressed_findings,omitempty"`
	// SpilledBytes counts bytes written to the temp dir for formats that can
	// only be read in order (brotli, gzip); in-place formats add nothing.
	SpilledBytes int64 `json:"spilled_bytes"`
}

// Report is everything a scan produced.
type Report struct {
	SchemaVersion string            `json:"schema_version"`
	Tool          Tool              `json:"tool"`
	Inputs        []Input           `json:"inputs"`
	Device        *Device           `json:"device,omitempty"`
	Containers    []Container       `json:"containers,omitempty"`
	Signers       []SignerCluster   `json:"signer_clusters,omitempty"`
	Apps          []App             `json:"apps"`
	Findings      []finding.Finding `json:"findings"`
	Errors        []FileError       `json:"errors"`
	Notes         []Note            `json:"notes,omitempty"`
	Summary       Summary           `json:"summary"`
}

// Sort puts everything in its canonical order: apps by score (worst first),
// findings worst first, errors and containers by location.
func (r *Report) Sort() {
	sort.SliceStable(r.Apps, func(i, j int) bool {
		a, b := r.Apps[i], r.Apps[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Package != b.Package {
			return a.Package < b.Package
		}
		return a.Location < b.Location
	})
	sort.SliceStable(r.Findings, func(i, j int) bool { return finding.Less(&r.Findings[i], &r.Findings[j]) })
	sort.SliceStable(r.Errors, func(i, j int) bool {
		if r.Errors[i].Location != r.Errors[j].Location {
			return r.Errors[i].Location < r.Errors[j].Location
		}
		return r.Errors[i].Error < r.Errors[j].Error
	})
	sort.SliceStable(r.Containers, func(i, j int) bool { return r.Containers[i].Location < r.Containers[j].Location })
	sort.SliceStable(r.Notes, func(i, j int) bool {
		if r.Notes[i].Location != r.Notes[j].Location {
			return r.Notes[i].Location < r.Notes[j].Location
		}
		return r.Notes[i].Text < r.Notes[j].Text
	})
}

// Summarise recomputes the summary counts.
func (r *Report) Summarise() {
	s := &r.Summary
	s.Apps = len(r.Apps)
	s.Findings = len(r.Findings)
	s.Errors = len(r.Errors)
	s.BySeverity = map[string]int{}
	for _, f := range r.Findings {
		s.BySeverity[f.Severity.String()]++
	}
}

// MaxSeverity returns the highest severity among findings, and false when
// there are none.
func (r *Report) MaxSeverity() (finding.Severity, bool) {
	max, any := finding.Info, false
	for _, f := range r.Findings {
		if !any || f.Severity > max {
			max, any = f.Severity, true
		}
	}
	return max, any
}
