// Package policy is what CI needs on top of a report: ignore files that
// hide accepted findings (with a reason and an optional expiry), baselines
// that separate new findings from known ones, and the gate that turns a
// report into an exit verdict.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/romscan/romscan/extract"
	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
	"github.com/romscan/romscan/signatures"
)

// Size bounds of the files read from disk.
const (
	MaxIgnoreSize   = 4 * extract.MiB   // an ignore file
	MaxBaselineSize = 512 * extract.MiB // a baseline JSON report
)

// Baseline tags added to findings by Baseline.Mark.
const (
	TagNew       = "baseline:new"
	TagUnchanged = "baseline:unchanged"
)

// Entry is one ignore rule. Every matcher given must match (at least one
// is required); Reason is required; Until (YYYY-MM-DD, UTC) is the last
// day the entry hides findings.
type Entry struct {
	Rule        string `yaml:"rule,omitempty"`
	Fingerprint string `yaml:"fingerprint,omitempty"`
	Package     string `yaml:"package,omitempty"`
	Path        string `yaml:"path,omitempty"` // glob on an evidence location: * within a hop segment, ** anything
	Reason      string `yaml:"reason"`
	Until       string `yaml:"until,omitempty"`

	line  int
	until time.Time // zero: no expiry
	path  *regexp.Regexp
}

// Ignores is a parsed ignore file.
type Ignores struct {
	Name    string
	Entries []Entry
}

type ignoreFile struct {
	Ignore []yaml.Node `yaml:"ignore"`
}

// LoadIgnores reads and checks an ignore file.
func LoadIgnores(path string) (*Ignores, error) {
	data, err := readBounded(path, MaxIgnoreSize)
	if err != nil {
		return nil, fmt.Errorf("read ignore file: %w", err)
	}
	return ParseIgnores(data, path)
}

// ParseIgnores parses an ignore file's YAML:
//
//	ignore:
//	  - rule: manifest.allow-backup
//	    reason: backups are disabled by the device policy
//	  - fingerprint: 0123456789abcdef0123456789abcdef
//	    reason: reviewed, a false positive
//	    until: 2027-01-31
func ParseIgnores(data []byte, name string) (*Ignores, error) {
	var f ignoreFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse ignore file %q: %w", name, err)
	}
	ig := &Ignores{Name: name}
	for _, n := range f.Ignore {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("parse ignore file %q line %d: an entry is a mapping (rule:, reason:, ...)", name, n.Line)
		}
		for k := 0; k+1 < len(n.Content); k += 2 {
			switch key := n.Content[k].Value; key {
			case "rule", "fingerprint", "package", "path", "reason", "until":
			default:
				return nil, fmt.Errorf("parse ignore file %q line %d: unknown field %q", name, n.Content[k].Line, key)
			}
		}
		var e Entry
		if err := n.Decode(&e); err != nil {
			return nil, fmt.Errorf("parse ignore file %q line %d: %w", name, n.Line, err)
		}
		e.line = n.Line
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("ignore file %q line %d: %w", name, n.Line, err)
		}
		ig.Entries = append(ig.Entries, e)
	}
	return ig, nil
}

// check validates the entry and compiles its expiry and path glob.
func (e *Entry) check() error {
	if e.Rule == "" && e.Fingerprint == "" && e.Package == "" && e.Path == "" {
		return errors.New("entry needs one of rule, fingerprint, package or path")
	}
	if strings.TrimSpace(e.Reason) == "" {
		return errors.New("entry needs a reason")
	}
	if e.Until != "" {
		t, err := time.Parse("2006-01-02", e.Until)
		if err != nil {
			return fmt.Errorf("until %q: want YYYY-MM-DD", e.Until)
		}
		e.until = t
	}
	if e.Path != "" {
		re, err := globRegexp(e.Path)
		if err != nil {
			return fmt.Errorf("path %q: %w", e.Path, err)
		}
		e.path = re
	}
	return nil
}

// Line is the entry's line in its file (0 when built in code).
func (e *Entry) Line() int { return e.line }

// Expired reports whether now is past the entry's Until day.
func (e *Entry) Expired(now time.Time) bool {
	return !e.until.IsZero() && !now.UTC().Before(e.until.AddDate(0, 0, 1))
}

// Matches reports whether the entry describes f, ignoring expiry.
func (e *Entry) Matches(f *finding.Finding) bool {
	if e.Rule != "" && e.Rule != f.RuleID {
		return false
	}
	if e.Fingerprint != "" && !strings.EqualFold(e.Fingerprint, f.Fingerprint) {
		return false
	}
	if e.Package != "" && e.Package != f.Package {
		return false
	}
	if e.Path != "" {
		if e.path == nil {
			if err := e.check(); err != nil {
				return false
			}
		}
		hit := false
		for _, ev := range f.Evidence {
			if e.path.MatchString(ev.Location) {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// String names the entry for warnings.
func (e *Entry) String() string {
	var parts []string
	for _, kv := range [][2]string{{"rule", e.Rule}, {"fingerprint", e.Fingerprint}, {"package", e.Package}, {"path", e.Path}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+"="+kv[1])
		}
	}
	return strings.Join(parts, " ")
}

// globRegexp compiles a location glob: "**" matches anything, "*" anything
// but "/" and "!", "?" one such character; the rest is literal.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/!]*")
			}
		case '?':
			b.WriteString("[^/!]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// Applied says what Apply did.
type Applied struct {
	Suppressed int      // findings removed
	Warnings   []string // one line per expired entry, for stderr
}

// Apply removes the findings that a live entry matches, counts them in
// Summary.SuppressedFindings, recomputes the apps' counts (and scores when
// w is not nil), the summary and the order. Entries past their Until day
// hide nothing and produce a warning.
func (ig *Ignores) Apply(r *report.Report, now time.Time, w *signatures.Weights) Applied {
	var out Applied
	if ig == nil {
		return out
	}
	expiredHits := make([]int, len(ig.Entries))
	kept := r.Findings[:0:0]
	for i := range r.Findings {
		f := &r.Findings[i]
		hidden := false
		for j := range ig.Entries {
			e := &ig.Entries[j]
			if !e.Matches(f) {
				continue
			}
			if e.Expired(now) {
				expiredHits[j]++
				continue
			}
			hidden = true
			break
		}
		if hidden {
			out.Suppressed++
			continue
		}
		kept = append(kept, *f)
	}
	for j := range ig.Entries {
		e := &ig.Entries[j]
		if e.Expired(now) {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s:%d: ignore entry (%s) expired on %s and no longer hides its %d finding(s); reason was: %s",
				ig.Name, e.line, report.Clean(e.String()), e.Until, expiredHits[j], report.Clean(e.Reason)))
		}
	}
	r.Findings = kept
	r.Summary.SuppressedFindings += out.Suppressed
	if out.Suppressed > 0 {
		Recount(r, w)
	}
	return out
}

