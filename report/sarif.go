package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/romscan/romscan/finding"
)

// SARIFFingerprintKey is the partialFingerprints key that carries
// finding.Fingerprint in SARIF results.
const SARIFFingerprintKey = "romscan/v1"

// sarifMaxRelated bounds the related locations written for one result, so
// a finding with thousands of evidence rows stays a readable result.
const sarifMaxRelated = 50

// SARIF writes a SARIF 2.1.0 log with one run: one rule per rule id met,
// one result per finding, fingerprints in partialFingerprints.
type SARIF struct{}

// Name returns "sarif".
func (SARIF) Name() string { return "sarif" }

// SecuritySeverity maps a severity to the numeric score GitHub code scanning
// reads from a rule's "security-severity" property.
func SecuritySeverity(s finding.Severity) float64 {
	switch s {
	case finding.Critical:
		return 9.5
	case finding.High:
		return 8.0
	case finding.Medium:
		return 5.5
	case finding.Low:
		return 3.0
	}
	return 0.0
}

// SARIFLevel maps a severity to a SARIF result level.
func SARIFLevel(s finding.Severity) string {
	switch {
	case s >= finding.High:
		return sarif.LevelError
	case s == finding.Medium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// Render writes r as SARIF, indented, with a trailing newline.
func (SARIF) Render(w io.Writer, r *Report) error {
	log := sarif.NewReport()
	log.Schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	run := sarif.NewRun()
	driver := sarif.NewToolComponent()
	driver.WithName(orDefault(r.Tool.Name, "romscan"))
	if r.Tool.Version != "" {
		driver.WithVersion(r.Tool.Version).WithSemanticVersion(r.Tool.Version)
	}
	driver.WithInformationURI("https://github.com/romscan/romscan")
	if r.Tool.RulesVersion != "" {
		driver.WithProperties(bag(map[string]any{"rules_version": r.Tool.RulesVersion}, nil))
	}
	run.WithTool(sarif.NewTool().WithDriver(driver))

	// One rule per rule id, in id order; its severity is the worst met.
	type ruleInfo struct {
		first  *finding.Finding
		max    finding.Severity
		tags   map[string]bool
		titles []string
		descs  []string
	}
	rules := map[string]*ruleInfo{}
	for i := range r.Findings {
		f := &r.Findings[i]
		ri := rules[f.RuleID]
		if ri == nil {
			ri = &ruleInfo{first: f, max: f.Severity, tags: map[string]bool{}}
			rules[f.RuleID] = ri
		}
		ri.titles = append(ri.titles, f.Title)
		ri.descs = append(ri.descs, f.Description)
		if f.Severity > ri.max {
			ri.max = f.Severity
		}
		ri.tags["security"] = true
		if f.Category != "" {
			ri.tags[sarifText(f.Category)] = true
		}
	}
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	index := map[string]int{}
	for i, id := range ids {
		ri := rules[id]
		f := ri.first
		index[id] = i
		rd := sarif.NewRule(sarifText(id))
		rd.WithName(ruleName(id))
		short := commonText(ri.titles, id)
		full := commonText(ri.descs, short)
		rd.WithShortDescription(sarif.NewMultiformatMessageString().WithText(sarifText(short)))
		rd.WithFullDescription(sarif.NewMultiformatMessageString().WithText(sarifText(full)))
		rd.WithHelp(ruleHelp(full, f.References))
		if len(f.References) > 0 && isHTTP(f.References[0]) {
			rd.WithHelpURI(f.References[0])
		}
		rd.WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(SARIFLevel(ri.max)))
		rd.WithProperties(bag(map[string]any{
			"security-severity": fmt.Sprintf("%.1f", SecuritySeverity(ri.max)),
			"severity":          ri.max.String(),
		}, sortedKeys(ri.tags)))
		driver.AddRule(rd)
	}

	for i := range r.Findings {
		f := &r.Findings[i]
		res := sarif.NewRuleResult(sarifText(f.RuleID))
		res.WithRuleIndex(index[f.RuleID])
		res.WithLevel(SARIFLevel(f.Severity))
		res.WithMessage(sarif.NewTextMessage(resultMessage(f)))
		if f.Fingerprint != "" {
			res.WithPartialFingerprints(map[string]string{SARIFFingerprintKey: f.Fingerprint})
		}
		for j, e := range f.Evidence {
			loc := evidenceLocation(e, j)
			if j == 0 {
				res.AddLocation(loc)
				continue
			}
			if j > sarifMaxRelated {
				break
			}
			res.AddRelatedLocation(loc)
		}
		props := map[string]any{
			"severity":   f.Severity.String(),
			"confidence": f.Confidence.String(),
			"category":   sarifText(f.Category),
		}
		if f.Package != "" {
			props["package"] = sarifText(f.Package)
		}
		var tags []string
		for _, t := range f.Tags {
			tags = append(tags, sarifText(t))
			if state, ok := strings.CutPrefix(t, "baseline:"); ok && (state == "new" || state == "unchanged") {
				res.WithBaselineState(state)
			}
		}
		res.WithProperties(bag(props, tags))
		run.AddResult(res)
	}
	props := map[string]any{"schema_version": r.SchemaVersion}
	if r.Summary.SuppressedFindings > 0 {
		props["suppressed_findings"] = r.Summary.SuppressedFindings
	}
	run.WithProperties(bag(props, nil))
	log.AddRun(run)

	raw, err := json.Marshal(log)
	if err != nil {
		return fmt.Errorf("sarif: encode: %w", err)
	}
	// go-sarif writes every optional array as [] and every optional index
	// as -1; drop those defaults so the log stays small and readable.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("sarif: re-read: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pruneSARIF(tree)); err != nil {
		return fmt.Errorf("sarif: encode: %w", err)
	}
	return nil
}

