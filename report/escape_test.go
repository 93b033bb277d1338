package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/romscan/romscan/finding"
	"github.com/romscan/romscan/report"
)

// hostileReport holds one finding whose every string carries ANSI
// escapes, CR/LF (a forged "::error::" workflow command on its own line),
// bidi overrides and markup.
func hostileReport() *report.Report {
	evil := "x\x1b[31mRED\x1b[0m\r\n::error file=a::forged\u202e<b>|`tick`|</b>"
	f := finding.Finding{
		RuleID: "test.hostile", Title: "Title " + evil, Category: "cat" + evil, Severity: finding.High,
		Package: "pkg" + evil, Description: "Desc " + evil,
		Evidence:   []finding.Evidence{{Location: "in.apk!" + evil, Class: "C" + evil, Method: "m" + evil, API: "api" + evil, String: "s" + evil, Note: "n" + evil}},
		References: []string{"https://example.org/" + evil}, Tags: []string{"t" + evil},
	}
	f.ComputeFingerprint()
	r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: report.Tool{Name: "romscan", Version: "t"},
		Apps:     []report.App{{Package: "pkg" + evil, Label: "L" + evil, Location: "in.apk", MaxSeverity: "high", Findings: 1, Score: 1, Endpoints: []string{evil}}},
		Findings: []finding.Finding{f},
		Errors:   []report.FileError{{Location: "e" + evil, Error: "err" + evil}},
	}
	r.Summarise()
	return r
}

// rawControl returns the first control character (other than the
// layout newlines of the format itself, which are allowed in between
// records) found in s, or -1.
func rawControl(s string) rune {
	for _, r := range s {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) {
			return r
		}
	}
	return -1
}

// TestSARIFMessagesAreSafe decodes the SARIF log and checks that no string
// in it holds a control character, a CR or LF, or a bidi override: CI
// systems print messages and annotations from these strings.
func TestSARIFMessagesAreSafe(t *testing.T) {
	out := render(t, report.SARIF{}, hostileReport())
	var tree any
	if err := json.Unmarshal(out, &tree); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path+"[]", c)
			}
		case string:
			if path == ".runs[].newlineSequences[]" {
				return // the spec's own ["\r\n", "\n"], if ever written
			}
			layout := strings.Contains(path, ".help.") // multi-line help text is ours
			for _, r := range v {
				if layout && r == '\n' {
					continue
				}
				if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) {
					t.Errorf("%s holds raw %U: %q", path, r, v)
					return
				}
			}
		}
	}
	walk("", tree)
	if !bytes.Contains(out, []byte(`\\u001b[31mRED`)) {
		t.Error("the ANSI escape should stay visible as text (\\u001b)")
	}
}

// TestMarkdownIsSafe checks the Markdown has no raw control characters, no
// line that starts a forged workflow command, no live HTML, and that every
// table row keeps its column count.
func TestMarkdownIsSafe(t *testing.T) {
	out := string(render(t, report.Markdown{}, hostileReport()))
	if r := rawControl(out); r >= 0 {
		t.Errorf("markdown holds raw %U", r)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "::") {
			t.Errorf("a scanned string started a line: %q", line)
		}
		if strings.Contains(stripCodeSpans(line), "<b>") {
			t.Errorf("live HTML in %q", line)
		}
		if strings.HasPrefix(line, "| high |") {
			// 6 columns: 7 unescaped pipes.
			n := strings.Count(line, "|") - strings.Count(line, `\|`)
			if n != 7 {
				t.Errorf("row has %d cell separators, want 7: %q", n, line)
			}
		}
	}
}

// TestTableAndHTMLAreSafe checks the terminal table and the HTML page.
func TestTableAndHTMLAreSafe(t *testing.T) {
	table := string(render(t, report.Table{Options: report.Options{MinSeverity: finding.Info}}, hostileReport()))
	if r := rawControl(table); r >= 0 {
		t.Errorf("table holds raw %U", r)
	}
	page := string(render(t, report.HTML{}, hostileReport()))
	if r := rawControl(strings.NewReplacer("\t", "").Replace(page)); r >= 0 {
		t.Errorf("html holds raw %U", r)
	}
	if strings.Contains(page, "<b>|") {
		t.Error("scanned markup reached the HTML unescaped")
	}
}

// stripCodeSpans removes Markdown code spans, whose content is shown
// literally, from one line.
func stripCodeSpans(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '`' {
			b.WriteByte(line[i])
			i++
			continue
		}
		n := 0
		for i+n < len(line) && line[i+n] == '`' {
			n++
		}
		fence := strings.Repeat("`", n)
		rest := line[i+n:]
		end := -1
		for off := 0; off < len(rest); {
			j := strings.Index(rest[off:], fence)
			if j < 0 {
				break
			}
			j += off
			if j+n < len(rest) && rest[j+n] == '`' {
				off = j + n
				for off < len(rest) && rest[off] == '`' {
					off++
				}
				continue
			}
			end = j
			break
		}
		if end < 0 {
			b.WriteString(line[i:])
			break
		}
		i += n + end + n
	}
	return b.String()
}

// TestMarkdownSizeLimit renders a report with thousands of long findings:
// the Markdown stays under MarkdownMaxBytes and says what it left out.
func TestMarkdownSizeLimit(t *testing.T) {
	r := &report.Report{SchemaVersion: report.SchemaVersion}
	for i := 0; i < 5000; i++ {
		f := finding.Finding{RuleID: "endpoint.url", Title: "Hardcoded URL " + strings.Repeat("x", 200), Severity: finding.Medium,
			Package: "com.example", Evidence: []finding.Evidence{{Location: "a.apk!classes.dex", String: strings.Repeat("|`<", 100)}}}
		f.ComputeFingerprint()
		r.Findings = append(r.Findings, f)
	}
	r.Summarise()
	out := render(t, report.Markdown{}, r)
	if len(out) > report.MarkdownMaxBytes {
		t.Errorf("markdown is %d bytes, over %d", len(out), report.MarkdownMaxBytes)
	}
	if !bytes.Contains(out, []byte("more findings are not shown here")) {
		t.Error("markdown does not say findings were left out")
	}
}
