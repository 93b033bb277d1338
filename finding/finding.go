// Package finding is the model of what romscan reports: a rule hit with a
// severity, a separate confidence, and the evidence that locates it.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Severity says how bad a finding is if it is true.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lowercase name used in every output.
func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name ("info" … "critical"), case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of %s)", name, strings.Join(severityNames[:], ", "))
}

// MarshalText writes the name, so JSON carries "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Confidence says how sure romscan is that the finding is true.
type Confidence int

// Confidences, lowest first.
const (
	LowConfidence Confidence = iota
	MediumConfidence
	HighConfidence
)

var confidenceNames = [...]string{"low", "medium", "high"}

// String returns the lowercase name.
func (c Confidence) String() string {
	if c < LowConfidence || c > HighConfidence {
		return fmt.Sprintf("confidence(%d)", int(c))
	}
	return confidenceNames[c]
}

// ParseConfidence reads a confidence name.
func ParseConfidence(name string) (Confidence, error) {
	for i, n := range confidenceNames {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return Confidence(i), nil
		}
	}
	return LowConfidence, fmt.Errorf("unknown confidence %q (want low, medium or high)", name)
}

// MarshalText writes the name.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads the name.
func (c *Confidence) UnmarshalText(b []byte) error {
	v, err := ParseConfidence(string(b))
	*c = v
	return err
}

// Evidence locates a finding. Location is the container chain
// ("rom.zip!system.img!/system/app/Foo/Foo.apk!classes.dex"), never a host path.
type Evidence struct {
	Location string `json:"location"`
	Class    string `json:"class,omitempty"`
	Method   string `json:"method,omitempty"`
	API      string `json:"api,omitempty"`    // the called API or matched rule string
	String   string `json:"string,omitempty"` // the string value involved (URL, permission, ...)
	Offset   int64  `json:"offset,omitempty"` // byte offset in the innermost file; not part of the fingerprint
	Note     string `json:"note,omitempty"`   // how it was recovered, the path of a flow, ...
}

// Finding is one rule hit.
type Finding struct {
	RuleID      string     `json:"rule_id"` // namespaced: "harvest.device-id", "manifest.debuggable"
	Title       string     `json:"title"`
	Category    string     `json:"category"`
	Severity    Severity   `json:"severity"`
	Confidence  Confidence `json:"confidence"`
	Package     string     `json:"package,omitempty"` // the app it belongs to, if any
	Description string     `json:"description,omitempty"`
	Evidence    []Evidence `json:"evidence"`
	References  []string   `json:"references,omitempty"`
	Tags        []string   `json:"tags,omitempty"`
	Fingerprint string     `json:"fingerprint"`
}

// ComputeFingerprint hashes the rule, the package and the normalised evidence
// (no offsets, no container prefix above the app), so the identity of a
// finding survives rebuilds, moves of the scanned folder and re-scans.
func (f *Finding) ComputeFingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", f.RuleID, f.Package)
	parts := make([]string, 0, len(f.Evidence))
	for _, e := range f.Evidence {
		loc := e.Location
		if f.Package != "" {
			// The package already names the app; keep only the path inside it
			// so a moved or re-packed APK keeps its fingerprints.
			if i := strings.LastIndex(loc, ".apk!"); i >= 0 {
				loc = loc[i+len(".apk!"):]
			} else if strings.HasSuffix(loc, ".apk") {
				loc = ""
			} else {
				loc = StripRoot(loc)
			}
		} else {
			loc = StripRoot(loc)
		}
		parts = append(parts, strings.Join([]string{loc, e.Class, e.Method, e.API, e.String}, "\x1f"))
	}
	sort.Strings(parts)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	f.Fingerprint = hex.EncodeToString(h.Sum(nil))[:32]
	return f.Fingerprint
}

// StripRoot reduces the first hop of a location (the scanned input's path) to
// its base name, so fingerprints do not depend on where the input was stored.
func StripRoot(loc string) string {
	first, rest, nested := strings.Cut(loc, "!")
	if i := strings.LastIndexAny(first, "/\\"); i >= 0 {
		first = first[i+1:]
	}
	if nested {
		return first + "!" + rest
	}
	return first
}

// Less orders findings worst first, then by rule, package and fingerprint, so
// output is deterministic.
func Less(a, b *Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if a.Confidence != b.Confidence {
		return a.Confidence > b.Confidence
	}
	if a.RuleID != b.RuleID {
		return a.RuleID < b.RuleID
	}
	if a.Package != b.Package {
		return a.Package < b.Package
	}
	return a.Fingerprint < b.Fingerprint
}
