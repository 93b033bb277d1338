// Package signatures loads romscan's rules and catalogues, which are data
// embedded from this folder: harvesting sources and sinks, endpoint noise
// filters, permission classes, ranking weights, YARA rules (yara/*.yar),
// third-party trackers, OEM telemetry services and watchlists. Every catalogue is
// validated on load and its examples are tested.
package signatures

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/netip"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/romscan/romscan/finding"
)

//go:embed catalog/*.yaml yara/*.yar
var embedded embed.FS

// APIEntry is one harvesting source or exfiltration sink.
type APIEntry struct {
	ID         string   `yaml:"id"`
	Kind       string   `yaml:"kind"` // source | sink | marker
	Category   string   `yaml:"category"`
	Severity   string   `yaml:"severity"`
	Confidence string   `yaml:"confidence"`
	Permission string   `yaml:"permission"`
	Title      string   `yaml:"title"`
	Methods    []string `yaml:"methods"` // "Lclass;->name"
	Fields     []string `yaml:"fields"`  // "Lclass;->NAME"
	Strings    []string `yaml:"strings"` // string constant prefixes
	References []string `yaml:"references"`
	Examples   Examples `yaml:"examples"`

	Sev  finding.Severity   `yaml:"-"`
	Conf finding.Confidence `yaml:"-"`
}

// Examples are strings an entry must and must not match; a test runs them.
type Examples struct {
	Match   []string `yaml:"match"`
	NoMatch []string `yaml:"nomatch"`
}

// IsSource says whether the entry is a data source.
func (e *APIEntry) IsSource() bool { return e.Kind == "source" }

// IsMarker says whether the entry only marks what code does (no finding).
func (e *APIEntry) IsMarker() bool { return e.Kind == "marker" }

// SourcesByMethodName maps the simple name of every source method that is
// distinctive enough to search for as a string (at least 8 characters) to
// its entry, for sources called through reflection.
func (a *APIs) SourcesByMethodName() map[string]NamedSource {
	out := map[string]NamedSource{}
	for _, e := range a.Entries {
		if !e.IsSource() {
			continue
		}
		for _, m := range e.Methods {
			if i := strings.Index(m, "->"); i >= 0 && len(m)-i-2 >= 8 {
				if _, dup := out[m[i+2:]]; !dup {
					out[m[i+2:]] = NamedSource{Entry: e, Method: m}
				}
			}
		}
	}
	return out
}

// NamedSource is a source method found by its simple name.
type NamedSource struct {
	Entry  *APIEntry
	Method string // "Lclass;->name"
}

type apiFile struct {
	Version         int        `yaml:"version"`
	LibraryPrefixes []string   `yaml:"library_prefixes"`
	Entries         []APIEntry `yaml:"entries"`
}

// APIs indexes the harvesting catalogue for fast lookups by call target,
// field reference and string prefix.
type APIs struct {
	Entries []*APIEntry
	// LibraryPrefixes are class-name prefixes of common libraries.
	LibraryPrefixes []string
	byMethod        map[string]*APIEntry // "Lclass;->name"
	// byClass holds byMethod split at the first "->" (class, then name),
	// so MethodParts, called for every call target of every app, looks
	// up without building a key.
	byClass  map[string]map[string]*APIEntry
	byField  map[string]*APIEntry // "Lclass;->NAME"
	prefixes []stringPrefix
}

type stringPrefix struct {
	prefix string
	entry  *APIEntry
}

// Method finds the entry for an invoke target given as "Lclass;->name(desc)ret"
// or "Lclass;->name".
func (a *APIs) Method(ref string) *APIEntry {
	if i := strings.IndexByte(ref, '('); i >= 0 {
		ref = ref[:i]
	}
	return a.byMethod[ref]
}

// MethodParts is Method for a target already split into class and name,
// avoiding a string join on the hot path.
func (a *APIs) MethodParts(class, name string) *APIEntry {
	if len(a.byMethod) == 0 {
		return nil
	}
	if strings.Contains(class, "->") {
		// Not a type descriptor: the split lookup could differ from
		// the joined one.
		return a.byMethod[class+"->"+name]
	}
	return a.byClass[class][name]
}

// Field finds the entry for a static field read "Lclass;->NAME[:type]".
func (a *APIs) Field(ref string) *APIEntry {
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		ref = ref[:i]
	}
	return a.byField[ref]
}

// String finds the entry whose string prefix s starts with.
func (a *APIs) String(s string) *APIEntry {
	for _, p := range a.prefixes {
		if strings.HasPrefix(s, p.prefix) {
			return p.entry
		}
	}
	return nil
}

