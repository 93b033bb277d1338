package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

// Renderer writes a delta in one format.
type Renderer interface {
	Name() string
	Render(w io.Writer, d *Delta) error
}

// RenderOptions tune the human renderers.
type RenderOptions struct {
	// MinSeverity hides changes below it from the table (JSON keeps all).
	MinSeverity finding.Severity
	// MaxChanges bounds the rows of the table; 0 for all.
	MaxChanges int
}

// Renderers lists every delta format by name.
func Renderers(opt RenderOptions) map[string]Renderer {
	return map[string]Renderer{
		"table": Table{Options: opt},
		"json":  JSON{},
	}
}

// RendererNames returns the format names, sorted, for help texts.
func RendererNames() []string {
	var names []string
	for n := range Renderers(RenderOptions{}) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// JSON writes the whole delta, indented, with a trailing newline.
type JSON struct{}

// Name returns "json".
func (JSON) Name() string { return "json" }

// Render writes d as JSON.
func (JSON) Render(w io.Writer, d *Delta) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// Table writes a ranked, human-readable delta for a terminal. Every string
// from the scanned files goes through report.Clean.
type Table struct{ Options RenderOptions }

// Name returns "table".
func (Table) Name() string { return "table" }

// Render writes the device changes, the apps that changed, then every
// change at or above MinSeverity, most dangerous first.
func (t Table) Render(w io.Writer, d *Delta) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Old: %s\nNew: %s\n\n", inputs(d.Old), inputs(d.New))
	for _, n := range d.Notes {
		fmt.Fprintf(ew, "Note: %s\n", report.Clean(n))
	}
	if d.Empty() {
		fmt.Fprintln(ew, "No changes.")
		return ew.err
	}
	s := d.Summary
	fmt.Fprintf(ew, "Apps: %d added, %d removed, %d changed, %d unchanged. Findings: %d new%s, %d fixed, %d unchanged. Device: %d changes.\n\n",
		s.AppsAdded, s.AppsRemoved, s.AppsChanged, s.AppsUnchanged, s.NewFindings, bySeverity(s.NewBySeverity), s.FixedFindings, s.UnchangedFindings, s.DeviceChanges)

	if len(d.Apps) > 0 {
		fmt.Fprintln(ew, "Apps, most dangerous change first:")
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "APP\tPACKAGE\tVERSION\tPLACEMENT\tNEW\tFIXED\tLOCATION")
		for _, a := range d.Apps {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", a.Op, report.Clean(a.Package), report.Clean(sideVersions(a)),
				report.Clean(sidePlacements(a)), a.NewFindings, a.FixedFindings, report.Clean(appLoc(&a)))
		}
		tw.Flush()
		fmt.Fprintln(ew)
	}

	shown, hidden := 0, 0
	var rows []Change
	for _, c := range d.Changes {
		if c.Severity < t.Options.MinSeverity || (t.Options.MaxChanges > 0 && shown >= t.Options.MaxChanges) {
			hidden++
			continue
		}
		shown++
		rows = append(rows, c)
	}
	fmt.Fprintln(ew, "Changes, most dangerous first:")
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tCHANGE\tPACKAGE\tDETAIL")
	for _, c := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Severity, what(&c), report.Clean(c.Package), report.Clean(detail(&c)))
	}
	tw.Flush()
	if hidden > 0 {
		fmt.Fprintf(ew, "… %d more changes below %s or past the limit (all are in -o json).\n", hidden, t.Options.MinSeverity)
	}
	return ew.err
}

func inputs(s Side) string {
	var names []string
	for _, in := range s.Inputs {
		names = append(names, report.Clean(in.Name))
	}
	out := strings.Join(names, ", ")
	if out == "" {
		out = "(no inputs recorded)"
	}
	if dv := s.Device; dv != nil && dv.Fingerprint != "" {
		out += " — " + report.Clean(dv.Fingerprint)
	}
	return out
}

func bySeverity(m map[string]int) string {
	var parts []string
	for s := finding.Critical; s >= finding.Info; s-- {
		if n := m[s.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func sideVersions(a AppDelta) string {
	v := func(s *AppSide) string {
		if s == nil {
			return "-"
		}
		if s.VersionName != "" {
			return fmt.Sprintf("%d (%s)", s.VersionCode, s.VersionName)
		}
		return fmt.Sprint(s.VersionCode)
	}
	if a.Op == Changed && v(a.Old) != v(a.New) {
		return v(a.Old) + " → " + v(a.New)
	}
	if a.New != nil {
		return v(a.New)
	}
	return v(a.Old)
}

func sidePlacements(a AppDelta) string {
	p := func(s *AppSide) string {
		if s == nil {
			return "-"
		}
		return s.Placement
	}
	if a.Op == Changed && p(a.Old) != p(a.New) {
		return p(a.Old) + " → " + p(a.New)
	}
	if a.New != nil {
		return p(a.New)
	}
	return p(a.Old)
}

// what names a change in a few words ("new finding", "permission added").
func what(c *Change) string {
	switch c.Kind {
	case KindFinding:
		if c.Op == Added {
			return "new finding"
		}
		return "fixed finding"
	case KindApp:
		return "app " + string(c.Op)
	case KindDevice:
		return "device " + c.Field
	case KindGrant:
		return c.Field + " grant " + string(c.Op)
	}
	return string(c.Kind) + " " + string(c.Op)
}

func detail(c *Change) string {
	switch c.Op {
	case Added:
		return c.New
	case Removed:
		return c.Old
	}
	return c.Old + " → " + c.New
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}
