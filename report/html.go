package report

import (
	"crypto/sha256"
	_ "embed" // the HTML template, style and script
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/netip"
	"net/url"
	"sort"
	"strings"

	"github.com/romscan/romscan/finding"
)

//go:embed html/report.tmpl
var htmlTemplate string

//go:embed html/report.css
var htmlCSS string

//go:embed html/report.js
var htmlJS string

// htmlMaxEvidence is the default bound on evidence rows per finding.
const htmlMaxEvidence = 20

// htmlMaxList bounds permissions and endpoints listed per app card.
const htmlMaxList = 200

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"sev":     func(s finding.Severity) string { return s.String() },
	"short":   shortHash,
	"ev":      evidenceParts,
	"add1":    func(i int) int { return i + 1 },
	"score":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"more":    func(n, limit int) int { return n - limit },
	"clean":   Clean,
	"hasMore": func(n, limit int) bool { return n > limit },
}).Parse(htmlTemplate))

// HTML writes one self-contained page: inline style, script and SVG charts,
// no network requests (a Content-Security-Policy forbids them), every
// scanned string escaped by html/template. It lists every finding (the page
// filters them); Options.MaxEvidence, when set, bounds evidence rows per
// finding (default 20).
type HTML struct{ Options Options }

// Name returns "html".
func (HTML) Name() string { return "html" }

type htmlFinding struct {
	*finding.Finding
	Evidence []finding.Evidence
	MoreEv   int
	Baseline string
}

type htmlSigner struct {
	SHA256, Subject, Schemes string
	Debug                    bool
}

type htmlApp struct {
	App
	SignerRows []htmlSigner // one per certificate, with its schemes
	Rank       int
	ID         string
	Findings   []htmlFinding
	Cats       string
}

type htmlView struct {
	Report     *Report
	CSP        string
	CSS        template.CSS
	JS         template.JS
	Title      string
	Apps       []htmlApp
	Other      []htmlFinding
	Severities []string
	Categories []string
	Charts     []template.HTML
	MaxSev     string
	NewCount   int
}

// Render writes r as an HTML page.
func (h HTML) Render(w io.Writer, r *Report) error {
	v := htmlView{
		Report: r,
		CSS:    template.CSS(htmlCSS),
		JS:     template.JS(htmlJS),
		Title:  "romscan report",
	}
	sum := sha256.Sum256([]byte(htmlJS))
	v.CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	if len(r.Inputs) > 0 {
		var names []string
		for _, in := range r.Inputs {
			names = append(names, in.Name)
		}
		v.Title = "romscan: " + Clean(strings.Join(names, ", "))
	}
	if max, ok := r.MaxSeverity(); ok {
		v.MaxSev = max.String()
	}

	maxEv := htmlMaxEvidence
	if h.Options.MaxEvidence > 0 {
		maxEv = h.Options.MaxEvidence
	}
	// Attach findings to apps: by package, then by location prefix when
	// two apps share a package.
	byPkg := map[string][]int{}
	for i, a := range r.Apps {
		if a.Package != "" {
			byPkg[a.Package] = append(byPkg[a.Package], i)
		}
	}
	appFindings := make([][]htmlFinding, len(r.Apps))
	cats := map[string]bool{}
	for i := range r.Findings {
		f := &r.Findings[i]
		cats[f.Category] = true
		hf := htmlFinding{Finding: f, Evidence: f.Evidence}
		if len(hf.Evidence) > maxEv {
			hf.Evidence, hf.MoreEv = hf.Evidence[:maxEv], len(hf.Evidence)-maxEv
		}
		for _, t := range f.Tags {
			if s, ok := strings.CutPrefix(t, "baseline:"); ok {
				hf.Baseline = s
				if s == "new" {
					v.NewCount++
				}
			}
		}
		idx := -1
		if cands := byPkg[f.Package]; len(cands) > 0 {
			idx = cands[0]
			if len(cands) > 1 && len(f.Evidence) > 0 {
				for _, c := range cands {
					if strings.HasPrefix(f.Evidence[0].Location, r.Apps[c].Location) {
						idx = c
						break
					}
				}
			}
		}
		if idx < 0 {
			v.Other = append(v.Other, hf)
			continue
		}
		appFindings[idx] = append(appFindings[idx], hf)
	}
	for i, a := range r.Apps {
		if len(a.Permissions) > htmlMaxList {
			a.Permissions = a.Permissions[:htmlMaxList]
		}
		if len(a.Endpoints) > htmlMaxList {
			a.Endpoints = a.Endpoints[:htmlMaxList]
		}
		ac := map[string]bool{}
		for _, f := range appFindings[i] {
			ac[Clean(f.Category)] = true
		}
		v.Apps = append(v.Apps, htmlApp{App: a, SignerRows: signerRows(a.Signers), Rank: i + 1, ID: fmt.Sprintf("app-%d", i+1), Findings: appFindings[i], Cats: strings.Join(sortedKeys(ac), " ")})
	}
	for s := finding.Critical; s >= finding.Info; s-- {
		v.Severities = append(v.Severities, s.String())
	}
	v.Categories = sortedKeys(cats)
	v.Charts = htmlCharts(r)
	if err := htmlTmpl.Execute(w, v); err != nil {
		return fmt.Errorf("html: render: %w", err)
	}
	return nil
}

func shortHash(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}

// evidenceParts is one evidence row as labelled parts, for the template.
func evidenceParts(e finding.Evidence) [][2]string {
	var out [][2]string
	add := func(k, v string) {
		if v != "" {
			out = append(out, [2]string{k, Clean(v)})
		}
	}
	add("at", e.Location)
	if e.Class != "" || e.Method != "" {
		add("in", e.Class+"->"+e.Method)
	}
	add("calls", e.API)
	add("string", e.String)
	add("note", e.Note)
	return out
}