// IsLibrary says whether a class (descriptor form) belongs to a common library.
func (a *APIs) IsLibrary(class string) bool {
	for _, p := range a.LibraryPrefixes {
		if strings.HasPrefix(class, p) {
			return true
		}
	}
	return false
}

// Match runs Method, Field and String in turn; the examples use it.
func (a *APIs) Match(s string) *APIEntry {
	if strings.Contains(s, "->") {
		if strings.Contains(s, "(") {
			return a.Method(s)
		}
		if e := a.Field(s); e != nil {
			return e
		}
		return a.Method(s)
	}
	return a.String(s)
}

// EndpointFilter holds what endpoint-looking strings to drop as noise.
type EndpointFilter struct {
	IgnoreHosts        []string `yaml:"ignore_hosts"`
	IgnoreHostSuffixes []string `yaml:"ignore_host_suffixes"`
	IgnoreURLPrefixes  []string `yaml:"ignore_url_prefixes"`
	IgnoreURLContains  []string `yaml:"ignore_url_contains"`
	IgnoreIPs          []string `yaml:"ignore_ips"`
	Examples           struct {
		Endpoint []string `yaml:"endpoint"`
		Ignored  []string `yaml:"ignored"`
	} `yaml:"examples"`

	hosts    map[string]bool
	prefixes []netip.Prefix
}

// IgnoreHost says whether a host (name or IP literal) is noise.
func (f *EndpointFilter) IgnoreHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if f.hosts[host] {
		return true
	}
	for _, s := range f.IgnoreHostSuffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		for _, p := range f.prefixes {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
	}
	return false
}

// IgnoreURL says whether a URL is noise by its prefix.
func (f *EndpointFilter) IgnoreURL(u string) bool {
	for _, p := range f.IgnoreURLPrefixes {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	for _, p := range f.IgnoreURLContains {
		if strings.Contains(u, p) {
			return true
		}
	}
	return false
}

// PermissionClass is what requesting a permission means.
type PermissionClass struct {
	Category string `yaml:"category"`
	Severity string `yaml:"severity"`
	Sev      finding.Severity
}

// Permissions holds the dangerous and privileged permission classes.
type Permissions struct {
	Dangerous  map[string]*PermissionClass `yaml:"dangerous"`
	Privileged map[string]*PermissionClass `yaml:"privileged"`
}

// Weights are the ranking weights.
type Weights struct {
	Severity     map[string]float64 `yaml:"severity"`
	Confidence   map[string]float64 `yaml:"confidence"`
	Context      map[string]float64 `yaml:"context"`
	Combinations map[string]float64 `yaml:"combinations"`
}

// SeverityWeight returns the weight of s.
func (w *Weights) SeverityWeight(s finding.Severity) float64 { return w.Severity[s.String()] }

// ConfidenceWeight returns the weight of c.
func (w *Weights) ConfidenceWeight(c finding.Confidence) float64 { return w.Confidence[c.String()] }

// Set is every catalogue, loaded and validated.
type Set struct {
	APIs        *APIs
	Endpoints   *EndpointFilter
	Permissions *Permissions
	Weights     *Weights
	// Catalogue holds the trackers, telemetry services and watchlists.
	Catalogue Catalogue
	// Yara are the YARA rule files, compiled by the yara analyzer.
	Yara []YaraSource
	// Version identifies the rule bundle: a hash of every file's bytes.
	Version string

	disabled map[string]bool
	ids      map[string]string // catalogue id → where it was defined
}

// Load reads the embedded catalogues.
func Load() (*Set, error) { return LoadFS(embedded) }

// LoadFS reads catalogues from fsys (the embedded set or a user folder laid
// out the same way, with a catalog/ folder).
func LoadFS(fsys fs.FS) (*Set, error) {
	h := sha256.New()
	read := func(name string, v any) error {
		b, err := fs.ReadFile(fsys, "catalog/"+name)
		if err != nil {
			return fmt.Errorf("signatures: read %s: %w", name, err)
		}
		h.Write([]byte(name))
		h.Write(b)
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("signatures: parse %s: %w", name, err)
		}
		return nil
	}
	s := &Set{}
	var af apiFile
	if err := read("apis.yaml", &af); err != nil {
		return nil, err
	}
	apis, err := indexAPIs(af.Entries)
	if err != nil {
		return nil, err
	}
	apis.LibraryPrefixes = af.LibraryPrefixes
	s.APIs = apis
	s.Endpoints = &EndpointFilter{}
	if err := read("endpoints.yaml", &struct {
		Version         int `yaml:"version"`
		*EndpointFilter `yaml:",inline"`
	}{EndpointFilter: s.Endpoints}); err != nil {
		return nil, err
	}
	if err := s.Endpoints.compile(); err != nil {
		return nil, err
	}
	s.Permissions = &Permissions{}
	if err := read("permissions.yaml", &struct {
		Version      int `yaml:"version"`
		*Permissions `yaml:",inline"`
	}{Permissions: s.Permissions}); err != nil {
		return nil, err
	}
	for _, m := range []map[string]*PermissionClass{s.Permissions.Dangerous, s.Permissions.Privileged} {
		for name, c := range m {
			sev, err := finding.ParseSeverity(c.Severity)
			if err != nil {
				return nil, fmt.Errorf("signatures: permissions.yaml: %s: %w", name, err)
			}
			c.Sev = sev
		}
	}
	s.Weights = &Weights{}
	if err := read("weights.yaml", &struct {
		Version  int `yaml:"version"`
		*Weights `yaml:",inline"`
	}{Weights: s.Weights}); err != nil {
		return nil, err
	}
	// The newer catalogues are optional in a folder, so a folder with only
	// the four files above still loads.
	if err := s.loadExtra(fsys, "", func(name string, b []byte) {
		h.Write([]byte(name))
		h.Write(b)
	}); err != nil {
		return nil, err
	}
	s.Version = hex.EncodeToString(h.Sum(nil))[:16]
	return s, nil
}