// pruneSARIF removes empty arrays (but keeps "runs" and "results", whose
// emptiness means something) and the -1 defaults of index properties.
func pruneSARIF(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			switch c := c.(type) {
			case []any:
				if len(c) == 0 && k != "runs" && k != "results" {
					delete(t, k)
					continue
				}
			case json.Number:
				if c == "-1" && (k == "index" || k == "parentIndex" || k == "rank" || k == "id") {
					delete(t, k)
					continue
				}
			case map[string]any:
				if len(c) == 0 && k == "properties" {
					delete(t, k)
					continue
				}
			}
			t[k] = pruneSARIF(c)
		}
	case []any:
		for i := range t {
			t[i] = pruneSARIF(t[i])
		}
	}
	return v
}

func bag(props map[string]any, tags []string) *sarif.PropertyBag {
	b := sarif.NewPropertyBag()
	b.Properties = props
	b.Tags = tags
	if b.Tags == nil {
		b.Tags = []string{}
	}
	return b
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ruleName turns "harvest.device-id" into "HarvestDeviceId", the
// identifier-like name SARIF viewers show beside the id.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// commonText describes a rule from the texts of its findings, which may
// name what each one found ("Hardcoded endpoint: http://x"): the text when
// all agree, else their common part before ": ", else their common leading
// words, else def.
func commonText(texts []string, def string) string {
	if len(texts) == 0 || texts[0] == "" {
		return def
	}
	same := true
	for _, t := range texts[1:] {
		if t != texts[0] {
			same = false
			break
		}
	}
	if same {
		return texts[0]
	}
	if head, _, ok := strings.Cut(texts[0], ": "); ok {
		all := true
		for _, t := range texts[1:] {
			if !strings.HasPrefix(t, head+": ") {
				all = false
				break
			}
		}
		if all {
			return head
		}
	}
	words := strings.Fields(texts[0])
	n := len(words)
	for _, t := range texts[1:] {
		w := strings.Fields(t)
		i := 0
		for i < n && i < len(w) && w[i] == words[i] {
			i++
		}
		n = i
	}
	if n >= 2 {
		return strings.TrimRight(strings.Join(words[:n], " "), ":,;") + " …"
	}
	return def
}

func ruleHelp(desc string, refs []string) *sarif.MultiformatMessageString {
	text := sarifText(desc)
	md := markdownText(desc)
	if len(refs) > 0 {
		text += "\nReferences:"
		md += "\n\nReferences:\n"
		for _, ref := range refs {
			text += "\n- " + sarifText(ref)
			if isHTTP(ref) {
				md += "\n- <" + ref + ">"
			} else {
				md += "\n- " + markdownText(ref)
			}
		}
	}
	return sarif.NewMultiformatMessageString().WithText(text).WithMarkdown(md)
}

func isHTTP(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) &&
		!strings.ContainsAny(s, " <>\"`\\") && Clean(s) == s
}

// resultMessage is a one-line message: the title, the app, and the first
// piece of evidence, every scanned string made safe for a CI log.
func resultMessage(f *finding.Finding) string {
	msg := sarifText(orDefault(f.Title, f.RuleID))
	if f.Package != "" {
		msg += " in " + sarifText(f.Package)
	}
	if len(f.Evidence) > 0 {
		e := f.Evidence[0]
		switch {
		case e.API != "" && e.String != "":
			msg += ": " + sarifText(e.API) + " " + sarifText(fmt.Sprintf("%q", e.String))
		case e.API != "":
			msg += ": " + sarifText(e.API)
		case e.String != "":
			msg += ": " + sarifText(fmt.Sprintf("%q", e.String))
		}
		if n := len(f.Evidence); n > 1 {
			msg += fmt.Sprintf(" (+%d more)", n-1)
		}
	}
	return msg + "."
}

func evidenceLocation(e finding.Evidence, id int) *sarif.Location {
	loc := sarif.NewLocation()
	loc.WithID(id)
	if e.Location != "" {
		loc.WithPhysicalLocation(sarif.NewPhysicalLocation().WithArtifactLocation(
			sarif.NewSimpleArtifactLocation(LocationURI(e.Location))))
	}
	switch {
	case e.Class != "" && e.Method != "":
		ll := sarif.NewLogicalLocation().
			WithName(sarifText(e.Method)).
			WithFullyQualifiedName(sarifText(e.Class + "->" + e.Method)).
			WithKind("function")
		loc.AddLogicalLocation(ll)
	case e.Class != "":
		loc.AddLogicalLocation(sarif.NewLogicalLocation().
			WithName(sarifText(e.Class)).
			WithFullyQualifiedName(sarifText(e.Class)).
			WithKind("type"))
	}
	if e.Note != "" {
		loc.WithMessage(sarif.NewTextMessage(sarifText(e.Note)))
	}
	return loc
}

// LocationURI turns a location chain ("rom.zip!system.img!/system/app/A.apk")
// into a relative URI reference: path separators and "!" are kept, every
// other byte outside the URI unreserved and sub-delimiter sets is
// percent-encoded (":" too, so no segment reads as a scheme), and leading
// slashes are dropped so the reference stays relative.
func LocationURI(loc string) string {
	const hex = "0123456789ABCDEF"
	loc = strings.TrimLeft(strings.ReplaceAll(loc, `\`, "/"), "/")
	var b strings.Builder
	for i := 0; i < len(loc); i++ {
		c := loc[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-._~/!$&'()*+,;=@", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// sarifText makes a scanned string safe for SARIF consumers that print
// messages in CI logs and annotations: no raw CR, LF or control bytes.
func sarifText(s string) string { return Clean(s) }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