// Severity colours, shared by the charts and the stylesheet.
var sevColor = map[string]string{
	"critical": "#7f1d1d",
	"high":     "#dc2626",
	"medium":   "#ea580c",
	"low":      "#ca8a04",
	"info":     "#64748b",
}

type bar struct {
	Label string
	Value float64
	Text  string
	Color string
}

func htmlCharts(r *Report) []template.HTML {
	var charts []template.HTML
	var sevBars []bar
	for s := finding.Critical; s >= finding.Info; s-- {
		n := r.Summary.BySeverity[s.String()]
		sevBars = append(sevBars, bar{Label: s.String(), Value: float64(n), Text: fmt.Sprint(n), Color: sevColor[s.String()]})
	}
	charts = append(charts, barChart("Findings by severity", sevBars))

	cat := map[string]int{}
	for _, f := range r.Findings {
		cat[f.Category]++
	}
	charts = append(charts, barChart("Findings by category", topCounts(cat, 12, "#2563eb")))

	var appBars []bar
	for _, a := range r.Apps {
		if len(appBars) >= 10 {
			break
		}
		if a.Score <= 0 {
			continue
		}
		appBars = append(appBars, bar{Label: orDefault(a.Package, a.Location), Value: a.Score, Text: fmt.Sprintf("%.1f", a.Score), Color: sevColor[a.MaxSeverity]})
	}
	charts = append(charts, barChart("Top apps by score", appBars))

	hosts := map[string]int{}
	for _, a := range r.Apps {
		seen := map[string]bool{}
		for _, e := range a.Endpoints {
			h := endpointHost(e)
			if h == "" || seen[h] {
				continue
			}
			seen[h] = true
			hosts[h]++
		}
	}
	charts = append(charts, barChart("Endpoint hosts (apps naming them)", topCounts(hosts, 12, "#0d9488")))
	return charts
}

// endpointHost returns the host of a URL-like endpoint, or the endpoint
// itself when it is a bare host name.
func endpointHost(e string) string {
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil || u.Hostname() == "" {
			return ""
		}
		return strings.ToLower(u.Hostname())
	}
	e = strings.ToLower(strings.Trim(e, "."))
	if strings.ContainsAny(e, " /?#@:") || !strings.Contains(e, ".") {
		return ""
	}
	if ip, err := netip.ParseAddr(e); err == nil {
		return ip.String()
	}
	// A host name ends in an alphabetic label and has a non-numeric label
	// before it; version strings ("1.2.4.dev", "2.12.9.2") do not.
	labels := strings.Split(e, ".")
	if strings.Trim(labels[len(labels)-1], "abcdefghijklmnopqrstuvwxyz") != "" {
		return ""
	}
	for _, l := range labels[:len(labels)-1] {
		if strings.Trim(l, "0123456789") != "" {
			return e
		}
	}
	return ""
}

func topCounts(m map[string]int, n int, color string) []bar {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var out []bar
	for i, k := range keys {
		if i >= n {
			break
		}
		out = append(out, bar{Label: k, Value: float64(m[k]), Text: fmt.Sprint(m[k]), Color: color})
	}
	return out
}

// barChart draws a horizontal bar chart as inline SVG. Every label passes
// through Clean and HTML escaping, so the returned markup is safe.
func barChart(title string, bars []bar) template.HTML {
	const (
		width  = 420
		labelW = 170
		rowH   = 22
		top    = 8
	)
	esc := template.HTMLEscapeString
	var b strings.Builder
	height := top + rowH*len(bars) + 8
	if len(bars) == 0 {
		height = 40
	}
	fmt.Fprintf(&b, `<figure class="chart"><figcaption>%s</figcaption>`, esc(title))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, width, height, width, height, esc(title))
	if len(bars) == 0 {
		fmt.Fprintf(&b, `<text x="8" y="24" class="empty">none</text></svg></figure>`)
		return template.HTML(b.String())
	}
	max := 0.0
	for _, br := range bars {
		if br.Value > max {
			max = br.Value
		}
	}
	barSpace := float64(width - labelW - 48)
	for i, br := range bars {
		y := top + i*rowH
		label := Clean(br.Label)
		shown := label
		if r := []rune(shown); len(r) > 24 {
			shown = string(r[:23]) + "…"
		}
		wpx := 0.0
		if max > 0 {
			wpx = br.Value / max * barSpace
		}
		if br.Value > 0 && wpx < 2 {
			wpx = 2
		}
		fmt.Fprintf(&b, `<g><title>%s: %s</title>`, esc(label), esc(br.Text))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" class="lbl">%s</text>`, labelW-6, y+15, esc(shown))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" rx="3" fill="%s"/>`, labelW, y+3, wpx, rowH-6, esc(br.Color))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="val">%s</text></g>`, float64(labelW)+wpx+5, y+15, esc(br.Text))
	}
	b.WriteString(`</svg></figure>`)
	return template.HTML(b.String())
}

// signerRows merges the signer entries of one certificate (an APK signed
// with schemes v1, v2 and v3 lists its certificate three times).
func signerRows(ss []Signer) []htmlSigner {
	var out []htmlSigner
	at := map[string]int{}
	for _, s := range ss {
		i, ok := at[s.SHA256]
		if !ok {
			i = len(out)
			at[s.SHA256] = i
			out = append(out, htmlSigner{SHA256: s.SHA256, Subject: s.Subject})
		}
		if s.Scheme > 0 {
			if out[i].Schemes != "" {
				out[i].Schemes += ", "
			}
			out[i].Schemes += fmt.Sprintf("v%d", s.Scheme)
		}
		out[i].Debug = out[i].Debug || s.Debug
	}
	return out
}
