package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/romscan/romscan/finding"
)

// MarkdownMaxBytes bounds the Markdown report, so it fits in a pull-request
// comment (GitHub takes 65,536 characters).
const MarkdownMaxBytes = 60 * 1024

// markdownTopApps is the number of apps the Markdown report lists.
const markdownTopApps = 10

// Markdown writes a short report for a pull-request or merge-request
// comment: the summary, the ten worst apps, and the findings at or above
// medium (or Options.MinSeverity when higher), cut to MarkdownMaxBytes.
type Markdown struct{ Options Options }

// Name returns "markdown".
func (Markdown) Name() string { return "markdown" }

// Render writes r as GitHub-flavoured Markdown.
func (m Markdown) Render(w io.Writer, r *Report) error {
	var b bytes.Buffer
	min := finding.Medium
	if m.Options.MinSeverity > min {
		min = m.Options.MinSeverity
	}
	s := r.Summary
	fmt.Fprintf(&b, "## romscan report\n\n")
	fmt.Fprintf(&b, "%s %s, rules %s", markdownText(orDefault(r.Tool.Name, "romscan")), markdownText(r.Tool.Version), markdownText(orDefault(r.Tool.RulesVersion, "-")))
	if len(r.Inputs) > 0 {
		var names []string
		for _, in := range r.Inputs {
			names = append(names, mdCode(in.Name))
		}
		fmt.Fprintf(&b, "; scanned %s", strings.Join(names, ", "))
	}
	b.WriteString(".\n\n")
	if d := r.Device; d != nil {
		fmt.Fprintf(&b, "**Device:** %s %s (%s), Android %s (SDK %s), security patch %s, build %s/%s.\n\n",
			markdownText(d.Brand), markdownText(d.Model), markdownText(d.Device), markdownText(d.AndroidVersion),
			markdownText(d.SDK), markdownText(d.SecurityPatch), markdownText(d.BuildType), markdownText(d.BuildTags))
	}
	b.WriteString("| critical | high | medium | low | info | apps | files | unreadable | suppressed |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d | %d | %d |\n\n",
		s.BySeverity["critical"], s.BySeverity["high"], s.BySeverity["medium"], s.BySeverity["low"], s.BySeverity["info"],
		s.Apps, s.Files, s.Errors, s.SuppressedFindings)
	if n := countTag(r.Findings, "baseline:new"); n > 0 || countTag(r.Findings, "baseline:unchanged") > 0 {
		fmt.Fprintf(&b, "**%d new** findings since the baseline, %d unchanged.\n\n", n, countTag(r.Findings, "baseline:unchanged"))
	}

	var apps []App
	for _, a := range r.Apps {
		if a.Findings > 0 {
			apps = append(apps, a)
		}
	}
	if len(apps) > 0 {
		fmt.Fprintf(&b, "### Top apps by risk\n\n")
		b.WriteString("| # | score | max | package | placement | findings | location |\n")
		b.WriteString("|---:|---:|---|---|---|---:|---|\n")
		for i, a := range apps {
			if i >= markdownTopApps {
				break
			}
			fmt.Fprintf(&b, "| %d | %.1f | %s | %s | %s | %d | %s |\n", i+1, a.Score, markdownText(a.MaxSeverity),
				mdCode(orDash(a.Package)), markdownText(orDash(a.Placement)), a.Findings, mdCode(a.Location))
		}
		if len(apps) > markdownTopApps {
			fmt.Fprintf(&b, "\n%d more apps with findings are in the full report.\n", len(apps)-markdownTopApps)
		}
		b.WriteString("\n")
	}

	var fs []*finding.Finding
	for i := range r.Findings {
		if r.Findings[i].Severity >= min {
			fs = append(fs, &r.Findings[i])
		}
	}
	fmt.Fprintf(&b, "### Findings at or above %s (%d)\n\n", min, len(fs))
	if len(fs) == 0 {
		b.WriteString("None.\n")
	} else {
		b.WriteString("| severity | confidence | rule | finding | package | evidence |\n")
		b.WriteString("|---|---|---|---|---|---|\n")
		// Keep room for the closing lines below.
		budget := MarkdownMaxBytes - 2*1024
		for i, f := range fs {
			row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", f.Severity, f.Confidence, mdCode(f.RuleID),
				markdownText(f.Title)+baselineMark(f), mdCode(orDash(f.Package)), mdEvidence(f))
			if b.Len()+len(row) > budget {
				fmt.Fprintf(&b, "\n%d more findings are not shown here (size limit); see the full report.\n", len(fs)-i)
				break
			}
			b.WriteString(row)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\n%d files could not be read; see the full report.\n", len(r.Errors))
	}
	_, err := w.Write(b.Bytes())
	return err
}

func countTag(fs []finding.Finding, tag string) int {
	n := 0
	for _, f := range fs {
		for _, t := range f.Tags {
			if t == tag {
				n++
				break
			}
		}
	}
	return n
}

func baselineMark(f *finding.Finding) string {
	for _, t := range f.Tags {
		if t == "baseline:new" {
			return " **(new)**"
		}
	}
	return ""
}

func mdEvidence(f *finding.Finding) string {
	if len(f.Evidence) == 0 {
		return "-"
	}
	e := f.Evidence[0]
	out := mdCode(e.Location)
	if e.Class != "" || e.Method != "" {
		out += " in " + mdCode(e.Class+"->"+e.Method)
	}
	if e.String != "" {
		out += " " + mdCode(e.String)
	} else if e.API != "" {
		out += " " + mdCode(e.API)
	}
	if n := len(f.Evidence); n > 1 {
		out += fmt.Sprintf(" (+%d more)", n-1)
	}
	return out
}

// markdownText makes a scanned string inert as Markdown text inside a table
// cell: control characters become visible escapes (Clean), HTML is
// entity-encoded, and Markdown punctuation, pipes and backticks included,
// is backslash-escaped.
func markdownText(s string) string {
	s = Clean(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '|', '~', '#', '!', '(', ')', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode puts a scanned string in a code span for a table cell: no HTML,
// links or emphasis are interpreted inside it; the delimiter is longer than
// any backtick run inside, and pipes are escaped for the table.
func mdCode(s string) string {
	s = Clean(s)
	if s == "" {
		return ""
	}
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
