package signatures

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/romscan/romscan/finding"
)

// Rule is what every catalogue entry shares: a namespaced id, a severity and
// a confidence, a description, public references and examples a test runs.
type Rule struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Category    string   `yaml:"category"`
	Severity    string   `yaml:"severity"`
	Confidence  string   `yaml:"confidence"`
	Description string   `yaml:"description"`
	References  []string `yaml:"references"`
	Examples    Examples `yaml:"examples"`

	Sev  finding.Severity   `yaml:"-"`
	Conf finding.Confidence `yaml:"-"`
	// Source names the file the entry came from ("catalog/trackers.yaml",
	// or a user file), for error messages and `rules list`.
	Source string `yaml:"-"`
}

func (r *Rule) validate(where, prefix string, defSev finding.Severity, defConf finding.Confidence) error {
	if !strings.HasPrefix(r.ID, prefix) || len(r.ID) == len(prefix) {
		return fmt.Errorf("signatures: %s: id %q must start with %q", where, r.ID, prefix)
	}
	if r.Name == "" {
		return fmt.Errorf("signatures: %s: needs a name", where)
	}
	if len(r.References) == 0 {
		return fmt.Errorf("signatures: %s: needs at least one reference", where)
	}
	for _, ref := range r.References {
		if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
			return fmt.Errorf("signatures: %s: reference %q is not a URL", where, ref)
		}
	}
	r.Sev, r.Conf = defSev, defConf
	var err error
	if r.Severity != "" {
		if r.Sev, err = finding.ParseSeverity(r.Severity); err != nil {
			return fmt.Errorf("signatures: %s: %w", where, err)
		}
	}
	if r.Confidence != "" {
		if r.Conf, err = finding.ParseConfidence(r.Confidence); err != nil {
			return fmt.Errorf("signatures: %s: %w", where, err)
		}
	}
	return nil
}

// Tracker is a third-party SDK known by its code signature (class-name
// prefixes) and its network signature (host names).
type Tracker struct {
	Rule `yaml:",inline"`
	// Code are class-name prefixes in dotted Java form ("com.umeng.").
	Code []string `yaml:"code"`
	// CodeRegex are regular expressions searched in dotted class names
	// (imported Exodus signatures that are not plain prefixes).
	CodeRegex []string `yaml:"code_regex"`
	// Hosts are host patterns (see HostPattern).
	Hosts []string `yaml:"hosts"`
	// HostRegex are regular expressions searched in host names.
	HostRegex []string `yaml:"host_regex"`

	descPrefixes []string
	codeRe       []*regexp.Regexp
	hosts        []*regexp.Regexp
}

// Telemetry is an OEM, carrier or vendor telemetry, advertising or push
// service known by its hosts and address ranges.
type Telemetry struct {
	Rule   `yaml:",inline"`
	Vendor string   `yaml:"vendor"`
	Hosts  []string `yaml:"hosts"`
	CIDRs  []string `yaml:"cidrs"`

	hosts    []*regexp.Regexp
	prefixes []netip.Prefix
}

// Watch is a watchlist entry: address ranges, domains or countries whose
// appearance as an endpoint is worth a finding on its own.
type Watch struct {
	Rule      `yaml:",inline"`
	CIDRs     []string `yaml:"cidrs"`
	Domains   []string `yaml:"domains"`
	Countries []string `yaml:"countries"` // ISO 3166-1 alpha-2, matched on attributed IP literals

	hosts     []*regexp.Regexp
	prefixes  []netip.Prefix
	countries map[string]bool
}

// Catalogue holds the tracker, telemetry and watchlist entries.
type Catalogue struct {
	Trackers   []*Tracker
	Telemetry  []*Telemetry
	Watchlists []*Watch
}

// hostLabel is one DNS label in a pattern's wildcard.
const hostLabel = `[a-z0-9_-]+\.`

