package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/romscan/romscan/finding"
)

// Renderer writes a report in one format.
type Renderer interface {
	Name() string
	Render(w io.Writer, r *Report) error
}

// Options tune the human renderers.
type Options struct {
	MinSeverity finding.Severity // findings below it are not listed (JSON keeps all)
	MaxApps     int              // apps listed in the table; 0 for all
	MaxEvidence int              // evidence rows per finding in the table
}

// Renderers lists every output format by name.
func Renderers(opt Options) map[string]Renderer {
	return map[string]Renderer{
		"table":    Table{Options: opt},
		"json":     JSON{},
		"sarif":    SARIF{},
		"html":     HTML{Options: opt},
		"markdown": Markdown{Options: opt},
	}
}

// RendererNames returns the format names, sorted, for help texts.
func RendererNames() []string {
	var names []string
	for n := range Renderers(Options{}) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// JSON writes the whole report, indented, with a trailing newline.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// Render writes r as JSON.
func (JSON) Render(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// Table writes a ranked, human-readable summary for a terminal.
type Table struct{ Options Options }

// Name returns "table".
func (Table) Name() string { return "table" }

// Render writes the apps ranked worst first, then the findings at or above
// MinSeverity, then per-file errors.
func (t Table) Render(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	if d := r.Device; d != nil {
		fmt.Fprintf(ew, "Device: %s %s (%s), Android %s (SDK %s), patch %s, tags %s\n",
			Clean(d.Brand), Clean(d.Model), Clean(d.Device), Clean(d.AndroidVersion), Clean(d.SDK), Clean(d.SecurityPatch), Clean(d.BuildTags))
		if d.Fingerprint != "" {
			fmt.Fprintf(ew, "Fingerprint: %s\n", Clean(d.Fingerprint))
		}
		fmt.Fprintln(ew)
	}
	shown := map[string]bool{}
	var apps []App
	for _, a := range r.Apps {
		sev, _ := finding.ParseSeverity(a.MaxSeverity)
		if a.Findings == 0 || sev < t.Options.MinSeverity {
			continue
		}
		apps = append(apps, a)
	}
	if len(apps) > 0 {
		fmt.Fprintf(ew, "Apps ranked by risk (%d of %d with findings at or above %s):\n", len(apps), len(r.Apps), t.Options.MinSeverity)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RANK\tSCORE\tMAX\tPACKAGE\tPLACEMENT\tLOCATION")
		for i, a := range apps {
			if t.Options.MaxApps > 0 && i >= t.Options.MaxApps {
				fmt.Fprintf(tw, "…\t\t\t(%d more)\t\t\n", len(apps)-i)
				break
			}
			fmt.Fprintf(tw, "%d\t%.1f\t%s\t%s\t%s\t%s\n", i+1, a.Score, a.MaxSeverity, Clean(orDash(a.Package)), orDash(a.Placement), Clean(a.Location))
			shown[a.Package] = true
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}
	var fs []finding.Finding
	for _, f := range r.Findings {
		if f.Severity >= t.Options.MinSeverity {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		fmt.Fprintf(ew, "No findings at or above %s.", t.Options.MinSeverity)
		if n := len(r.Findings); n > 0 {
			fmt.Fprintf(ew, " (%d below it; see the JSON report.)", n)
		}
		fmt.Fprintln(ew)
	} else {
		fmt.Fprintf(ew, "Findings (%d at or above %s, worst first):\n", len(fs), t.Options.MinSeverity)
		maxEv := t.Options.MaxEvidence
		if maxEv <= 0 {
			maxEv = 3
		}
		for _, f := range fs {
			fmt.Fprintf(ew, "[%s/%s] %s  %s", strings.ToUpper(f.Severity.String()), f.Confidence, f.RuleID, Clean(f.Title))
			if f.Package != "" {
				fmt.Fprintf(ew, "  (%s)", Clean(f.Package))
			}
			fmt.Fprintln(ew)
			for i, e := range f.Evidence {
				if i >= maxEv {
					fmt.Fprintf(ew, "    … %d more\n", len(f.Evidence)-i)
					break
				}
				fmt.Fprintf(ew, "    %s\n", Clean(evidenceLine(e)))
			}
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(ew, "\nFiles that could not be read (%d):\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(ew, "  %s: %s\n", Clean(e.Location), Clean(e.Error))
		}
	}
	s := r.Summary
	fmt.Fprintf(ew, "\nScanned %d files, %d apps: %d findings (critical %d, high %d, medium %d, low %d, info %d), %d unreadable files.\n",
		s.Files, s.Apps, s.Findings, s.BySeverity["critical"], s.BySeverity["high"], s.BySeverity["medium"], s.BySeverity["low"], s.BySeverity["info"], s.Errors)
	return ew.err
}

func evidenceLine(e finding.Evidence) string {
	var parts []string
	parts = append(parts, e.Location)
	if e.Class != "" || e.Method != "" {
		parts = append(parts, "in "+e.Class+"->"+e.Method)
	}
	if e.API != "" {
		parts = append(parts, "calls "+e.API)
	}
	if e.String != "" {
		parts = append(parts, fmt.Sprintf("%q", e.String))
	}
	if e.Note != "" {
		parts = append(parts, "("+e.Note+")")
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Clean makes a scanned, attacker-controlled string safe for a terminal or
// a CI log: ANSI escape sequences and control characters (CR and LF
// included) become visible escapes, and very long strings are cut.
func Clean(s string) string {
	const maxLen = 512
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= maxLen {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == unicode.ReplacementChar || unicode.IsControl(r) || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