func indexAPIs(entries []APIEntry) (*APIs, error) {
	a := &APIs{byMethod: map[string]*APIEntry{}, byClass: map[string]map[string]*APIEntry{}, byField: map[string]*APIEntry{}}
	seen := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		where := fmt.Sprintf("apis.yaml entry %d (%s)", i, e.ID)
		if e.ID == "" || seen[e.ID] {
			return nil, fmt.Errorf("signatures: %s: missing or duplicate id", where)
		}
		seen[e.ID] = true
		if e.Kind != "source" && e.Kind != "sink" && e.Kind != "marker" {
			return nil, fmt.Errorf("signatures: %s: kind %q is not source, sink or marker", where, e.Kind)
		}
		var err error
		if e.Sev, err = finding.ParseSeverity(e.Severity); err != nil {
			return nil, fmt.Errorf("signatures: %s: %w", where, err)
		}
		if e.Conf, err = finding.ParseConfidence(e.Confidence); err != nil {
			return nil, fmt.Errorf("signatures: %s: %w", where, err)
		}
		if e.Title == "" || len(e.References) == 0 {
			return nil, fmt.Errorf("signatures: %s: needs a title and a reference", where)
		}
		for _, m := range e.Methods {
			if !strings.HasPrefix(m, "L") || !strings.Contains(m, ";->") || strings.Contains(m, "(") {
				return nil, fmt.Errorf("signatures: %s: method %q is not of the form Lclass;->name", where, m)
			}
			if prev := a.byMethod[m]; prev != nil {
				return nil, fmt.Errorf("signatures: %s: method %q already in %s", where, m, prev.ID)
			}
			a.byMethod[m] = e
			class, name, _ := strings.Cut(m, "->")
			if a.byClass[class] == nil {
				a.byClass[class] = map[string]*APIEntry{}
			}
			a.byClass[class][name] = e
		}
		for _, f := range e.Fields {
			if !strings.HasPrefix(f, "L") || !strings.Contains(f, ";->") {
				return nil, fmt.Errorf("signatures: %s: field %q is not of the form Lclass;->NAME", where, f)
			}
			a.byField[f] = e
		}
		for _, p := range e.Strings {
			if p == "" {
				return nil, fmt.Errorf("signatures: %s: empty string prefix", where)
			}
			a.prefixes = append(a.prefixes, stringPrefix{p, e})
		}
		a.Entries = append(a.Entries, e)
	}
	// Longest prefix first, so the most specific entry wins.
	sort.SliceStable(a.prefixes, func(i, j int) bool { return len(a.prefixes[i].prefix) > len(a.prefixes[j].prefix) })
	return a, nil
}

func (f *EndpointFilter) compile() error {
	f.hosts = map[string]bool{}
	for _, h := range f.IgnoreHosts {
		f.hosts[strings.ToLower(h)] = true
	}
	for _, c := range f.IgnoreIPs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return fmt.Errorf("signatures: endpoints.yaml: bad CIDR %q: %w", c, err)
		}
		f.prefixes = append(f.prefixes, p)
	}
	return nil
}