// HostPattern compiles a host pattern: "tracking.miui.com" matches that host
// and its subdomains; "*" stands for zero or more labels, so
// "data.mistat.*.xiaomi.com" matches data.mistat.xiaomi.com and
// data.mistat.intl.xiaomi.com.
func HostPattern(p string) (*regexp.Regexp, error) {
	p = strings.ToLower(strings.TrimSpace(p))
	p = strings.TrimPrefix(p, "*.")
	p = strings.TrimPrefix(p, ".")
	if p == "" || strings.ContainsAny(p, " /:?#") {
		return nil, fmt.Errorf("bad host pattern %q", p)
	}
	var b strings.Builder
	b.WriteString(`^(?:` + hostLabel + `)*`)
	parts := strings.Split(p, ".")
	for i, part := range parts {
		switch {
		case part == "*":
			b.WriteString(`(?:` + hostLabel + `)*`)
			continue
		case part == "" || strings.Contains(part, "*"):
			return nil, fmt.Errorf("bad host pattern %q: a wildcard stands for whole labels", p)
		}
		b.WriteString(regexp.QuoteMeta(part))
		if i < len(parts)-1 {
			b.WriteString(`\.`)
		}
	}
	b.WriteString(`\.?$`)
	return regexp.Compile(b.String())
}