// Recount recomputes each app's finding count and worst severity from the
// report's findings (and its score when w is not nil), then the summary
// and the canonical order.
func Recount(r *report.Report, w *signatures.Weights) {
	byPkg := map[string][]int{}
	for i, a := range r.Apps {
		if a.Package != "" {
			byPkg[a.Package] = append(byPkg[a.Package], i)
		}
	}
	per := make([][]finding.Finding, len(r.Apps))
	for _, f := range r.Findings {
		cands := byPkg[f.Package]
		if len(cands) == 0 {
			continue
		}
		idx := cands[0]
		if len(cands) > 1 && len(f.Evidence) > 0 {
			for _, c := range cands {
				if strings.HasPrefix(f.Evidence[0].Location, r.Apps[c].Location) {
					idx = c
					break
				}
			}
		}
		per[idx] = append(per[idx], f)
	}
	for i := range r.Apps {
		a := &r.Apps[i]
		a.Findings = len(per[i])
		max := finding.Info
		for _, f := range per[i] {
			if f.Severity > max {
				max = f.Severity
			}
		}
		a.MaxSeverity = max.String()
		if w != nil {
			a.Score = report.ScoreApp(per[i], a.Flags, w)
		}
	}
	r.Summarise()
	r.Sort()
}

// Baseline is the set of finding fingerprints of an earlier report.
type Baseline struct {
	Name         string
	Fingerprints map[string]bool
}

// LoadBaseline reads a JSON report written by `romscan scan -o json`.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := readBounded(path, MaxBaselineSize)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	return ParseBaseline(data, path)
}

// ParseBaseline reads a JSON report's fingerprints.
func ParseBaseline(data []byte, name string) (*Baseline, error) {
	var r struct {
		SchemaVersion string `json:"schema_version"`
		Findings      []struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse baseline %q: %w", name, err)
	}
	if r.SchemaVersion == "" {
		return nil, fmt.Errorf("parse baseline %q: not a romscan JSON report (no schema_version)", name)
	}
	if major, _, _ := strings.Cut(r.SchemaVersion, "."); major != strings.Split(report.SchemaVersion, ".")[0] {
		return nil, fmt.Errorf("parse baseline %q: schema version %s, want %s.x", name, r.SchemaVersion, strings.Split(report.SchemaVersion, ".")[0])
	}
	b := &Baseline{Name: name, Fingerprints: map[string]bool{}}
	for _, f := range r.Findings {
		if f.Fingerprint != "" {
			b.Fingerprints[f.Fingerprint] = true
		}
	}
	return b, nil
}

// Mark tags each finding TagNew or TagUnchanged and returns the counts.
func (b *Baseline) Mark(r *report.Report) (added, unchanged int) {
	for i := range r.Findings {
		f := &r.Findings[i]
		tags := f.Tags[:0:0]
		for _, t := range f.Tags {
			if t != TagNew && t != TagUnchanged {
				tags = append(tags, t)
			}
		}
		if b.Fingerprints[f.Fingerprint] {
			tags = append(tags, TagUnchanged)
			unchanged++
		} else {
			tags = append(tags, TagNew)
			added++
		}
		f.Tags = tags
	}
	r.Notes = append(r.Notes, report.Note{Text: fmt.Sprintf("baseline: %d new and %d unchanged findings", added, unchanged)})
	return added, unchanged
}

// IsNew reports whether a finding was tagged new by Mark.
func IsNew(f *finding.Finding) bool {
	for _, t := range f.Tags {
		if t == TagNew {
			return true
		}
	}
	return false
}

// Gate turns a report into a CI verdict.
type Gate struct {
	FailOn   finding.Severity
	Disabled bool // --fail-on none: findings never fail
	OnlyNew  bool // a baseline was given: only findings tagged new count
	Strict   bool // per-file errors fail too
}

// Verdict is the gate's decision.
type Verdict struct {
	Failing int  // findings at or above FailOn that count
	Errors  int  // per-file errors (counted only when Strict)
	Fail    bool // exit code 1
}

// Check decides.
func (g Gate) Check(r *report.Report) Verdict {
	var v Verdict
	if !g.Disabled {
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.Severity >= g.FailOn && (!g.OnlyNew || IsNew(f)) {
				v.Failing++
			}
		}
	}
	if g.Strict {
		v.Errors = len(r.Errors)
	}
	v.Fail = v.Failing > 0 || v.Errors > 0
	return v
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %q: larger than %d MiB: %w", path, max/extract.MiB, extract.ErrLimit)
	}
	return data, nil
}
