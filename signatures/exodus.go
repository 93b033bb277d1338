package signatures

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// exodusTracker is one tracker of the Exodus Privacy list as published
// ({"trackers": {"<id>": {...}}}).
type exodusTracker struct {
	ID               int      `json:"id"`
	Name             string   `json:"name"`
	CodeSignature    string   `json:"code_signature"`
	NetworkSignature string   `json:"network_signature"`
	Website          string   `json:"website"`
	Categories       []string `json:"categories"`
}

// ImportStats says what an Exodus import did.
type ImportStats struct {
	Trackers      int // entries written
	Skipped       int // trackers with neither a usable code nor network signature
	CodeRegexes   int // code signatures kept as regular expressions (not plain prefixes)
	HostRegexes   int
	NoExamples    int // entries for which no example could be derived
	DroppedRegexp []string
}

var (
	plainClass = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_$]+)*\.?$`)
	plainHost  = regexp.MustCompile(`^\.?[a-z0-9-]+(\.[a-z0-9-]+)+$`)
	slugRe     = regexp.MustCompile(`[^a-z0-9]+`)
)

// maxExodusFile bounds the JSON read (the real list is about 0.6 MB).
const maxExodusFile = 64 << 20

// ImportExodus converts the Exodus Privacy tracker list (its published JSON
// format) to romscan's tracker catalogue format (catalog/trackers.yaml).
// Exodus's code signatures are regular expressions searched in class names;
// plain dotted names become class-name prefixes (anchored at the start of
// the name, where Exodus searches anywhere), the rest stay regular
// expressions. Signatures of 3 characters or fewer are ignored, as Exodus
// does. Network signatures that are plain domains become host patterns (the
// domain and its subdomains), the rest host regular expressions.
func ImportExodus(r io.Reader) ([]byte, ImportStats, error) {
	var st ImportStats
	b, err := io.ReadAll(io.LimitReader(r, maxExodusFile+1))
	if err != nil {
		return nil, st, fmt.Errorf("import exodus: read: %w", err)
	}
	if len(b) > maxExodusFile {
		return nil, st, fmt.Errorf("import exodus: more than %d bytes", maxExodusFile)
	}
	var doc struct {
		Trackers map[string]exodusTracker `json:"trackers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, st, fmt.Errorf("import exodus: parse JSON: %w", err)
	}
	if len(doc.Trackers) == 0 {
		return nil, st, fmt.Errorf("import exodus: no \"trackers\" object with entries")
	}
	keys := make([]string, 0, len(doc.Trackers))
	for k := range doc.Trackers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i])
		b, _ := strconv.Atoi(keys[j])
		return a < b
	})
	var out trackerFile
	out.Version = 1
	seen := map[string]bool{}
	for _, k := range keys {
		x := doc.Trackers[k]
		t := &Tracker{}
		slug := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(x.Name), "-"), "-")
		if slug == "" {
			slug = "tracker"
		}
		t.ID = "tracker.exodus-" + slug
		if seen[t.ID] {
			t.ID = fmt.Sprintf("tracker.exodus-%s-%d", slug, x.ID)
		}
		seen[t.ID] = true
		t.Name = x.Name
		t.Category = strings.ToLower(strings.Join(x.Categories, ", "))
		t.Severity = "low"
		for _, c := range x.Categories {
			if strings.EqualFold(c, "Crash reporting") && len(x.Categories) == 1 {
				t.Severity = "info"
			}
		}
		t.Confidence = "high"
		t.Description = fmt.Sprintf("Exodus Privacy tracker %d (%s), imported.", x.ID, strings.Join(x.Categories, ", "))
		t.References = []string{fmt.Sprintf("https://reports.exodus-privacy.eu.org/en/trackers/%d/", x.ID)}
		if strings.HasPrefix(x.Website, "https://") || strings.HasPrefix(x.Website, "http://") {
			t.References = append(t.References, x.Website)
		}
		if len(x.CodeSignature) > 3 {
			for _, alt := range strings.Split(x.CodeSignature, "|") {
				alt = strings.TrimSpace(alt)
				switch {
				case len(alt) < 4:
				case plainClass.MatchString(alt):
					t.Code = append(t.Code, alt)
				default:
					if _, err := regexp.Compile(alt); err != nil {
						st.DroppedRegexp = append(st.DroppedRegexp, alt)
						continue
					}
					t.CodeRegex = append(t.CodeRegex, alt)
					st.CodeRegexes++
				}
			}
		}
		for _, alt := range strings.Split(x.NetworkSignature, "|") {
			alt = strings.TrimSpace(alt)
			if alt == "" {
				continue
			}
			plain := strings.ReplaceAll(alt, `\.`, ".")
			plain = strings.ReplaceAll(plain, `\-`, "-")
			switch {
			case plainHost.MatchString(plain):
				t.Hosts = append(t.Hosts, strings.TrimPrefix(plain, "."))
			default:
				if _, err := regexp.Compile(alt); err != nil {
					st.DroppedRegexp = append(st.DroppedRegexp, alt)
					continue
				}
				t.HostRegex = append(t.HostRegex, alt)
				st.HostRegexes++
			}
		}
		if len(t.Code)+len(t.CodeRegex)+len(t.Hosts)+len(t.HostRegex) == 0 {
			st.Skipped++
			continue
		}
		if err := t.compile(t.ID); err != nil {
			return nil, st, fmt.Errorf("import exodus: tracker %d (%s): %w", x.ID, x.Name, err)
		}
		t.Examples = deriveExamples(t)
		if len(t.Examples.Match) == 0 {
			st.NoExamples++
		}
		out.Entries = append(out.Entries, t)
	}
	st.Trackers = len(out.Entries)
	y, err := yaml.Marshal(&out)
	if err != nil {
		return nil, st, fmt.Errorf("import exodus: write YAML: %w", err)
	}
	head := "# Converted by `romscan rules import-exodus` from the Exodus Privacy tracker list\n" +
		"# (https://reports.exodus-privacy.eu.org/en/trackers/). Attribute the data to Exodus Privacy.\n"
	return append([]byte(head), y...), st, nil
}

// deriveExamples makes match examples from the signatures themselves and a
// nomatch example no tracker should match, keeping only those that behave.
func deriveExamples(t *Tracker) Examples {
	var ex Examples
	try := func(s string) {
		if matchExample(t, s) && len(ex.Match) < 3 {
			ex.Match = append(ex.Match, s)
		}
	}
	for _, c := range t.Code {
		if strings.HasSuffix(c, ".") {
			try("L" + strings.ReplaceAll(c, ".", "/") + "Example;")
		} else {
			try("L" + strings.ReplaceAll(c, ".", "/") + ";")
		}
	}
	for _, re := range t.CodeRegex {
		lit := strings.NewReplacer(`\.`, ".", ".*", "x", "^", "", "$", "", `\`, "").Replace(re)
		try("L" + strings.ReplaceAll(strings.Trim(lit, "."), ".", "/") + ";")
	}
	for _, h := range t.Hosts {
		try(h)
	}
	for _, re := range t.HostRegex {
		try(strings.NewReplacer(`\.`, ".", ".*", "x", "^", "", "$", "", `\`, "").Replace(re))
	}
	for _, s := range []string{"Lcom/example/app/MainActivity;", "www.example.org"} {
		if !matchExample(t, s) {
			ex.NoMatch = append(ex.NoMatch, s)
		}
	}
	return ex
}