func compileHosts(where string, pats []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range pats {
		re, err := HostPattern(p)
		if err != nil {
			return nil, fmt.Errorf("signatures: %s: %w", where, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func compileCIDRs(where string, cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("signatures: %s: bad CIDR %q: %w", where, c, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func compileRegexps(where string, res []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, s := range res {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("signatures: %s: bad regular expression %q: %w", where, s, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func (t *Tracker) rule() *Rule {
	if t == nil {
		return nil
	}
	return &t.Rule
}

func (t *Tracker) compile(where string) error {
	if err := t.validate(where, "tracker.", finding.Low, finding.HighConfidence); err != nil {
		return err
	}
	if len(t.Code)+len(t.CodeRegex)+len(t.Hosts)+len(t.HostRegex) == 0 {
		return fmt.Errorf("signatures: %s: needs a code or network signature", where)
	}
	for _, c := range t.Code {
		c = strings.TrimSpace(c)
		if len(c) < 4 || strings.ContainsAny(c, "/; ") {
			return fmt.Errorf("signatures: %s: code prefix %q is not a dotted class-name prefix of 4+ characters", where, c)
		}
		t.descPrefixes = append(t.descPrefixes, "L"+strings.ReplaceAll(c, ".", "/"))
	}
	var err error
	if t.codeRe, err = compileRegexps(where, t.CodeRegex); err != nil {
		return err
	}
	if t.hosts, err = compileHosts(where, t.Hosts); err != nil {
		return err
	}
	hre, err := compileRegexps(where, t.HostRegex)
	if err != nil {
		return err
	}
	t.hosts = append(t.hosts, hre...)
	return nil
}

// MatchClass says whether a class (descriptor "Lcom/foo/Bar;" or dotted
// "com.foo.Bar") carries the tracker's code signature.
func (t *Tracker) MatchClass(class string) bool {
	desc, dotted := class, class
	if strings.HasPrefix(class, "L") && strings.HasSuffix(class, ";") {
		dotted = strings.ReplaceAll(class[1:len(class)-1], "/", ".")
	} else {
		desc = "L" + strings.ReplaceAll(class, ".", "/") + ";"
	}
	for _, p := range t.descPrefixes {
		if strings.HasPrefix(desc, p) {
			return true
		}
	}
	for _, re := range t.codeRe {
		if re.MatchString(dotted) {
			return true
		}
	}
	return false
}

// HasCode says whether the tracker has a code signature.
func (t *Tracker) HasCode() bool { return len(t.descPrefixes)+len(t.codeRe) > 0 }

// MatchHost says whether a host name belongs to the tracker.
func (t *Tracker) MatchHost(host string) bool { return matchHosts(t.hosts, host) }

func matchHosts(res []*regexp.Regexp, host string) bool {
	host = strings.ToLower(host)
	for _, re := range res {
		if re.MatchString(host) {
			return true
		}
	}
	return false
}

func matchAddr(prefixes []netip.Prefix, host string) bool {
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func (t *Telemetry) rule() *Rule {
	if t == nil {
		return nil
	}
	return &t.Rule
}

func (t *Telemetry) compile(where string) error {
	if err := t.validate(where, "telemetry.", finding.Medium, finding.HighConfidence); err != nil {
		return err
	}
	if len(t.Hosts)+len(t.CIDRs) == 0 {
		return fmt.Errorf("signatures: %s: needs hosts or cidrs", where)
	}
	var err error
	if t.hosts, err = compileHosts(where, t.Hosts); err != nil {
		return err
	}
	t.prefixes, err = compileCIDRs(where, t.CIDRs)
	return err
}

// Match says whether a host name or IP literal belongs to the service.
func (t *Telemetry) Match(host string) bool {
	return matchHosts(t.hosts, host) || matchAddr(t.prefixes, host)
}

func (w *Watch) compile(where string) error {
	if err := w.validate(where, "watchlist.", finding.High, finding.MediumConfidence); err != nil {
		return err
	}
	if len(w.CIDRs)+len(w.Domains)+len(w.Countries) == 0 {
		return fmt.Errorf("signatures: %s: needs cidrs, domains or countries", where)
	}
	var err error
	if w.hosts, err = compileHosts(where, w.Domains); err != nil {
		return err
	}
	if w.prefixes, err = compileCIDRs(where, w.CIDRs); err != nil {
		return err
	}
	w.countries = map[string]bool{}
	for _, c := range w.Countries {
		c = strings.ToUpper(strings.TrimSpace(c))
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			return fmt.Errorf("signatures: %s: country %q is not an ISO 3166-1 alpha-2 code", where, c)
		}
		w.countries[c] = true
	}
	return nil
}

// Match says whether an endpoint host (name or IP literal), with the country
// its address is attributed to ("" when unknown), is on the watchlist. It
// returns what matched ("cidr 42.62.48.0/24", "domain", "country CN").
func (w *Watch) Match(host, country string) (string, bool) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		ip = ip.Unmap()
		for _, p := range w.prefixes {
			if p.Contains(ip) {
				return "address range " + p.String(), true
			}
		}
	} else if matchHosts(w.hosts, host) {
		return "domain", true
	}
	if country != "" && w.countries[strings.ToUpper(country)] {
		return "country " + strings.ToUpper(country), true
	}
	return "", false
}

// TrackersForClass returns the trackers whose code signature a class carries.
func (c *Catalogue) TrackersForClass(class string) []*Tracker {
	var out []*Tracker
	for _, t := range c.Trackers {
		if t.MatchClass(class) {
			out = append(out, t)
		}
	}
	return out
}

// TrackersForHost returns the trackers a host belongs to.
func (c *Catalogue) TrackersForHost(host string) []*Tracker {
	var out []*Tracker
	for _, t := range c.Trackers {
		if t.MatchHost(host) {
			out = append(out, t)
		}
	}
	return out
}

// TelemetryForHost returns the telemetry services a host or IP belongs to.
func (c *Catalogue) TelemetryForHost(host string) []*Telemetry {
	var out []*Telemetry
	for _, t := range c.Telemetry {
		if t.Match(host) {
			out = append(out, t)
		}
	}
	return out
}

// exampleHost splits an example into a class or host, and a country
// ("CN:1.2.3.4" or "country:CN").
func exampleParts(s string) (host, country string) {
	if c, ok := strings.CutPrefix(s, "country:"); ok {
		return "", c
	}
	if len(s) > 3 && s[2] == ':' && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' {
		return s[3:], s[:2]
	}
	return s, ""
}

// matchExample runs one example string against an entry: class descriptors
// ("Lcom/foo/Bar;") against code signatures, anything else as a host.
func matchExample(e any, s string) bool {
	switch x := e.(type) {
	case *Tracker:
		if strings.HasPrefix(s, "L") && strings.HasSuffix(s, ";") {
			return x.MatchClass(s)
		}
		return x.MatchHost(s)
	case *Telemetry:
		return x.Match(s)
	case *Watch:
		host, country := exampleParts(s)
		_, ok := x.Match(host, country)
		return ok
	}
	return false
}

// ExampleFailure is an example that did not behave as its entry says.
type ExampleFailure struct {
	ID      string
	Source  string
	Example string
	Want    bool // true: should match
}

func (f ExampleFailure) String() string {
	if f.Want {
		return fmt.Sprintf("%s (%s): example %q does not match", f.ID, f.Source, f.Example)
	}
	return fmt.Sprintf("%s (%s): nomatch example %q matches", f.ID, f.Source, f.Example)
}

// RunExamples runs every catalogue entry's examples (trackers, telemetry,
// watchlists and the harvesting APIs) and returns what failed. An entry
// without a match example is a failure too.
func (s *Set) RunExamples() []ExampleFailure {
	var out []ExampleFailure
	check := func(r *Rule, e any) {
		if len(r.Examples.Match) == 0 {
			out = append(out, ExampleFailure{ID: r.ID, Source: r.Source, Example: "<none>", Want: true})
		}
		for _, m := range r.Examples.Match {
			if !matchExample(e, m) {
				out = append(out, ExampleFailure{ID: r.ID, Source: r.Source, Example: m, Want: true})
			}
		}
		for _, m := range r.Examples.NoMatch {
			if matchExample(e, m) {
				out = append(out, ExampleFailure{ID: r.ID, Source: r.Source, Example: m})
			}
		}
	}
	for _, t := range s.Catalogue.Trackers {
		check(&t.Rule, t)
	}
	for _, t := range s.Catalogue.Telemetry {
		check(&t.Rule, t)
	}
	for _, w := range s.Catalogue.Watchlists {
		check(&w.Rule, w)
	}
	for _, e := range s.APIs.Entries {
		for _, m := range e.Examples.Match {
			if s.APIs.Match(m) != e {
				out = append(out, ExampleFailure{ID: e.ID, Source: "catalog/apis.yaml", Example: m, Want: true})
			}
		}
		for _, m := range e.Examples.NoMatch {
			if s.APIs.Match(m) == e {
				out = append(out, ExampleFailure{ID: e.ID, Source: "catalog/apis.yaml", Example: m})
			}
		}
	}
	return out
}

// RuleIDs returns every rule id the catalogues define, sorted.
func (s *Set) RuleIDs() []string {
	var ids []string
	for _, e := range s.APIs.Entries {
		ids = append(ids, e.ID)
	}
	for _, t := range s.Catalogue.Trackers {
		ids = append(ids, t.ID)
	}
	for _, t := range s.Catalogue.Telemetry {
		ids = append(ids, t.ID)
	}
	for _, w := range s.Catalogue.Watchlists {
		ids = append(ids, w.ID)
	}
	sort.Strings(ids)
	return ids
}

// Disabled says whether a rule id was disabled (config.yaml `disable:` or
// --disable). A disabled id ending in "*" disables every id with that prefix.
func (s *Set) Disabled(id string) bool {
	if s.disabled[id] {
		return true
	}
	for d := range s.disabled {
		if strings.HasSuffix(d, "*") && strings.HasPrefix(id, strings.TrimSuffix(d, "*")) {
			return true
		}
	}
	return false
}

// Disable disables rule ids; the bundle version changes with them, since
// the output does.
func (s *Set) Disable(ids ...string) {
	if s.disabled == nil {
		s.disabled = map[string]bool{}
	}
	var added []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !s.disabled[id] {
			s.disabled[id] = true
			added = append(added, id)
		}
	}
	if len(added) > 0 && s.Version != "" {
		s.rehash("disable", []byte(strings.Join(added, ",")))
	}
}

// DisabledIDs lists the disabled ids, sorted.
func (s *Set) DisabledIDs() []string {
	out := make([]string, 0, len(s.disabled))
	for id := range s.disabled {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
